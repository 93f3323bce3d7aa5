# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A simulated product run with GRM refreshes: its episodes as bags, the refresh, the swap."""

import json
import shutil

import pytest
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.online_episodes import online_episode_paths, read_outcome
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.reward.contract import grm_content_hash
from robodopamine_ros.rl.grm_refresh_loop import read_refreshes
from robodopamine_ros.rl.logs import read_contracts, read_log
from robodopamine_ros.rl.sim_training import train, TrainConfig

TINY = {'hidden': (32, 32), 'batch_size': 16, 'cql_actions': 2, 'image_features': 16}


def product(grm_dir, **overrides):
    settings = {'reward': 'grm', 'observation': 'cameras', 'image_encoder': 'grm',
                'success': 'either', 'operator': True, 'grm_dir': str(grm_dir), 'grm_every': 2,
                'episodes': 9, 'policy_demos': 1, 'successful_demos_only': False,
                'pretrain_updates': 2, 'offline_updates': 2, 'max_steps': 8, 'eval_every': 100,
                'eval_episodes': 1, 'final_eval_every': 100, 'final_eval_episodes': 1,
                'grm_refresh_every': 8, 'agent': dict(TINY, online_actor_delay=0)}
    return TrainConfig(**dict(settings, **overrides))


def test_a_run_keeps_its_episodes_refreshes_its_own_grm_and_names_each_episodes_grm(
        grm_dir, tmp_path, make_episode):
    demo = make_episode(num_frames=30, streams=False)
    demo.keyframes = [Segment(0, 14), Segment(14, 29)]
    demo_bag = write_episode(tmp_path / 'demo', demo, storage='mcap')
    shared = grm_content_hash(grm_dir)
    with pytest.raises(FileNotFoundError, match='the demonstration it was adapted on'):
        train(product(grm_dir), tmp_path / 'nodemo')
    train(product(grm_dir, grm_demo=str(demo_bag)), tmp_path / 'run')
    run = tmp_path / 'run'
    assert grm_content_hash(grm_dir) == shared      # the shared GRM is never written
    bags = online_episode_paths(run / 'episodes')
    assert [read_outcome(b).episode_id for b in bags] == list(range(1, 10))
    # an operator watched every episode: each outcome is a label (8 steps: none succeeds)
    assert {read_outcome(b).how for b in bags} <= {'unmarked', 'rejected'}
    refreshes = read_refreshes(run)
    assert [(r['episode'], r['train_episodes'], r['heldout_episodes']) for r in refreshes] == [
        ('8', '6', '2')]
    assert refreshes[0]['accepted'] == 'True', refreshes[0]['reason']
    live = grm_content_hash(run / 'grm')
    assert refreshes[0]['grm'] == live != shared
    assert json.loads((run / 'grm' / 'config.json').read_text())['refreshes'][0]['accepted']
    # the ninth episode was scored by the refreshed GRM, and its row names that GRM's contract
    rows, contracts = read_log(run), read_contracts(run)
    named = [contracts[r['reward_contract']].grm for r in rows]
    assert named == [shared] * 8 + [live]
    assert read_outcome(bags[-1]).grm == live and read_outcome(bags[0]).grm == shared


def test_refresh_settings_that_cannot_work_are_named(grm_dir):
    with pytest.raises(ValueError, match='grm_refresh_every refreshes the GRM on the '
                                         "operator's labels"):
        product(grm_dir, operator=False, success='detector')
    with pytest.raises(ValueError, match='grm_refresh_every must be an integer >= 0'):
        product(grm_dir, grm_refresh_every=-1)
    with pytest.raises(ValueError, match='min_agreement'):
        product(grm_dir, success_min_agreement=2.0)


@pytest.fixture(scope='module')
def kept_run(grm_dir, tmp_path_factory):
    """Return (demo bag, run) of a product run of 8 episodes that keeps their bags."""
    from robodopamine_ros.data.episode import Episode
    import numpy as np

    tmp_path = tmp_path_factory.mktemp('kept')
    rng = np.random.default_rng(0)
    stamps = 1_700_000_000 * 10**9 + np.arange(30, dtype=np.int64) * 33_333_333
    views = {}
    for k, view in enumerate(VIEWS):
        frames = rng.integers(0, 256, size=(30, 12, 16, 3), dtype=np.uint8)
        frames[:, :, :, k] = (np.arange(30) * 20 % 256)[:, None, None]
        views[view] = frames
    demo = Episode(episode_id='demo', stamps=stamps, views=views, streams={})
    demo.keyframes = [Segment(0, 14), Segment(14, 29)]
    demo_bag = write_episode(tmp_path / 'demo', demo, storage='mcap')
    train(product(grm_dir, grm_demo=str(demo_bag), episodes=8, grm_refresh_every=100),
          tmp_path / 'run')
    return demo_bag, tmp_path / 'run'


def test_the_refresh_command_refreshes_a_folder_from_a_runs_episode_bags(
        grm_dir, tmp_path, kept_run, capsys):
    from robodopamine_ros.commands import cli

    demo_bag, run = kept_run
    folder = tmp_path / 'grm'
    shutil.copytree(grm_dir, folder)
    assert cli.main(['refresh', str(folder), '--episodes', str(run / 'episodes'),
                     '--demo', str(demo_bag), '--steps', '5']) == 0
    out = capsys.readouterr().out
    assert '8 labelled episodes (6 to train, 2 held out' in out
    assert 'held-out balanced accuracy' in out


