# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json
import math

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.episode import Episode
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.adapt_compact import adapt_compact, CompactTrainConfig
from robodopamine_ros.grm.base import GRMQuery, ProgressEstimator
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.reward.evaluation import evaluate_model
import torch

torch.set_num_threads(1)


def sliding_episode(num_frames=120, seed=0):
    """Make a square slide across all three views; keyframes split it into 3 sub-tasks."""
    rng = np.random.default_rng(seed)
    views = {}
    for k, view in enumerate(VIEWS):
        frames = np.full((num_frames, 48, 64, 3), 30, np.uint8)
        frames += rng.integers(0, 10, frames.shape, dtype=np.uint8)
        for t in range(num_frames):
            x = int(4 + 52 * t / (num_frames - 1))
            frames[t, 16 + 4 * k:28 + 4 * k, x:x + 8, k] = 230
        views[view] = frames
    third = num_frames // 3
    return Episode('slide', np.arange(num_frames) * 33_333_333, views,
                   keyframes=[Segment(0, third), Segment(third, 2 * third),
                              Segment(2 * third, num_frames - 1)],
                   instructions=('slide the block',))


@pytest.fixture(scope='module')
def trained():
    episode = sliding_episode()
    config = CompactTrainConfig(steps=150, pool=16, eval_every=150, seed=0)
    model, history = adapt_compact(episode, config)
    return episode, model, history


def test_training_learns_the_task(trained):
    episode, model, history = trained
    first, last = np.mean(history['loss'][:10]), np.mean(history['loss'][-10:])
    assert last < 0.3 * first, (first, last)
    final = history['eval'][-1]
    assert final['voc_fused'] > 0.9 and final['voc_minus'] < -0.8
    assert final['mae_vs_keyframes'] < 0.15
    assert final['heldout_pair_mae'] < 0.25


def test_tick_encodes_only_the_three_new_views(trained):
    episode, model, _ = trained
    start, end = episode.views['front'][0], episode.views['front'][-1]
    estimator = ProgressEstimator(model, 'slide the block', start, end)
    estimator.start(episode.triplet(0))
    estimator.tick(episode.triplet(10))
    views = episode.triplet(20)
    estimator.tick(views)
    assert model.encoded_last_call == 3
    same = estimator.tick(views)  # the same arrays again: nothing to encode
    assert model.encoded_last_call == 0
    assert abs(same.hops[0]) < 0.2
    # an array changed in place is noticed and re-encoded
    frame = episode.triplet(30)
    estimator.tick(frame)
    frame[0][:] = 0
    estimator.tick(frame)
    assert model.encoded_last_call >= 1


def test_batched_hops_match_single_queries(trained):
    episode, model, _ = trained
    refs = (episode.views['front'][0], episode.views['front'][-1])
    queries = [GRMQuery('', *refs, episode.triplet(a), episode.triplet(b))
               for a, b in ((0, 60), (60, 0), (30, 30), (100, 119))]
    together = model.hops(queries)
    model._cache.clear()
    alone = np.array([model.hops([q])[0] for q in queries])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert together[0] > 0.2 and together[1] < -0.2


def test_save_load_round_trip(trained, tmp_path):
    episode, model, _ = trained
    refs = (episode.views['front'][0], episode.views['front'][-1])
    model.save(tmp_path / 'm', refs)
    loaded = CompactGRM.load(tmp_path / 'm')
    queries = [GRMQuery('', *refs, episode.triplet(5), episode.triplet(90))]
    np.testing.assert_allclose(loaded.hops(queries), model.hops(queries), atol=1e-6)
    saved_refs = loaded.saved_references(tmp_path / 'm')
    np.testing.assert_array_equal(saved_refs[0], refs[0])
    assert loaded.config['task'] == 'slide the block'


def test_incompatible_model_folders_fail_clearly(trained, tmp_path):
    _, model, _ = trained
    with pytest.raises(FileNotFoundError, match='no such model folder'):
        CompactGRM.load(tmp_path / 'nothing')
    folder = model.save(tmp_path / 'm')
    config = json.loads((folder / 'config.json').read_text())
    config['dim'] = 64
    (folder / 'config.json').write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r'model.safetensors does not match .*config.json'):
        CompactGRM.load(folder)
    config['format'] = 'qwen2_5_vl'
    (folder / 'config.json').write_text(json.dumps(config))
    with pytest.raises(ValueError, match="format 'qwen2_5_vl' is not"):
        CompactGRM.load(folder)
    (folder / 'model.safetensors').unlink()
    with pytest.raises(FileNotFoundError, match='model.safetensors: missing'):
        CompactGRM.load(folder)


def test_non_finite_outputs_are_no_answer(trained):
    episode, model, _ = trained
    refs = (episode.views['front'][0], episode.views['front'][-1])
    with torch.no_grad():
        saved = model.net.head[-1].bias.clone()
        model.net.head[-1].bias.fill_(math.nan)
        hops = model.hops([GRMQuery('', *refs, episode.triplet(0), episode.triplet(9))])
        model.net.head[-1].bias.copy_(saved)
    assert np.isnan(hops).all()


def test_images_of_another_size_are_resized_and_bad_ones_rejected(trained):
    episode, model, _ = trained
    big = tuple(np.repeat(np.repeat(v, 4, axis=0), 4, axis=1) for v in episode.triplet(40))
    refs = (episode.views['front'][0], episode.views['front'][-1])
    hop = model.hops([GRMQuery('', *refs, episode.triplet(0), big)])
    assert np.isfinite(hop).all()
    with pytest.raises(ValueError):
        model.hops([GRMQuery('', *refs, episode.triplet(0),
                             (np.zeros((48, 64), np.uint8),) * 3)])


