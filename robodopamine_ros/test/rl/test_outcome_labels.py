# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The operator's outcome labels on a robot, without ROS (issue 28 item 2).

rl.outcomes.OutcomeLabels through ControlLoop.mark_outcome: a label ends the running episode; an
unlabelled end waits label_window for one, held back from the learner; a rejected detector
success is stored as a failure; late, unknown and wrongly-set labels are refused, naming the
episode. shaping_node's success flag per setting (ShapingSuccess).
"""

import numpy as np
import pytest
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, LABEL_WAIT
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.episode_cycle import EpisodeCycle
from robodopamine_ros.rl.outcomes import (check_success_source, OutcomeLabels, relabel_steps,
                                          ShapingSuccess)
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.robot.watchdog import Watchdog

SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='conrft', hidden=(16, 16), batch_size=8)
OBS = {'state': np.zeros(4, np.float32)}
HAND = [0.0, 0.6, 0.2]
GAMMA = CONFIG.gamma


def reward(progress, detector_success=False):
    """shaping_node's reward fields; a detector success is terminal and paid."""
    return {'reward': 0.0, 'sparse_reward': float(detector_success), 'progress_before': 0.0,
            'progress_after': progress, 'terminal': detector_success, 'truncated': False}


def running_episode(success, episode_id=7, window=2.0):
    """Return a loop whose episode has one step stored (progress 0 -> 0.5), one in flight."""
    closed = []
    loop = ControlLoop(PolicyActor(CONFIG, SHAPES, SafetyConfig()), 'train', max_steps=100,
                       on_episode=closed.append, success=success, label_window=window)
    loop.start_episode(episode_id)
    loop.tick(0.0, OBS, HAND)
    loop.tick(0.1, OBS, HAND, reward(0.5))
    return loop, closed


def test_a_rejected_detector_success_within_the_window_is_stored_as_a_failure():
    loop, closed = running_episode('either')
    ended = loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))
    assert ended.source == 'stop' and ended.summary is None   # waits for a label
    assert loop.waiting_for_label and not closed               # held back from the learner
    assert not EpisodeCycle().may_start(loop)                  # no reset, no next episode
    assert loop.tick(1.0, OBS, HAND).stop_reason == LABEL_WAIT
    answer = loop.mark_outcome(0, False, 'joystick', now=1.5)  # 0: the episode that just ended
    assert answer.accepted and answer.episode_id == 7
    assert 'episode 7' in answer.message and "detector's success rejected" in answer.message
    done = loop.tick(1.6, OBS, HAND)                           # the label ends the wait
    assert done.summary['episode_id'] == 7 and done.summary['success'] is False
    assert done.summary['labels'] == 1 and done.summary['rejected'] is True
    last = closed[0].transitions[-1]
    assert not last['terminal'] and last['truncated'] and not last['success']
    assert last['sparse_reward'] == 0.0
    assert last['reward'] == pytest.approx(GAMMA * 0.97 - 0.5)   # no r_gold, Phi(s') kept
    late = loop.mark_outcome(7, True, 'joystick', now=1.7)
    assert not late.accepted and late.episode_id == 7 and 'episode 7' in late.message
    assert 'already ended' in late.message


def test_without_a_label_the_detector_success_goes_on_when_the_window_closes():
    loop, closed = running_episode('either', window=2.0)
    loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))
    assert loop.tick(2.1, OBS, HAND).summary is None and not closed   # 1.9 s of 2.0
    done = loop.tick(2.3, OBS, HAND)
    assert done.summary['success'] is True and done.summary['labels'] == 0
    assert done.summary['rejected'] is False
    last = closed[0].transitions[-1]
    assert last['terminal'] and last['sparse_reward'] == 1.0
    assert EpisodeCycle().may_start(loop)
    refused = loop.mark_outcome(0, False, 'joystick', now=2.4)   # nothing running or waiting
    assert not refused.accepted and 'episode 0' in refused.message


def test_a_held_episode_is_handed_on_without_ticks_once_its_window_closes_or_at_shutdown():
    loop, closed = running_episode('either', window=2.0)
    loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))
    assert loop.release_held(1.0) is None and not closed        # the window is open
    done = loop.release_held(2.3)                                # cameras silent: no tick
    assert done['episode_id'] == 7 and done['success'] is True and len(closed) == 1
    assert not loop.waiting_for_label and loop.release_held(2.4) is None
    loop, closed = running_episode('either', episode_id=8, window=2.0)
    loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))
    loop.mark_outcome(0, False, 'joystick', now=0.5)
    at_shutdown = loop.release_held()                            # now None: at once
    assert at_shutdown['episode_id'] == 8 and at_shutdown['success'] is False
    assert closed[0].transitions[-1]['truncated'] and loop.release_held() is None


def test_a_late_press_for_the_episode_that_went_on_never_labels_the_next_one():
    loop, closed = running_episode('either', window=2.0)
    loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))
    assert loop.tick(2.3, OBS, HAND).summary['success'] is True   # went on, unlabelled
    loop.start_episode(8)                                         # the reset is quick
    late = loop.mark_outcome(0, False, 'joystick', now=2.6)       # meant for episode 7
    assert not late.accepted and late.episode_id == 7 and 'episode 8' in late.message
    assert loop.labels.label is None                              # episode 8 untouched
    assert closed[0].transitions[-1]['success']                   # and 7 as it went on
    named = loop.mark_outcome(8, False, 'joystick', now=2.7)      # by its id: taken
    assert named.accepted and named.episode_id == 8
    loop.start_episode(9)
    later = loop.mark_outcome(0, True, 'joystick', now=2.7 + 2.5)  # a window after: episode 9
    assert later.accepted and later.episode_id == 9