def test_a_run_without_refreshes_keeps_no_bags(grm_dir, tmp_path, kept_run):
    train(product(grm_dir, grm_demo=str(kept_run[0]), episodes=2, grm_refresh_every=0),
          tmp_path / 'plain')
    assert not (tmp_path / 'plain' / 'episodes').exists()


def test_a_watch_refreshes_every_n_bags_another_process_keeps_in_a_thread_and_resumes(
        grm_dir, tmp_path, kept_run):
    from robodopamine_ros.grm.refresh import RefreshConfig
    from robodopamine_ros.rl.grm_refresh_loop import watch_episodes

    demo_bag, run = kept_run
    episodes, folder = tmp_path / 'episodes', tmp_path / 'grm'
    shutil.copytree(grm_dir, folder)
    bags = online_episode_paths(run / 'episodes')
    episodes.mkdir()
    for bag in bags[:3]:   # grm_node keeps them one by one
        shutil.copytree(bag, episodes / bag.name)
    lines = []
    config = RefreshConfig(every=4, steps=5, min_episodes=2)
    watch = watch_episodes(folder, episodes, config, tmp_path / 'logs', str(demo_bag),
                           log=lines.append)
    assert watch.poll() is None and watch.episodes == 3 and watch.next_due == 4
    for bag in bags[3:6]:
        shutil.copytree(bag, episodes / bag.name)
    assert watch.poll() == 6 and watch.join(timeout=120)   # bags past the due count count
    assert watch.next_due == 8 and watch.last is not None
    rows = read_refreshes(tmp_path / 'logs')
    assert [(r['episode'], r['accepted']) for r in rows] == [('6', str(watch.last.accepted))]
    assert rows[0]['grm'] == grm_content_hash(folder)
    assert (rows[0]['grm'] != grm_content_hash(grm_dir)) == watch.last.accepted
    assert lines[-1].startswith('GRM refresh after episode 6')
    # a restarted watch goes on from the logged refresh, not from the bag count
    again = watch_episodes(folder, episodes, config, tmp_path / 'logs', str(demo_bag))
    assert again.next_due == 8 and again.poll() is None
    shutil.copytree(bags[6], episodes / bags[6].name)
    shutil.copytree(bags[7], episodes / bags[7].name)
    assert again.poll() == 8 and again.join(timeout=120)
    assert [r['episode'] for r in read_refreshes(tmp_path / 'logs')] == ['6', '8']


def test_a_watch_names_a_folder_it_cannot_refresh(grm_dir, tmp_path):
    from robodopamine_ros.grm.refresh import RefreshConfig
    from robodopamine_ros.rl.grm_refresh_loop import watch_episodes

    config = RefreshConfig(every=4)
    with pytest.raises(FileNotFoundError, match=f'{tmp_path}: no config.json'):
        watch_episodes(tmp_path, tmp_path / 'episodes', config)
    with pytest.raises(FileNotFoundError, match='the demonstration it was adapted on'):
        watch_episodes(grm_dir, tmp_path / 'episodes', config)
    (tmp_path / 'vlm').mkdir()
    (tmp_path / 'vlm' / 'config.json').write_text('{"model_type": "qwen2_5_vl"}')
    with pytest.raises(ValueError, match='only a compact GRM'):
        watch_episodes(tmp_path / 'vlm', tmp_path / 'episodes', config)
    with pytest.raises(ValueError, match='every >= 1'):
        watch_episodes(grm_dir, tmp_path / 'episodes', RefreshConfig(every=0), demo=__file__)


def test_a_log_folder_holding_another_grms_copy_is_refused_naming_both(grm_dir, tmp_path):
    from robodopamine_ros.rl.grm_refresh_loop import live_grm

    live = live_grm(tmp_path / 'logs', grm_dir)
    assert grm_content_hash(live) == grm_content_hash(grm_dir)
    assert live_grm(tmp_path / 'logs', grm_dir) == live   # the same GRM: the copy goes on
    other = tmp_path / 'other'
    shutil.copytree(grm_dir, other)
    config = json.loads((other / 'config.json').read_text())
    (other / 'config.json').write_text(json.dumps(dict(config, task='another task')))
    with pytest.raises(ValueError, match=f'{live} is the refreshed copy of .*, not of {other}'):
        live_grm(tmp_path / 'logs', other)


def test_a_refresh_that_fails_is_logged_and_a_resumed_run_forgets_the_later_ones(grm_dir,
                                                                                 tmp_path):
    from robodopamine_ros.grm.refresh import RefreshConfig
    from robodopamine_ros.rl.grm_refresh_loop import RefreshLoop

    lines = []
    loop = RefreshLoop(tmp_path, RefreshConfig(every=4), tmp_path / 'no_demo', (64, 48), True,
                       0.1, log=lines.append)
    assert [loop.due(i) for i in (3, 4, 8)] == [False, True, True]
    for index in (4, 8):
        result = loop.run(index, grm_dir)
        assert not result.accepted and 'refresh failed (FileNotFoundError' in result.reason
    assert grm_content_hash(grm_dir) == read_refreshes(tmp_path)[0]['grm']   # kept
    assert [r['episode'] for r in read_refreshes(tmp_path)] == ['4', '8']
    assert 'GRM refresh after episode 8' in lines[-1] and 'kept the current GRM' in lines[-1]
    loop.truncate_after(5)
    assert [r['episode'] for r in read_refreshes(tmp_path)] == ['4']
