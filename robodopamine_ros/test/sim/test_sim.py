# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The simulated peg insertion robot: real MuJoCo rendering of Meta-World with our cameras."""

import json

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.bags import read_episode
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.sim.peg_insertion import PegInsertionSim
from robodopamine_ros.sim.rollouts import expert_demonstration, rollout, SETTLE_STEPS


@pytest.fixture(scope='module')
def sim():
    sim = PegInsertionSim(image_size=(64, 48), max_steps=150)
    yield sim
    sim.close()


def test_layout_and_images_are_deterministic_under_a_seed(sim):
    first, info = sim.reset(seed=7)
    again, info_again = sim.reset(seed=7)
    other, info_other = sim.reset(seed=8)
    np.testing.assert_array_equal(info['layout'], info_again['layout'])
    for key in ('state', *VIEWS):
        np.testing.assert_array_equal(first[key], again[key])
    assert not np.allclose(info['layout'], info_other['layout'])
    assert not np.array_equal(first['front'], other['front'])
    # the peg and the box are at least 10 cm apart, as Meta-World requires
    layout = info['layout']
    assert np.linalg.norm(layout[:2] - layout[3:5]) >= 0.1


def test_views_differ_and_change_as_the_arm_moves(sim):
    observation, _ = sim.reset(seed=3)
    start = {v: observation[v].astype(int) for v in VIEWS}
    assert observation['front'].shape == (48, 64, 3) and observation['front'].dtype == np.uint8
    for a, b in (('front', 'left_wrist'), ('front', 'right_wrist'), ('left_wrist', 'right_wrist')):
        assert np.abs(start[a] - start[b]).mean() > 5, (a, b)
    for _ in range(15):
        observation, *_ = sim.step(sim.expert_action(observation))
    for view in VIEWS:
        assert np.abs(observation[view].astype(int) - start[view]).mean() > 2, view


def test_expert_demo_with_phase_keyframes_round_trips_through_a_bag(sim, tmp_path):
    episode, seed = expert_demonstration(sim, seed=0)
    assert episode.success
    assert [s.annotation for s in episode.keyframes] == ['reach', 'grasp', 'align', 'insert']
    assert episode.keyframes[0].start == 0 and episode.keyframes[-1].end == episode.num_frames - 1
    path = write_episode(tmp_path / 'demo', episode, storage='mcap', image_format='png',
                         action_source='expert')
    back = read_episode(path)
    np.testing.assert_array_equal(back.stamps, episode.stamps)
    for view in VIEWS:
        np.testing.assert_array_equal(back.views[view], episode.views[view])
    np.testing.assert_allclose(back.streams['joint_positions'].values,
                               episode.streams['joint_positions'].values)
    np.testing.assert_allclose(back.streams['action'].values,
                               episode.streams['action'].values.astype(np.float32))
    assert back.keyframes == episode.keyframes and back.instructions == episode.instructions


def test_non_expert_rollouts_are_labelled_by_the_simulator(sim):
    episode, label = rollout(sim, 5, 'random')
    assert label == 'fail' and not episode.keyframes and episode.success is False
    assert episode.num_frames == sim.max_steps + 1
    _, label = rollout(sim, 5, 'halfway')
    assert label in ('partial', 'fail')
    with pytest.raises(ValueError, match='behaviour must be one of'):
        rollout(sim, 5, 'teleop')


def test_a_settled_rollout_holds_still_after_success_and_stays_a_success(sim):
    plain, seed = expert_demonstration(sim, seed=0)
    settled, label = rollout(sim, seed, 'expert', settle_steps=6)
    assert label == 'success' and settled.success
    assert settled.num_frames == plain.num_frames + 6
    np.testing.assert_array_equal(settled.views['front'][:plain.num_frames],
                                  plain.views['front'])
    held = settled.streams['action'].values[plain.num_frames - 1:]
    assert len(held) == 6 and np.all(held[:, :3] == 0.0)
    assert np.all(held[:, 3] == plain.streams['action'].values[-1, 3])
    # a success at the very last allowed step still settles (Meta-World's own step limit
    # is set past ours)
    tight = PegInsertionSim(image_size=(64, 48), max_steps=plain.num_frames - 1)
    try:
        last_step, label = rollout(tight, seed, 'expert', settle_steps=6)
    finally:
        tight.close()
    assert label == 'success' and last_step.num_frames == plain.num_frames + 6
    for bad in (-1, 51):
        with pytest.raises(ValueError, match=r'settle_steps must be an integer in \[0, 50\]'):
            rollout(sim, seed, 'expert', settle_steps=bad)


