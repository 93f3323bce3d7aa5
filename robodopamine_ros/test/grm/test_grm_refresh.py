# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The GRM refreshed on the robot's own labelled episodes: targets, the held-out check, the swap.

The task: a square slides across the three views (test_compact_grm.sliding_episode). A failure
the one-shot GRM cannot tell from a success: the same slide with the square dimmed. The GRM
adapted on the demonstration reads both ends as done, so its detector fires on the failures.
"""

import json
import shutil

import numpy as np
import pytest
from robodopamine_ros.data.online_episodes import EpisodeOutcome, OnlineEpisode
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.adapt_compact import adapt_compact, CompactTrainConfig
from robodopamine_ros.grm.compact import CompactGRM, FORMAT
from robodopamine_ros.grm.refresh import (accept, demo_case, frame_rate, refresh_grm,
                                          RefreshConfig, replay_detector, split_episodes)
from robodopamine_ros.grm.refresh_targets import episode_targets, TargetRules
from robodopamine_ros.reward.contract import grm_content_hash, grm_terms
from robodopamine_ros.reward.progress import ProgressConfig
from robodopamine_ros.reward.success import ticks_for_hold
from test_compact_grm import sliding_episode
import torch

torch.set_num_threads(1)
TASK = 'slide the block'
TICK_NS = 100_000_000
CHECK = RefreshConfig(success_hold_s=0.5, steps=60, min_episodes=4)


def online_frames(dim, seed, num=40, rest=15):
    """Return a slide (then `rest` frames at rest at its end); dim: a failure that looks done."""
    slide = sliding_episode(num_frames=num, seed=seed)
    frames = np.stack([slide.views[v] for v in VIEWS], axis=1)
    frames = np.concatenate([frames, np.repeat(frames[-1:], rest, axis=0)])
    if dim:
        frames = np.where(frames > 200, 120, frames).astype(np.uint8)
    return frames, np.arange(len(frames), dtype=np.int64) * TICK_NS


@pytest.fixture(scope='module')
def adapted(tmp_path_factory):
    demo = sliding_episode()
    model, _ = adapt_compact(demo, CompactTrainConfig(steps=150, pool=16, eval_every=150))
    folder = tmp_path_factory.mktemp('grm') / 'grm'
    references = (demo.views['front'][0], demo.views['front'][-1])
    model.save(folder, references, extra={'task': TASK})
    return demo, folder, references


def labelled(model, references, labels):
    """Online episodes scored by `model`: labels {id: (dim, outcome how)}."""
    out = []
    for episode_id, (dim, how) in labels.items():
        frames, stamps = online_frames(dim, 10 + episode_id)
        _, progress = replay_detector(model, references, TASK, frames, stamps, CHECK)
        out.append(OnlineEpisode(f'episode_{episode_id}', EpisodeOutcome(
            episode_id, how in ('confirmed', 'operator'), how, detector_success=True), stamps,
            frames, progress.astype(np.float32), np.zeros(len(stamps), bool)))
    return out


def fires(model, references, dim, seed=99):
    return replay_detector(model, references, TASK, *online_frames(dim, seed), CHECK)[0]


def test_a_refresh_on_rejected_false_successes_stops_them_and_is_swapped_in(adapted, tmp_path):
    demo, original, references = adapted
    folder = tmp_path / 'grm'
    shutil.copytree(original, folder)
    model = CompactGRM.load(folder)
    assert fires(model, references, dim=True), 'the one-shot GRM must be fooled to begin with'
    # odd ids and 4: the dimmed slide, the detector's success rejected; 2, 6, 8: true successes
    episodes = labelled(model, references, {
        i: (True, 'rejected') if i % 2 or i == 4 else (False, 'confirmed') for i in range(1, 9)})
    before = grm_content_hash(folder)
    result = refresh_grm(folder, demo, episodes, CHECK)
    assert result.accepted, result.reason
    assert (result.train_episodes, result.heldout_episodes) == (6, 2)   # ids 4 and 8 held out
    assert result.old['false_positives'] == 1 and result.old['true_positives'] == 2
    assert result.corrected_frames > 0 and result.new['balanced_accuracy'] == 1.0
    assert result.train_old['false_positives'] == 4 and result.train_new['recall'] == 1.0
    assert grm_content_hash(folder) != before
    refreshed = CompactGRM.load(folder)
    assert not fires(refreshed, references, dim=True)   # an unseen failure: no longer fooled
    assert fires(refreshed, references, dim=False)      # an unseen success: still detected
    saved = json.loads((folder / 'config.json').read_text())
    assert saved['task'] == TASK and saved['refreshes'][-1]['accepted']


def test_a_refresh_that_checks_worse_keeps_the_grm_byte_for_byte(adapted, tmp_path):
    demo, original, references = adapted
    folder = tmp_path / 'grm'
    shutil.copytree(original, folder)
    model = CompactGRM.load(folder)
    # the training episodes' labels are wrong (true successes marked as failures); the held-out
    # ones (4, 8) are right: the candidate stops firing on successes and fails the check
    episodes = labelled(model, references, {
        i: (False, 'confirmed' if i % 4 == 0 else 'unmarked') for i in range(1, 9)})
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    result = refresh_grm(folder, demo, episodes, CHECK)
    assert not result.accepted and 'kept the current GRM' in result.reason
    assert result.new['balanced_accuracy'] < result.old['balanced_accuracy']
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files


def test_a_refresh_that_cannot_run_or_fails_keeps_the_grm(adapted, tmp_path):
    from safetensors.torch import load_file, save_file

    demo, original, references = adapted
    folder = tmp_path / 'grm'
    shutil.copytree(original, folder)
    model = CompactGRM.load(folder)
    episodes = labelled(model, references, {i: (False, 'confirmed') for i in (1, 2, 3, 4)})
    few = refresh_grm(folder, demo, episodes, CHECK)
    assert not few.accepted and '3 labelled training episodes, a refresh needs 4' in few.reason
    unheld = refresh_grm(folder, demo, episodes[:3] + labelled(model, references, {
        5: (False, 'unmarked')}), CHECK)
    assert not unheld.accepted and 'no held-out labelled episode' in unheld.reason
    # a refresh that diverges (a learning rate far too high): a non-finite loss, nothing written
    files = {p.name: p.read_bytes() for p in folder.iterdir()}
    more = episodes + labelled(model, references, {5: (False, 'confirmed'),
                                                   6: (False, 'confirmed')})
    broken = refresh_grm(folder, demo, more, RefreshConfig(success_hold_s=0.5, steps=20,
                                                           min_episodes=4, lr=1e38))
    assert not broken.accepted and 'loss is' in broken.reason and 'kept' in broken.reason
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files
    # a damaged model folder is refused by name (the training loop keeps it and logs that)
    weights = load_file(folder / 'model.safetensors')
    save_file({k: v * float('nan') for k, v in weights.items()}, folder / 'model.safetensors',
              metadata={'format': FORMAT})
    with pytest.raises(ValueError, match='model.safetensors: .* hold NaN or inf'):
        refresh_grm(folder, demo, more, CHECK)


def test_the_demonstration_counts_as_a_success_held_at_its_end(adapted):
    demo, _, _ = adapted
    frames, stamps, success = demo_case(demo, RefreshConfig(success_hold_s=1.0))
    # about 30 Hz frames: the end held for a 1 s hold (30 ticks or 31), and one tick more
    assert success and len(stamps) == len(frames)
    assert len(frames) == demo.num_frames + ticks_for_hold(frame_rate(demo.stamps), 1.0) + 1
    assert len(frames) - demo.num_frames in (31, 32)
    assert np.array_equal(frames[-1], frames[demo.num_frames - 1])
    assert np.all(np.diff(stamps) > 0)


def target_episode(success, how, progress, takeovers=()):
    stamps = np.arange(len(progress), dtype=np.int64) * 500_000_000   # a tick every 0.5 s
    flags = np.zeros(len(progress), bool)
    flags[list(takeovers)] = True
    return OnlineEpisode('bag', EpisodeOutcome(1, success, how), stamps,
                         np.zeros((len(progress), 3, 2, 2, 3), np.uint8),
                         np.asarray(progress, np.float32), flags)


def test_the_label_rules_targets():
    rules = TargetRules(failure_margin=0.1, takeover_window_s=1.0, success_tail_s=0.0)
    # a rejected false success: every state capped below the threshold, the hard negatives
    targets, changed = episode_targets(
        target_episode(False, 'rejected', [0.2, 0.5, 0.93, 0.97, 0.98]), rules)
    assert np.allclose(targets, [0.2, 0.5, 0.9, 0.9, 0.9])
    assert changed.tolist() == [False, False, True, True, True]
    # a success the detector missed ends at 1; unlabelled states keep the published progress
    targets, changed = episode_targets(
        target_episode(True, 'operator', [0.1, 0.4, 0.8, 0.85]), rules)
    assert np.allclose(targets, [0.1, 0.4, 0.8, 1.0]) and changed.tolist() == [0, 0, 0, 1]
    # a takeover at frame 4: the second before it (frames 2, 3) may not rise above frame 2
    targets, _ = episode_targets(
        target_episode(True, 'confirmed', [0.1, 0.2, 0.3, 0.6, 0.5, 0.9, 0.97], [4]), rules)
    assert np.allclose(targets, [0.1, 0.2, 0.3, 0.3, 0.5, 0.9, 1.0])
    # the default: a success's last second (its detector's hold; ticks every 0.5 s) is success
    targets, changed = episode_targets(target_episode(True, 'operator', [0.1, 0.4, 0.8, 0.85]))
    assert np.allclose(targets, [0.1, 1.0, 1.0, 1.0]) and changed.tolist() == [0, 1, 1, 1]
    with pytest.raises(ValueError, match="outcome 'detector' is not a label"):
        episode_targets(target_episode(True, 'detector', [0.1, 0.99]), rules)
    with pytest.raises(ValueError, match='failure_margin'):
        TargetRules(failure_margin=0.0)
    with pytest.raises(ValueError, match='success_tail_s'):
        TargetRules(success_tail_s=-1.0)


def test_only_labelled_episodes_are_split_and_ids_divisible_by_the_holdout_are_held_out():
    episodes = [target_episode(how in ('confirmed', 'detector', 'operator'), how, [0.1, 1.0])
                for how in ('confirmed', 'detector', 'unmarked', 'time-limit', 'operator',
                            'rejected')]
    for k, episode in enumerate(episodes):
        episode.outcome.episode_id = k + 1
    train, held = split_episodes(episodes, 3)
    assert [e.outcome.episode_id for e in train] == [1, 5]
    assert [e.outcome.episode_id for e in held] == [3, 6]


def test_the_contract_names_the_familiarity_gate_only_when_it_is_on(tmp_path):
    off = grm_terms('pixel-baseline', 'pixel', progress=ProgressConfig())['progress']
    on = grm_terms('pixel-baseline', 'pixel',
                   progress=ProgressConfig(success_min_agreement=0.5))['progress']
    assert 'success_min_agreement' not in off and on['success_min_agreement'] == 0.5


def score(balanced_accuracy, recall):
    return {'balanced_accuracy': balanced_accuracy, 'recall': recall}


@pytest.mark.parametrize('new, train_new, accepted, why', [
    (score(0.75, 0.5), {}, False, 'no better'),                       # a tie is no evidence
    (score(0.70, 0.6), {}, False, 'no better'),
    (score(0.80, 0.4), {}, False, 'recall on the held-out episodes fell 0.50 -> 0.40'),
    (score(0.80, 0.5), score(0.70, 0.36), False, 'balanced accuracy on the last training'),
    (score(0.80, 0.5), score(0.80, 0.19), False, 'recall on the last training episodes fell '
                                                 '0.36 -> 0.19'),
    (score(0.80, 0.5), score(0.80, 0.36), True, 'better on the held-out'),
    (score(0.80, float('nan')), score(0.80, float('nan')), True, 'better'),   # no successes
])
def test_a_candidate_must_be_better_held_out_and_no_worse_on_its_training_episodes(
        new, train_new, accepted, why):
    old, train_old = score(0.75, 0.5), score(0.80, 0.36)
    got, reason = accept(old, new, train_old if train_new else {}, train_new)
    assert got == accepted and why in reason