def test_a_label_after_the_window_closed_is_refused_naming_the_episode():
    loop, closed = running_episode('operator', episode_id=12, window=1.0)
    now = 0.1
    while loop.episode is not None and now < 20.0:   # the time limit (100 steps), unlabelled
        now += 0.1
        loop.tick(now, OBS, HAND, reward(0.5))
    assert loop.waiting_for_label and not closed
    late = loop.mark_outcome(12, True, 'joystick', now=loop.labels.held['deadline'] + 0.5)
    assert not late.accepted and 'episode 12' in late.message and 'window' in late.message
    unknown = loop.mark_outcome(99, True, 'joystick', now=0.0)
    assert not unknown.accepted and unknown.episode_id == 99 and 'episode 99' in unknown.message


def test_a_label_on_the_running_episode_ends_it_success_terminal_failure_truncated():
    loop, closed = running_episode('operator', episode_id=4)
    answer = loop.mark_outcome(0, True, 'joystick', now=0.15)
    assert answer.accepted and answer.episode_id == 4
    done = loop.tick(0.2, OBS, HAND, reward(0.6))   # the step in flight ends it, no wait
    assert done.summary['success'] is True and done.summary['labels'] == 1
    last = closed[0].transitions[-1]
    assert last['terminal'] and last['sparse_reward'] == 1.0
    assert last['reward'] == pytest.approx(1.0 - 0.5)   # r_gold, Phi(absorbing) = 0

    loop, closed = running_episode('either', episode_id=5)
    assert loop.mark_outcome(5, False, 'joystick', now=0.15).accepted
    done = loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))   # label wins
    assert done.summary['success'] is False and done.summary['rejected'] is True
    last = closed[0].transitions[-1]
    assert last['truncated'] and not last['terminal'] and last['sparse_reward'] == 0.0
    assert last['reward'] == pytest.approx(GAMMA * 0.97 - 0.5)


@pytest.mark.parametrize('setting', ['detector', 'simulator'])
def test_labels_are_refused_naming_the_setting_and_no_episode_waits(setting):
    loop, closed = running_episode(setting, episode_id=3)
    answer = loop.mark_outcome(0, False, 'joystick', now=0.15)
    assert not answer.accepted and answer.episode_id == 3
    assert f'success is {setting!r}' in answer.message and 'episode 3' in answer.message
    done = loop.tick(0.2, OBS, HAND, reward(0.97, detector_success=True))
    assert done.summary['success'] is True and len(closed) == 1   # today's behaviour


def test_relabel_steps_clears_every_paid_success_on_a_rejection():
    shaping = ShapingConfig(gamma=0.9, terminate_on_success=False)
    episode = Episode(1)
    for before, after, success in ((0.0, 0.96, True), (0.96, 0.97, True)):
        episode.add(OBS, np.zeros(4), OBS, 1.0, terminal=False, truncated=False,
                    success=success, progress_before=before, progress_after=after,
                    sparse_reward=1.0)
    assert relabel_steps(episode.transitions, False, shaping)
    first, last = episode.transitions
    assert not episode.succeeded and first['reward'] == pytest.approx(0.9 * 0.96)
    assert not first['truncated'] and last['truncated'] and not last['terminal']
    assert not relabel_steps(episode.transitions, True, shaping)   # nothing rejected
    assert last['terminal'] and last['reward'] == pytest.approx(1.0 - 0.96)


def test_the_success_flag_shaping_node_shapes_from_per_setting():
    assert ShapingSuccess('detector')(True) and ShapingSuccess('either')(True)
    operator = ShapingSuccess('operator')
    assert operator(True) is False   # the detector neither ends nor pays
    simulator = ShapingSuccess('simulator', use_sim_time=True)
    assert simulator.needs_simulator and simulator(True) is False
    assert simulator.observe_simulator(True) and simulator(False) is True
    simulator.start_episode()   # the last episode's flag never ends the next
    assert simulator(False) is False
    with pytest.raises(ValueError, match='use_sim_time.*privileged.*simulation only'):
        ShapingSuccess('simulator', use_sim_time=False)
    with pytest.raises(ValueError, match='parameter success must be one of'):
        check_success_source('human')


def test_settings_refuse_a_bad_success_or_label_window():
    with pytest.raises(ValueError, match='parameter success'):
        RLAgentSettings(success='human')
    with pytest.raises(ValueError, match='parameter label_window'):
        RLAgentSettings(label_window=0.0)
    assert RLAgentSettings().success == 'detector'   # today's behaviour by default
    assert OutcomeLabels('either').takes_labels and not OutcomeLabels().takes_labels


def test_a_label_while_the_arm_is_held_ends_the_episode_as_labelled():
    dog = Watchdog({'observation': 0.2})
    closed = []
    loop = ControlLoop(PolicyActor(CONFIG, SHAPES, SafetyConfig()), 'train', max_steps=100,
                       watchdog=dog, on_episode=closed.append, success='operator')
    loop.start_episode(2)
    dog.feed('observation', 0.0)
    loop.tick(0.0, OBS, HAND)
    assert loop.tick(0.5, OBS, HAND, reward(0.8)).source == 'stop'   # stale: held
    assert loop.mark_outcome(2, True, 'joystick', now=0.6).accepted
    done = loop.tick(0.7, OBS, HAND)   # no step in flight: the label ends it anyway
    assert done.summary['success'] is True and 'labelled success' in done.summary['ended']
    last = closed[0].transitions[-1]
    assert last['terminal'] and last['reward'] == pytest.approx(1.0 - 0.0)
