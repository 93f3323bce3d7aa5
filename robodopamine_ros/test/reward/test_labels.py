# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

from hypothesis import given, strategies as st
import numpy as np
import pytest
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.reward.labels import (build_labels, Demonstration, equalized_states,
                                            hop_between, hop_label, LabelConfig)
from robodopamine_ros.reward.progress import incremental_update


def test_equalized_sampling_of_the_real_demo_matches_the_spec_by_hand(example_episode):
    raw = json.loads((example_episode / 'annotated_keyframes.json').read_text())
    # SPEC 2.1 by hand: L = last end - first start, n = L / C, m = round(n / N) >= 1,
    # linspace(start, end, m + 1) rounded, union de-duplicated; progress i / M.
    length = raw[-1]['end_frame_id'] - raw[0]['start_frame_id']
    assert length == 1263 - 8
    m = max(1, round(length / 20 / len(raw)))
    assert m == 4  # round(62.75 / 16) = round(3.92)
    expected = set()
    for segment in raw:
        s, e = segment['start_frame_id'], segment['end_frame_id']
        expected.update(round(s + (e - s) * k / m) for k in range(m + 1))
    expected = sorted(expected)
    assert expected[:5] == [8, 43, 78, 112, 147]  # 42.75 -> 43, 77.5 -> 78 (half to even)

    states = equalized_states([Segment(s['start_frame_id'], s['end_frame_id'])
                               for s in raw], chunk=20)
    assert list(states.frames) == expected
    assert states.num_intervals == len(expected) - 1 == 64
    assert states.intervals_per_segment == 4
    np.testing.assert_allclose(states.progress, np.arange(65) / 64)
    # every sub-task carries the same progress, however long it takes
    for k, segment in enumerate(raw):
        assert states.progress[states.frames.index(segment['end_frame_id'])] == (k + 1) / 16


def test_short_segments_get_at_least_one_interval():
    states = equalized_states([Segment(0, 3), Segment(3, 400), Segment(400, 402)], chunk=20)
    # n = 402 / 20 = 20.1, m = round(20.1 / 3) = 7 -> short segments collapse duplicates
    assert states.frames[0] == 0 and states.frames[-1] == 402
    assert len(set(states.frames)) == len(states.frames)
    one = equalized_states([Segment(0, 10), Segment(10, 20)], chunk=20)
    assert one.intervals_per_segment == 1 and one.frames == (0, 10, 20)


def test_dense_progress_is_piecewise_linear():
    states = equalized_states([Segment(10, 30), Segment(30, 50)], chunk=20)
    assert states.frames == (10, 30, 50)
    np.testing.assert_allclose(states.dense_progress([0, 10, 20, 30, 45, 50, 99]),
                               [0, 0, 0.25, 0.5, 0.875, 1, 1])


def test_hop_label_cases():
    assert hop_label(0, 64, 64) == 1.0
    assert hop_label(16, 40, 64) == 24 / 48
    assert hop_label(40, 16, 64) == -24 / 40
    assert hop_label(64, 0, 64) == -1.0
    assert hop_label(5, 5, 64) == 0.0
    with pytest.raises(ValueError):
        hop_label(0, 65, 64)


@given(st.integers(1, 200).flatmap(
    lambda m: st.tuples(st.just(m), st.integers(0, m), st.integers(0, m))))
def test_hop_label_then_progress_update_returns_the_after_state(case):
    m, p, q = case
    hop = hop_label(p, q, m)
    assert -1.0 <= hop <= 1.0
    assert incremental_update(p / m, hop) == pytest.approx(q / m, abs=1e-12)
    assert hop_between(p / m, q / m) == pytest.approx(hop, abs=1e-12)


@pytest.fixture(scope='module')
def real_demo(example_episode):
    from robodopamine_ros.commands.labels import load_demonstration
    return load_demonstration(example_episode)


def test_real_demo_demonstration(real_demo):
    assert real_demo.num_frames == 1277
    assert len(real_demo.instructions) == 5 and 'clean the table' in real_demo.instructions


def _all_pairs(m):
    return [(p, q) for p in range(m + 1) for q in range(m + 1) if p != q]


