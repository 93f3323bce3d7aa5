# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Triplet planning on stamps: clock choice, monotonic stretches, the slop hint."""

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from robodopamine_ros.data.triplets import (CameraStamps, header_stamps_problem, NoTripletsError,
                                            plan_triplets, suggested_slop)

MS = 1_000_000
T0 = 1_700_000_000 * 10**9
TOPICS = ('/front', '/left', '/right')


def cameras(headers, receives=None):
    receives = receives or [T0 + np.arange(len(h)) * 33 * MS + k * MS
                            for k, h in enumerate(headers)]
    return [CameraStamps(t, h, r) for t, h, r in zip(TOPICS, headers, receives)]


def regular(n, period=33 * MS, start=T0, offset=0):
    return start + offset + np.arange(n, dtype=np.int64) * period


def test_regular_cameras_use_header_stamps():
    plan = plan_triplets(cameras([regular(10), regular(10, offset=2 * MS),
                                  regular(10, offset=-3 * MS)]), 0.02)
    assert len(plan) == 10 and plan.clock == 'header' and plan.synchronized_by == 'header'
    np.testing.assert_array_equal(plan.indices, np.tile(np.arange(10)[:, None], (1, 3)))
    np.testing.assert_array_equal(plan.stamps, regular(10))
    assert plan.worst_skew_ns == 5 * MS and plan.warnings == []


@pytest.mark.parametrize('bad', [np.zeros(30, np.int64), np.full(30, T0 + 5),
                                 np.r_[np.zeros(20, np.int64), regular(10)]])
def test_unusable_header_stamps_switch_every_camera_to_receive_time(bad):
    plan = plan_triplets(cameras([regular(30), bad, regular(30)]), 0.02)
    assert len(plan) == 30 and plan.synchronized_by == 'receive' and plan.clock == 'receive'
    assert '/left: ' in plan.warnings[0] and 'receive time' in plan.warnings[0]
    assert np.all(np.diff(plan.stamps) > 0)


def test_header_problem_descriptions():
    assert header_stamps_problem(np.zeros(5, np.int64)) == 'all zero'
    assert header_stamps_problem(np.full(5, 7)) == 'all equal (7 ns)'
    assert header_stamps_problem([0, 0, 0, 5, 6]) == '3 of 5 zero or equal to the one before'
    assert header_stamps_problem([5, 5, 5, 6, 6, 7]) == '3 of 6 zero or equal to the one before'
    assert header_stamps_problem(regular(5)) is None
    assert header_stamps_problem(np.r_[regular(5), regular(5)]) is None  # a loop is usable
    assert header_stamps_problem([7]) is None  # one message: nothing to say


def test_forced_stamps_and_unusable_receive_times():
    plan = plan_triplets(cameras([regular(5)] * 3), 0.02, stamps='receive')
    assert plan.synchronized_by == 'receive' and 'stamps: receive' in plan.warnings[0]
    zeros = [np.zeros(5, np.int64)] * 3
    with pytest.raises(ValueError, match='bag: no usable stamps: receive times are /front: '
                                         'all equal'):
        plan_triplets(cameras(zeros, [np.full(5, T0)] * 3), 0.02, where='bag')
    forced = plan_triplets(cameras(zeros), 0.02, stamps='header')  # as asked, and said
    assert len(forced) == 1 and forced.dropped == [4, 4, 4]
    assert '/front: 4 messages with a duplicate header stamp dropped' in forced.warnings


def test_a_looped_recording_keeps_every_frame_of_both_loops():
    loop = regular(40)
    headers = [np.r_[loop, loop + k * MS] for k in (0, 1, 2)]
    plan = plan_triplets(cameras(headers), 0.02)
    assert len(plan) == 80 and plan.clock == 'receive' and plan.synchronized_by == 'header'
    assert [s['triplets'] for s in plan.stretches] == [40, 40]
    np.testing.assert_array_equal(plan.indices[:, 0], np.arange(80))
    assert np.all(np.diff(plan.stamps) >= 0)
    assert '/front: header stamps step back 1.287 s at message 40 (clock step or looped '\
        'recording)' in plan.warnings
    assert any('2 monotonic stretches' in w for w in plan.warnings)


def test_a_late_message_is_dropped_not_a_step():
    front = regular(30)
    late = front.copy()
    late[10], late[11] = late[11], late[10]  # reordered (within the tolerance)
    stray = front.copy()
    stray[20] = 0  # a stray zero stamp: late, the next ones are back ahead
    plan = plan_triplets(cameras([front, late, stray]), 0.02)
    assert len(plan) == 29 and len(plan.stretches) == 1 and plan.clock == 'header'
    text = '\n'.join(plan.warnings)
    assert '/left: 1 messages with out-of-order header stamps (reordered)' in text
    assert '/right: 1 messages more than 0.1 s behind' in text


def test_no_triplets_suggests_the_slop_that_would_work():
    # wrists at 15 fps, the right one 30 ms out of phase with the front camera
    headers = [regular(90, 33_333_333), regular(45, 66_666_666),
               regular(45, 66_666_666, offset=30 * MS)]
    with pytest.raises(NoTripletsError, match=r'no synchronized triplets within a slop of 0.02 s'
                                              r'.*about 30.0 ms apart.*try --slop 0.035'):
        plan_triplets(cameras(headers), 0.02)
    assert len(plan_triplets(cameras(headers), suggested_slop(30 * MS))) == 45


