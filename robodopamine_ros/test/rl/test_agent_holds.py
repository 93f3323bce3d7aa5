# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Holds of the arm and the episode cycle, without ROS (issue 29 item 6, issue 30 items 2 and 3).

No fresh progress, no reward; an episode's end while the arm is held (e-stop, stale
observations, a silent takeover, the hand outside the box); the next episode once the hold ends.
"""

import numpy as np
import pytest
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, TeleopExpiry
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.episode_cycle import EpisodeCycle
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.robot.watchdog import Watchdog

SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='conrft', hidden=(16, 16), batch_size=8)
OBS = {'state': np.zeros(4, np.float32)}
HAND = [0.0, 0.6, 0.2]
OUTSIDE = [0.0, 0.6, 0.9]   # above the simulator's box (z <= 0.5 m)
PERIOD = 0.1


def reward(progress, stamp, terminal=False, truncated=False):
    return {'reward': 0.0, 'sparse_reward': float(terminal), 'progress_before': 0.0,
            'progress_after': progress, 'terminal': terminal, 'truncated': truncated,
            'progress_stamp_ns': stamp}


class Robot:
    """A loop, its watchdog and a clock; every tick feeds the streams that are alive."""

    def __init__(self, mode='train', on_timeout='stop', reward_loss_s=5.0):
        self.closed = []
        self.dog = Watchdog({'observation': 0.5, 'reward': 0.5, 'progress': 0.3})
        self.loop = ControlLoop(PolicyActor(CONFIG, SHAPES, SafetyConfig()), mode,
                                max_steps=1000, watchdog=self.dog, on_episode=self.closed.append,
                                teleop=TeleopExpiry(on_timeout=on_timeout),
                                reward_loss_s=reward_loss_s)
        self.now, self.stamp, self.progress = 0.0, 0, 0.0
        self.observations = self.rewards = self.fresh_progress = True
        self.hand = HAND

    def tick(self, end=None):
        """One control period: the streams that are alive arrive, then the loop ticks."""
        self.now += PERIOD
        if self.observations:
            self.dog.feed('observation', self.now)
        if self.rewards:
            if self.fresh_progress:
                self.stamp += 1
                self.progress = min(self.progress + 0.01, 0.9)
            self.dog.feed('reward', self.now)
            self.loop.observe_reward(reward(self.progress, self.stamp, terminal=end == 'terminal',
                                            truncated=end == 'truncated'), self.now)
        return self.loop.tick(self.now, OBS, self.hand)

    def run(self, ticks):
        return [self.tick() for _ in range(ticks)]


def test_rewards_from_a_frozen_progress_hold_the_arm_and_no_transition_spans_the_gap():
    robot = Robot()
    robot.loop.start_episode(1)
    assert all(r.source == 'policy' for r in robot.run(5)[1:])
    stored = len(robot.loop.episode.transitions)
    robot.fresh_progress = False            # rewards keep coming, their progress is frozen
    held = robot.run(10)
    assert held[-1].source == 'stop' and 'progress stale' in held[-1].stop_reason
    # at most the steps within the progress timeout (0.3 s) were taken on the frozen progress
    assert sum(r.source == 'policy' for r in held) <= 3
    frozen = len(robot.loop.episode.transitions)
    assert frozen - stored <= 4
    before_resume = robot.progress
    robot.fresh_progress = True
    resumed = robot.run(4)
    assert resumed[-1].source == 'policy'
    after = robot.loop.episode.transitions[frozen:]
    # the first transition after the gap starts at a progress that arrived after it
    assert after and after[0]['progress_before'] > before_resume
    for previous, current in zip(robot.loop.episode.transitions,
                                 robot.loop.episode.transitions[1:]):
        assert current['progress_before'] - previous['progress_after'] <= 0.011


@pytest.mark.parametrize('hold', ['estop', 'observations', 'teleop', 'outside'])
def test_an_episode_end_is_honoured_while_held_and_the_next_starts_when_the_hold_ends(hold):
    robot = Robot()
    cycle = EpisodeCycle(checkpoint_every=100)
    robot.loop.start_episode(cycle.next_episode_id())
    robot.run(4)
    if hold == 'estop':
        robot.dog.estop('test')
    elif hold == 'observations':
        robot.observations = False
    elif hold == 'teleop':   # a takeover whose pad goes silent, teleop_on_timeout: stop
        robot.loop.set_intervention(True, [0.2, 0.0, 0.0, -1.0], now=robot.now)
    else:
        robot.hand = OUTSIDE
    held = robot.run(10)
    assert held[-1].source == 'stop' and held[-1].stop_reason
    assert not any(r.episode_done for r in held)
    done = robot.tick(end='truncated')     # shaping_node's 200th step, the arm still held
    assert done.episode_done and done.source == 'stop'
    assert 'while the arm was held' in done.summary['ended']
    assert robot.closed and robot.closed[0].transitions[-1]['truncated']
    assert robot.loop.episode is None
    cycle.finished(reset_available=True)
    hold_reason = robot.loop.hold_reason(robot.now)
    if hold == 'outside':   # the policy's own hold: the reset brings the hand back
        assert hold_reason is None and cycle.reset_now(hold_reason)
        return
    assert hold_reason is not None
    for _ in range(20):      # while held: no reset, no start
        robot.tick()
        assert not cycle.reset_now(robot.loop.hold_reason(robot.now))
        assert not cycle.may_start(robot.loop, robot.loop.hold_reason(robot.now))
    if hold == 'estop':
        robot.dog.clear_estop()
    elif hold == 'observations':
        robot.observations = True
    else:
        robot.loop.set_intervention(False)
    robot.tick()
    hold_reason = robot.loop.hold_reason(robot.now)
    assert hold_reason is None and cycle.reset_now(hold_reason)
    cycle.starting = False  # the reset answered
    assert cycle.may_start(robot.loop, robot.loop.hold_reason(robot.now))
    robot.loop.start_episode(cycle.next_episode_id())
    assert robot.run(3)[-1].source == 'policy'


def test_a_lost_reward_stream_ends_the_episode_after_the_loss_limit():
    robot = Robot(reward_loss_s=2.0)
    robot.loop.start_episode(1)
    robot.run(5)
    robot.rewards = False          # grm_node died: shaping_node sends nothing, not even an end
    results = robot.run(25)
    ends = [r for r in results if r.episode_done]
    assert len(ends) == 1 and 'no fresh reward' in ends[0].summary['ended']
    # after 2 s (20 ticks) without a fresh reward, within a tick
    assert 19 <= next(k for k, r in enumerate(results) if r.episode_done) <= 22
    assert all(r.source == 'stop' for r in results[6:])


def test_the_first_ticks_of_an_episode_wait_for_its_first_reward_without_a_hold():
    robot = Robot()
    robot.rewards = False
    robot.run(10)                  # between episodes: rewards stop, nothing holds the arm
    assert robot.loop.hold_reason(robot.now) is None
    robot.loop.start_episode(1)
    first = robot.tick()
    assert first.source == 'stop' and first.stop_reason == 'waiting for the first reward'
    robot.rewards = True
    assert robot.run(2)[-1].source == 'policy'


def test_a_start_or_reset_that_never_answers_is_abandoned_and_its_late_answer_ignored():
    """grm_node died with StartEpisode in flight: the next request goes out, training goes on."""
    loop = Robot().loop
    cycle = EpisodeCycle(request_timeout_s=2.0)
    first = cycle.sent(now=10.0)
    assert not cycle.may_start(loop)                 # in flight
    assert cycle.expired(11.9) is None and cycle.starting
    assert 'request abandoned' in cycle.expired(12.1) and not cycle.starting
    assert cycle.may_start(loop)                     # the next request may go out
    second = cycle.sent(now=12.2)
    assert not cycle.answered(first) and cycle.starting   # the lost call's late answer
    assert cycle.answered(second) and not cycle.starting
    cycle.finished(reset_available=True)
    token = cycle.reset_now(now=13.0)
    assert token and cycle.starting and cycle.expired(15.5) and cycle.may_start(loop)


def test_a_blocked_move_home_stops_and_latches_an_e_stop_after_home_timeout():
    robot = Robot()
    robot.loop.home, robot.loop.home_timeout = np.array([0.0, 0.6, 0.3]), 1.0
    robot.rewards = False                       # between episodes

    def home_tick():
        robot.now += PERIOD
        robot.dog.feed('observation', robot.now)
        return robot.loop.home_step(robot.now, robot.hand)   # the hand never moves: blocked
    moving = [home_tick() for _ in range(8)]     # 0.8 s
    assert all(r.source == 'home' and not home for r, home in moving)
    robot.observations = False                   # a hold restarts the time limit
    robot.now += 1.0
    held, _ = robot.loop.home_step(robot.now, robot.hand)
    assert held.source == 'stop' and robot.dog.estop_reason is None
    robot.observations = True
    again = [home_tick() for _ in range(10)]     # 0.9 s of moving again: within it
    assert all(r.source == 'home' for r, _ in again)
    after = [home_tick() for _ in range(2)]      # past 1 s: stopped
    stopped, home = after[-1]
    assert stopped.source == 'stop' and not home
    assert 'not home after 1 s of homing' in robot.dog.estop_reason
    assert home_tick()[0].stop_reason.startswith('latched e-stop: not home')   # it holds
    robot.dog.clear_estop()                       # the way cleared: homing resumes
    assert home_tick()[0].source == 'home'