def test_one_hop_rule_for_scalars_arrays_and_training_tensors():
    from robodopamine_ros.reward.labels import hop_between, hop_label
    before, after = [0.25, 0.5, 0.5, 1.0], [0.5, 0.25, 0.5, 0.0]
    expected = [1 / 3, -0.5, 0.0, -1.0]
    torch.testing.assert_close(hop_between(torch.tensor(before), torch.tensor(after)),
                               torch.tensor(expected))
    np.testing.assert_allclose(hop_between(np.array(before), np.array(after)), expected)
    assert [hop_between(b, a) for b, a in zip(before, after)] == pytest.approx(expected)
    assert hop_label(1, 3, 4) == pytest.approx(hop_between(0.25, 0.75)) == 2 / 3


def test_adapt_and_evaluate_commands(tmp_path, capsys):
    episode = sliding_episode(num_frames=90, seed=1)
    bag = write_episode(tmp_path / 'demo', episode)
    assert cli.main(['adapt', str(bag), '-o', str(tmp_path / 'grm'), '--steps', '40',
                     '--pool', '12', '--threads', '1']) == 0
    for name in ('config.json', 'model.safetensors', 'reference_start.png', 'report.md',
                 'loss.png', 'progress.png', 'history.json'):
        assert (tmp_path / 'grm' / name).is_file(), name
    # where adaptation started (--init auto: the shipped model checked on the demo's images)
    from robodopamine_ros.grm.pretrain import start_text
    start = json.loads((tmp_path / 'grm' / 'config.json').read_text())['training']['start']
    assert start['asked'] == 'auto' and start['checked'] == 'pretrained'
    assert start['init'] in ('pretrained', 'scratch') and start['no_progress_error'] > 0
    assert json.loads((tmp_path / 'grm' / 'history.json').read_text())['start'] == start
    assert start_text(start) in (tmp_path / 'grm' / 'report.md').read_text()
    capsys.readouterr()
    assert cli.main(['evaluate', '--model', str(tmp_path / 'grm'), str(bag), '--json',
                     '--labels', 'success', '-o', str(tmp_path / 'plots')]) == 0
    summary = json.loads(capsys.readouterr().out)
    result = summary['episodes'][0]
    for key in ('voc_fused', 'voc_incremental', 'voc_forward', 'voc_backward', 'voc_minus',
                'mae_vs_keyframes', 'forward_back_corr', 'stall_drift_fused'):
        assert key in result and math.isfinite(result[key]), key
    assert 'completion_accuracy' in summary
    assert len(list((tmp_path / 'plots').glob('*.png'))) == 1
    assert cli.main(['evaluate', '--model', str(tmp_path / 'nope'), str(bag)]) == 1
    assert 'no such model folder' in capsys.readouterr().err


def test_evaluate_model_extra_tests_on_the_trained_model(trained):
    episode, model, _ = trained
    refs = (episode.views['front'][0], episode.views['front'][-1])
    metrics, _ = evaluate_model(model, episode, refs, every=6)
    assert metrics['forward_back_corr'] > 0.8
    assert abs(metrics['stall_drift_fused']) < 0.2


def test_view_dropout_never_drops_every_view_and_drops_each_view():
    from robodopamine_ros.grm.adapt_compact import view_dropout_mask
    mask = view_dropout_mask(np.random.default_rng(0), 20_000, 0.5)
    assert not mask.all(axis=1).any()
    rates = mask.mean(axis=0)
    # front: 0.5 x (1 - 0.25); wrists: 0.5
    np.testing.assert_allclose(rates, [0.375, 0.5, 0.5], atol=0.02)


def test_held_out_segments_never_enter_training(monkeypatch):
    from robodopamine_ros.grm import adapt_compact as module

    episode = sliding_episode()
    mask = module.segment_frames(episode, (1,))
    assert mask.sum() == 40 and mask[40:80].all() and not mask[:40].any()
    assert module.segment_frames(episode, (2,))[119]   # the last segment keeps its end frame
    with pytest.raises(ValueError, match=r'holdout segment 3: the episode has 3 keyframe '
                                         r'segments \(0..2\)'):
        module.segment_frames(episode, (3,))
    pooled = []
    sample = module._sample_pool

    def spy(frames, *args, **kwargs):
        pooled.append(np.asarray(frames))
        return sample(frames, *args, **kwargs)
    monkeypatch.setattr(module, '_sample_pool', spy)
    adapt_compact(episode, CompactTrainConfig(steps=2, pool=8, eval_every=100,
                                              holdout_segments=(1,)))
    assert not np.isin(np.arange(40, 80), pooled[0]).any()
    assert np.isin(np.arange(1, 40), pooled[0]).sum() >= 30   # the rest does


def test_a_held_out_segment_keeps_its_own_end_frame_when_the_next_starts_later():
    from robodopamine_ros.grm.adapt_compact import segment_frames

    episode = sliding_episode()
    episode.keyframes = [Segment(0, 30), Segment(35, 80), Segment(80, 119)]   # a gap 31..34
    assert np.flatnonzero(segment_frames(episode, (0,))).tolist() == list(range(31))
    assert np.flatnonzero(segment_frames(episode, (1,))).tolist() == list(range(35, 80))