def test_bad_actions_are_refused(sim):
    sim.reset(seed=0)
    with pytest.raises(ValueError, match='action must be 4 finite numbers'):
        sim.step([0.0, float('nan'), 0.0, 0.0])
    with pytest.raises(ValueError, match='action must be 4 finite numbers'):
        sim.step([0.0, 0.0, 0.0])


def test_demo_quick_on_the_simulated_robot(tmp_path, capsys):
    out = tmp_path / 'out'
    assert cli.main(['demo', '--quick', '--rl-episodes', '2', '-o', str(out)]) == 0
    printed = capsys.readouterr().out
    assert '[7/7] Dopamine-RL' in printed and 'done in' in printed
    summary = json.loads((out / 'summary.json').read_text())
    compact = summary['grm']['compact GRM']
    assert compact['voc_unseen_expert_mean'] > 0.5
    assert 0.0 <= compact['completion_accuracy'] <= 1.0
    assert len(summary['labels']) == 5 and summary['settle_steps'] == SETTLE_STEPS
    assert 0.0 < compact['kendall_tau_max'] <= 1.0 and 0.0 <= compact['pairs_ordered'] <= 1.0
    # VOC also over the expert rollouts that succeeded (the first two rollouts are the experts)
    wins = summary['labels'][:2].count('success')
    assert compact['unseen_expert_successes'] == f'{wins} of 2'
    if wins:
        assert compact['voc_unseen_success_min'] <= compact['voc_unseen_success_mean'] <= 1.0
    for name in ('report.md', 'rollouts.png', 'progress.png'):
        assert (out / name).is_file(), name
    demo = read_episode(out / 'expert_demo')
    assert len(demo.keyframes) == 4 and demo.success is None  # no reward topic in a demo
    scored = read_episode(out / 'scored_rollout')
    assert scored.progress and scored.rewards
    # the RL stage: success curve (PNG + table), per-episode log, checkpoint
    assert [e for e, *_ in summary['rl']['eval']] == [0, 1, 2]
    assert summary['rl']['env_steps'] > 0
    for name in ('success.png', 'episodes.csv', 'checkpoint.pt', 'eval.csv'):
        assert (out / 'rl' / name).is_file(), name
    report = (out / 'report.md').read_text()
    assert '## Dopamine-RL' in report and '| Dopamine-RL, Cal-QL | 1 |' in report


def test_gymnasium_api(sim):
    import gymnasium
    assert isinstance(sim, gymnasium.Env)
    observation, info = sim.reset(seed=11)
    assert sim.observation_space.contains(observation)
    assert sim.action_space.shape == (4,)
    observation, reward, terminated, truncated, info = sim.step(sim.action_space.sample())
    assert isinstance(reward, float) and not terminated and not truncated
    assert 'success' in info and sim.render().shape == (48, 64, 3)
    random_layout = sim.reset()[1]['layout']  # no seed: a layout from gymnasium's np_random
    assert random_layout.shape == (6,)


def test_the_robot_state_holds_joints_hand_and_the_layout_s_peg_and_hole(sim):
    """What rl_agent_node sees on a robot (robot/state.py) tells one layout from another."""
    observation, info = sim.reset(seed=7)
    state = observation['robot_state']
    assert state.shape == (9 + 7 + 2 * 7,) and state.dtype == np.float32
    np.testing.assert_allclose(state[:9], sim.joint_positions(), atol=1e-6)
    np.testing.assert_allclose(state[9:16], sim.ee_pose(), atol=1e-6)
    peg, hole = state[16:23], state[23:30]
    # the peg where the layout put it (its grasp point, 3 cm along the peg from its origin)
    assert np.linalg.norm(peg[:2] - info['layout'][:2]) < 0.04
    np.testing.assert_allclose(np.linalg.norm(peg[3:]), 1.0, atol=1e-5)  # a unit quaternion
    np.testing.assert_allclose(hole, np.concatenate([sim.env._target_pos, [0, 0, 0, 1]]),
                               atol=1e-6)
    other, _ = sim.reset(seed=8)
    assert not np.allclose(other['robot_state'][16:], state[16:])
    for _ in range(3):
        moved, *_ = sim.step(np.array([0.0, 0.0, 1.0, -1.0]))
    assert moved['robot_state'][11] > other['robot_state'][11] + 0.003  # the hand rose (z)