def test_cameras_on_different_clocks_suggest_receive_time():
    headers = [regular(10), regular(10, start=5 * 10**9), regular(10)]
    with pytest.raises(NoTripletsError, match='different clocks.*--stamps receive'):
        plan_triplets(cameras(headers), 0.02)
    assert len(plan_triplets(cameras(headers), 0.02, stamps='receive')) == 10


def test_bad_arguments():
    with pytest.raises(ValueError, match='slop must be > 0'):
        plan_triplets(cameras([regular(3)] * 3), 0)
    with pytest.raises(ValueError, match='stamps must be one of'):
        plan_triplets(cameras([regular(3)] * 3), 0.02, stamps='bag')
    with pytest.raises(ValueError, match='camera topics without messages: /left'):
        plan_triplets(cameras([regular(3), regular(0), regular(3)]), 0.02)


# --- properties -----------------------------------------------------------------------------

@st.composite
def recordings(draw):
    """
    Three cameras over 1-4 stretches separated by backward clock steps, with jitter and drops.

    Returns (cameras, expected): expected[k] is the number of instants of stretch k that every
    camera recorded (each instant is synchronizable: jitter stays within slop / 2).
    """
    period, slop = 33 * MS, 0.02
    stretch_lengths = draw(st.lists(st.integers(1, 25), min_size=1, max_size=4))
    # a step back: from the newest stamp by more than 0.1 s + 3 periods (else it is ambiguous
    # with reordering, see the module rules)
    steps_back = draw(st.lists(st.integers(210, 5000), min_size=len(stretch_lengths),
                               max_size=len(stretch_lengths)))
    headers, receives = [[], [], []], [[], [], []]
    expected = []
    start, received = T0, T0
    for n, back in zip(stretch_lengths, steps_back):
        kept = [draw(st.lists(st.booleans(), min_size=n, max_size=n)) for _ in range(3)]
        for c in range(3):  # every camera records the first 4 frames after a step (what tells
            kept[c][:4] = [True] * len(kept[c][:4])  # a step from a late message) and the last
            kept[c][-1] = True  # (else its stamps would not step back at all)
        for k in range(n):
            for c in range(3):
                if not kept[c][k]:
                    continue
                jitter = draw(st.integers(-int(slop * 1e9) // 4, int(slop * 1e9) // 4))
                headers[c].append(start + k * period + jitter)
                receives[c].append(received + k * period + c * MS)
        expected.append(sum(all(kept[c][k] for c in range(3)) for k in range(n)))
        received += n * period
        start += (n - 1) * period - back * MS  # the clock steps back between stretches
    return cameras(headers, receives), expected


@settings(max_examples=60, deadline=None)
@given(recordings())
def test_every_synchronizable_frame_of_every_stretch_is_kept(recording):
    cams, expected = recording
    plan = plan_triplets(cams, 0.02)
    assert [s['triplets'] for s in plan.stretches] == expected
    assert len(plan) == sum(expected)
    # a triplet never mixes stretches, nor instants: its header stamps lie within the slop
    headers = np.stack([c.header[plan.indices[:, k]] for k, c in enumerate(cams)], axis=1)
    assert np.all(headers.max(axis=1) - headers.min(axis=1) <= 20 * MS)
    for k in range(3):  # each message is used at most once, in bag order within a stretch
        assert len(set(plan.indices[:, k].tolist())) == len(plan)
    assert np.all(np.diff(plan.stamps) >= 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=6, max_size=60),
       st.sampled_from(['zero', 'constant']))
def test_unusable_header_stamps_never_drop_frames(gaps, kind):
    receive = T0 + np.cumsum([33 * MS * (1 + g) for g in gaps])
    value = 0 if kind == 'zero' else T0
    cams = [CameraStamps(t, np.full(len(receive), value), receive + k * MS)
            for k, t in enumerate(TOPICS)]
    plan = plan_triplets(cams, 0.02)
    assert len(plan) == len(receive) and plan.synchronized_by == 'receive'


def test_a_gap_of_every_camera_is_one_warning_naming_them():
    """A recording that stalled for a second: one line for the three cameras, not three."""
    stalled = [np.r_[regular(20, offset=k * MS), regular(20, start=T0 + 2 * 10**9 + k * MS)]
               for k in range(3)]
    plan = plan_triplets(cameras(stalled), 0.02)
    gaps = [w for w in plan.warnings if 'no frames' in w]
    assert gaps == [f'/front, /left, /right: no frames for 1.37 s after stamp '
                    f'{T0 + 19 * 33 * MS} ns'], plan.warnings
    # a gap of one camera names that camera; gaps apart in time stay apart
    one = [regular(40), np.r_[regular(10), regular(10, start=T0 + 30 * 33 * MS)], regular(40)]
    one[0] = np.r_[regular(35), regular(5, start=T0 + 60 * 33 * MS)]
    plan = plan_triplets(cameras(one), 0.02)
    assert [w.split(':')[0] for w in plan.warnings if 'no frames' in w] == ['/left', '/front']