def test_balanced_pairs_fill_hop_bins_equally_then_gap_bins(real_demo):
    labels = build_labels([real_demo], LabelConfig(), seed=3)
    pairs = [s for s in labels.samples if s.kind == 'pair']
    assert len(pairs) == 1000
    frames = labels.states[real_demo.episode_id].frames
    m = len(frames) - 1
    # hop labels are the SPEC rule applied to the state indices
    index = {f: i for i, f in enumerate(frames)}
    for s in pairs:
        assert s.hop == hop_label(index[s.before_frame], index[s.after_frame], m)
        assert s.before_progress == index[s.before_frame] / m
    # 25 hop bins: every bin has candidates here, so each gets exactly 1000 / 25
    hop_bin = lambda h: min(int((h + 1) / 2 * 25), 24)  # noqa: E731
    counts = np.bincount([hop_bin(s.hop) for s in pairs], minlength=25)
    assert counts.tolist() == [40] * 25
    # inside a hop bin, gap cells that still had candidates differ by at most one sample
    available = {}
    for p, q in _all_pairs(m):
        h = hop_label(p, q, m)
        cell = (hop_bin(h), min((abs(p - q) - 1) * 4 // m, 3))
        available[cell] = available.get(cell, 0) + 1
    taken = {}
    for s in pairs:
        p, q = index[s.before_frame], index[s.after_frame]
        cell = (hop_bin(s.hop), min((abs(p - q) - 1) * 4 // m, 3))
        taken[cell] = taken.get(cell, 0) + 1
    for h in range(25):
        cells = [(g, taken.get((h, g), 0), available.get((h, g), 0)) for g in range(4)]
        top = max(t for _, t, _ in cells)
        for g, t, a in cells:
            assert t == a or t >= top - 1, f'hop bin {h} gap bin {g}: {cells}'
    assert len({(s.before_frame, s.after_frame) for s in pairs}) == 1000  # no duplicates


def test_zero_hop_anchors(real_demo):
    labels = build_labels([real_demo], LabelConfig(), seed=1)
    frames = labels.states[real_demo.episode_id].frames
    zeros = [s for s in labels.samples if s.kind == 'zero']
    assert len(zeros) == 50  # 5 % of 1000
    for s in zeros:
        b = frames.index(s.before_frame)
        lo = frames[max(b - 1, 0)]
        hi = frames[min(b + 1, len(frames) - 1)]
        window = max(1, int(0.075 * (hi - lo)))
        assert s.hop == 0.0 and s.before_progress == s.after_progress
        assert 0 < abs(s.after_frame - s.before_frame) <= window


def test_deterministic_under_seed(real_demo):
    a = build_labels([real_demo], seed=7).samples
    b = build_labels([real_demo], seed=7).samples
    c = build_labels([real_demo], seed=8).samples
    assert a == b
    assert a != c


def test_reference_swap_and_paraphrases():
    segments = (Segment(0, 100, 'reach'), Segment(100, 200, 'insert'))
    instructions = ('insert the peg', 'put the peg in the hole', 'peg in hole')
    demos = [Demonstration('ep_a', segments, 201, instructions),
             Demonstration('ep_b', segments, 201, instructions)]
    labels = build_labels(demos, LabelConfig(samples_per_episode=400), seed=0)
    swapped = np.mean([s.reference_episode != s.episode_id for s in labels.samples])
    assert 0.70 < swapped < 0.80  # p = 0.75 over 840 samples
    assert {s.reference_episode for s in labels.samples} == {'ep_a', 'ep_b'}
    assert {s.instruction for s in labels.samples} == set(instructions)
    one = build_labels(demos[:1], LabelConfig(samples_per_episode=100), seed=0)
    assert all(s.reference_episode == 'ep_a' for s in one.samples)


def test_bad_label_inputs():
    with pytest.raises(ValueError, match='reference_swap'):
        LabelConfig(reference_swap=1.5)
    with pytest.raises(ValueError, match='chunk'):
        LabelConfig(chunk=0)
    with pytest.raises(ValueError, match='episode ep: segment 0: end_frame_id 300 is past'):
        Demonstration('ep', (Segment(0, 300),), num_frames=100)
    with pytest.raises(ValueError, match='unique'):
        d = Demonstration('ep', (Segment(0, 50),), num_frames=100)
        build_labels([d, d])
