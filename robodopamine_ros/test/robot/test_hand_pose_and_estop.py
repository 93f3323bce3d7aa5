# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Issue 29 items 1, 7, 8 in the ROS-free core.

The hand pose is watched, clearing the e-stop needs the deadman, no teleop message can break
the loop.

Time is a fake monotonic clock passed to the code under test (no sleeps).
"""

import numpy as np
import pytest
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.robot.safety import SafetyConfig, SafetyLayer
from robodopamine_ros.robot.state import hand_pose
from robodopamine_ros.robot.teleop import PRESETS, Teleop
from robodopamine_ros.robot.watchdog import Watchdog

SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='conrft', hidden=(16, 16), batch_size=8)
OBS = {'state': np.zeros(4, np.float32)}
HAND = [0.0, 0.6, 0.2]
POSE = [0.4, 0.0, 0.3, 0.0, 0.0, 0.0, 1.0]


def reward(progress=0.1):
    return {'reward': 0.0, 'sparse_reward': 0.0, 'progress_before': 0.0,
            'progress_after': progress, 'terminal': False, 'truncated': False}


def loop_with(watchdog=None, mode='train', closed=None, max_steps=100):
    actor = PolicyActor(CONFIG, SHAPES, SafetyConfig())
    return ControlLoop(actor, mode, max_steps=max_steps, watchdog=watchdog,
                       on_episode=(closed.append if closed is not None else None))


# item 1: the hand pose ----------------------------------------------------------------------
def test_the_agent_watches_the_hand_pose_like_the_joints():
    timeouts = RLAgentSettings(observation_timeout=0.3).watchdog_timeouts()
    assert timeouts['ee_pose'] == 0.3 == timeouts['observation']


def test_a_frozen_hand_pose_stops_the_policy_within_the_observation_timeout():
    """Joints and rewards keep coming, the pose froze: the arm stops, naming the pose."""
    dog = Watchdog(RLAgentSettings(observation_timeout=0.5).watchdog_timeouts())
    loop = loop_with(dog)
    loop.start_episode(1)
    sources = []
    for k in range(20):  # 2 s at 10 Hz; the pose's last message came at t = 0
        t = 0.1 * k
        for stream in dog.timeouts:  # every other stream keeps coming
            if stream != 'ee_pose' or k == 0:
                dog.feed(stream, t)
        result = loop.tick(t, OBS, HAND, reward())
        sources.append(result.source)
    assert set(sources[:6]) == {'policy'} and set(sources[6:]) == {'stop'}  # t > 0.5 s
    assert result.stop_reason == 'ee_pose stale for 1.90 s (timeout 0.5 s)'


def test_homing_holds_on_a_stale_hand_pose():
    dog = Watchdog({'observation': 0.5, 'ee_pose': 0.5})
    loop = loop_with(dog)
    loop.home = np.array([0.0, 0.6, 0.3])
    dog.feed('observation', 1.0)
    result, home = loop.home_step(1.0, HAND)
    assert result.source == 'stop' and not home  # the pose never arrived
    dog.feed('ee_pose', 1.0)
    assert loop.home_step(1.0, HAND)[0].source == 'home'


def test_a_pose_in_another_frame_or_not_finite_is_refused_naming_it():
    np.testing.assert_array_equal(hand_pose(POSE, 'fr3_link0', 'fr3_link0'),
                                  np.float32(POSE))
    with pytest.raises(ValueError, match="robodopamine/ee_pose: frame_id 'world' is not "
                                         "base_frame 'fr3_link0'"):
        hand_pose(POSE, 'world', 'fr3_link0')
    with pytest.raises(ValueError, match='pose must be 7 finite values'):
        hand_pose([np.nan] + POSE[1:], 'base', 'base')
    with pytest.raises(ValueError, match='pose must be 7 finite values'):
        hand_pose(POSE[:3], 'base', 'base')


def test_a_refused_pose_stops_at_once_teleop_too_until_a_good_one_arrives():
    dog = Watchdog({'observation': 0.5, 'ee_pose': 0.5})
    loop = loop_with(dog)
    loop.start_episode(1)
    for name in ('observation', 'ee_pose'):
        dog.feed(name, 0.0)
    loop.set_intervention(True, [1.0, 0.0, 0.0, 1.0], now=0.0)
    assert loop.tick(0.0, OBS, HAND).source == 'teleop'
    dog.refuse('ee_pose', 'pose must be 7 finite values')
    result = loop.tick(0.05, OBS, HAND)  # well inside the timeout: a stop at once
    assert result.source == 'stop' and np.all(result.action[:3] == 0)
    assert result.stop_reason == 'ee_pose refused: pose must be 7 finite values'
    dog.feed('ee_pose', 0.1)
    loop.set_teleop_action([1.0, 0.0, 0.0, 1.0], now=0.1)
    assert loop.tick(0.1, OBS, HAND).source == 'teleop'


@pytest.mark.parametrize('bad', [np.nan, np.inf])
def test_a_non_finite_hand_position_is_a_stop_for_every_action(bad):
    """A NaN pose switched the workspace box off for teleop: every comparison was false."""
    layer = SafetyLayer(SafetyConfig())
    action, why = layer([1.0, 1.0, 1.0, 1.0], [bad, 0.6, 0.2])
    assert action[:3].tolist() == [0.0, 0.0, 0.0] and why == ['non-finite hand position: stop']
    loop = loop_with()
    loop.start_episode(1)
    loop.set_intervention(True, [1.0, 0.0, 0.0, 1.0], now=0.0)
    result = loop.tick(0.0, OBS, [bad, 0.6, 0.2])  # the operator's command, a NaN hand
    assert np.all(result.action[:3] == 0)


# item 8: teleop actions are untrusted -------------------------------------------------------
@pytest.mark.parametrize('values', [[0.1] * 7, [0.1, 0.2], [], [np.nan, 0, 0, 1],
                                    [0, np.inf, 0, 1]])
def test_a_teleop_action_that_is_not_4_finite_values_is_refused_and_kept_out(values):
    loop = loop_with()
    loop.start_episode(1)
    loop.set_intervention(True, [0.5, 0.0, 0.0, 1.0], now=0.0)
    with pytest.raises(ValueError, match='teleop action must be 4 finite values'):
        loop.set_teleop_action(values, now=0.05)
    result = loop.tick(0.1, OBS, HAND)  # the loop goes on with the last valid action
    assert result.source == 'teleop' and result.action[0] == 0.5


# item 7: clearing the e-stop ----------------------------------------------------------------
def test_the_operator_is_present_only_while_a_takeover_is_fresh():
    loop = loop_with()
    assert not loop.operator_present(0.0)
    loop.set_intervention(True, [0.0, 0.0, 0.0, 1.0], now=1.0)
    assert loop.operator_present(1.2) and not loop.operator_present(1.6)  # timeout 0.5 s
    loop.set_teleop_action([0.0, 0.0, 0.0, 1.0], now=1.6)
    assert loop.operator_present(1.7)
    loop.set_intervention(False)
    assert not loop.operator_present(1.7)


def test_an_aborted_episode_is_stored_truncated_and_the_policy_waits_for_the_next():
    closed = []
    loop = loop_with(closed=closed)
    loop.start_episode(3)
    for k in range(4):
        loop.tick(0.1 * k, OBS, HAND, reward(0.1 * k))
    summary = loop.abort_episode()
    assert summary['episode_id'] == 3 and summary['steps'] == 3
    episode = closed[0]
    assert episode.transitions[-1]['truncated'] and not episode.transitions[-1]['terminal']
    assert not any(t['truncated'] for t in episode.transitions[:-1])
    result = loop.tick(0.5, OBS, HAND)
    assert result.source == 'stop' and result.stop_reason == 'between episodes'
    assert loop.abort_episode() is None  # nothing runs
    loop.start_episode(4)
    assert loop.tick(0.6, OBS, HAND, reward()).source == 'policy'


def test_an_episode_aborted_before_its_first_step_is_counted_not_stored():
    closed = []
    loop = loop_with(closed=closed)
    loop.start_episode(5)
    summary = loop.abort_episode()
    assert summary['episode_id'] == 5 and summary['steps'] == 0 and closed == []


def test_the_clear_button_counts_only_with_the_deadman_held_and_once_per_press():
    teleop = Teleop(PRESETS['gamepad'])  # LB (4) deadman, START (7) clears the e-stop
    buttons = [0] * 11
    start = list(buttons)
    start[7] = 1
    assert not teleop.update([0.0] * 8, start, now=0.0).clear_estop  # START alone
    held, both = list(buttons), list(start)
    held[4] = both[4] = 1
    assert not teleop.update([0.0] * 8, held, now=0.1).clear_estop
    assert teleop.update([0.0] * 8, both, now=0.2).clear_estop       # the press
    assert not teleop.update([0.0] * 8, both, now=0.3).clear_estop   # held: once
    assert PRESETS['spacemouse'].clear_estop_button == -1
