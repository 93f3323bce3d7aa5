# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The safety loop as users hit it: field cases 8-12 of ../shared/field_cases/README.md.

Time here is a fake monotonic clock advanced by the test (no sleeps): the code under test
reads time only through the clock it is given.
"""

import json
from pathlib import Path

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from robodopamine_ros.data.stamps import JUMP_THRESHOLD_S
from robodopamine_ros.reward.shaping import shape, ShapingConfig
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, TeleopExpiry
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.robot.teleop import JoyMapping, PRESETS, Teleop
from robodopamine_ros.robot.watchdog import Watchdog

FIELD_CASES = Path(__file__).resolve().parents[3].parent / 'shared' / 'field_cases'
SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='conrft', hidden=(16, 16), batch_size=8, gamma=0.98)
OBS = {'state': np.zeros(4, np.float32)}
HAND = [0.0, 0.6, 0.2]


class FakeClock:
    """A monotonic clock the test advances."""

    def __init__(self, t=100.0):
        self.t = t

    def __call__(self):
        return self.t


# case 8: wall-clock steps ----------------------------------------------------------------
def test_watchdog_and_teleop_react_within_the_timeout_when_the_wall_clock_steps_back():
    clock = FakeClock()
    dog = Watchdog({'observation': 0.5}, clock=clock)
    teleop = Teleop(PRESETS['gamepad'], clock=clock)
    wall = 1_700_000_000.0
    buttons = [0] * 11
    buttons[4] = 1
    for _ in range(10):  # 10 Hz messages stamped with the wall clock
        assert dog.feed('observation', stamp=wall)
        assert teleop.update([0.0] * 8, buttons, stamp=wall).active
        clock.t += 0.1
        wall += 0.1
    wall -= 10.0  # NTP steps the wall clock back 10 s; the sender publishes once more
    verdict = dog.feed('observation', stamp=wall)  # a jump: the stream is re-based, once
    assert verdict and verdict.note == 'observation: stamps jumped back 9.900 s: re-based'
    assert teleop.update([0.0] * 8, buttons, stamp=wall).active  # the deadman counts at once
    assert 'jumped back' in teleop.stamp_verdict.note
    assert dog.refused['observation'] == 0 and teleop.stale_messages == 0
    clock.t += 0.45  # then the sender goes silent: 0.45 s after its last message
    assert dog.stopped() is None and not teleop.check()
    clock.t += 0.1  # 0.55 s after the last message: both react
    assert 'stale for 0.55 s' in dog.stopped() and teleop.check() and not teleop.active


def test_a_clock_that_runs_backward_counts_as_stale_not_fresh():
    dog = Watchdog({'reward': 0.5})
    dog.feed('reward', now=1000.0)
    assert 'clock ran backward by 10.00 s' in dog.stopped(990.0)
    teleop = Teleop(PRESETS['gamepad'])
    buttons = [0] * 11
    buttons[4] = 1
    teleop.update([0.0] * 8, buttons, now=1000.0)
    assert teleop.check(990.0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 0.3), st.floats(-20.0, 0.5)), min_size=1,
                max_size=40), st.floats(0.05, 2.0))
def test_staleness_is_declared_within_the_timeout_of_the_last_fresh_message(steps, timeout):
    """Any stamp sequence (jitter, steps back): stale exactly timeout after the last fresh."""
    clock = FakeClock()
    dog = Watchdog({'camera': timeout}, clock=clock)
    stamp, last_fresh, newest = 0.0, None, None
    for dt, jump in steps:
        clock.t += dt
        stamp += jump
        # fresh: not earlier than the newest, or a jump back beyond the threshold (re-based)
        fresh = newest is None or stamp >= newest or newest - stamp > JUMP_THRESHOLD_S
        assert bool(dog.feed('camera', stamp=stamp)) == fresh
        if fresh:
            last_fresh, newest = clock.t, stamp
    clock.t = last_fresh + timeout * 0.99
    assert dog.stopped() is None
    clock.t = last_fresh + timeout * 1.01
    assert dog.stopped() is not None


# case 9: teleop dies mid-takeover ------------------------------------------------------------
def _loop(mode='train', expiry=None, max_velocity=(0.1,) * 3):
    expiry = TeleopExpiry() if expiry is None else expiry
    safety = SafetyConfig(max_velocity=max_velocity, workspace_low=(-5, -5, -5),
                          workspace_high=(5, 5, 5))
    loop = ControlLoop(PolicyActor(CONFIG, SHAPES, safety), mode, max_steps=10_000,
                       teleop=expiry)
    loop.start_episode(1)
    return loop


@pytest.mark.parametrize('max_velocity', [(0.1,) * 3, (1.0,) * 3])
def test_a_dead_teleop_drives_the_arm_at_most_5_cm(max_velocity):
    loop = _loop(max_velocity=max_velocity)
    loop.set_intervention(True, [1.0, 1.0, 1.0, 1.0], now=0.0)  # the last teleop message
    travel, sources = 0.0, []
    for k in range(50):  # 5 s of silence at 10 Hz
        result = loop.tick(0.1 * k, OBS, HAND)
        travel += np.linalg.norm(result.action[:3]) * loop.actor.safety.config.meters_per_unit
        sources.append(result.source)
    assert travel <= 0.05 + 1e-9
    assert sources[0] == 'teleop' and set(sources[10:]) == {'stop'}
    assert 'teleop silent for' in loop.tick(5.0, OBS, HAND).stop_reason
    loop.set_teleop_action([0.5, 0.0, 0.0, 1.0], now=5.05)  # the operator is back
    assert loop.tick(5.1, OBS, HAND).source == 'teleop'


def test_a_dead_teleop_can_hand_control_back_to_the_policy():
    loop = _loop(expiry=TeleopExpiry(on_timeout='policy'))
    loop.set_intervention(True, [1.0, 0.0, 0.0, 1.0], now=0.0)
    assert loop.tick(0.3, OBS, HAND).source == 'teleop'
    assert loop.tick(0.6, OBS, HAND).source == 'policy' and not loop.intervening


def test_teleop_expiry_settings_are_validated():
    with pytest.raises(ValueError, match="on_timeout must be one of \\('stop', 'policy'\\)"):
        TeleopExpiry(on_timeout='hover')
    with pytest.raises(ValueError, match='must be > 0'):
        TeleopExpiry(timeout_s=0.0)


# case 10: SpaceMouse gripper toggle ----------------------------------------------------------
def test_spacemouse_press_spanning_many_messages_toggles_the_gripper_once():
    path = FIELD_CASES / 'spacemouse-gripper-toggle' / 'spacenav_joy_sequence.json'
    if not path.is_file():
        pytest.skip(f'{path} is absent (the shared field cases are not beside this checkout)')
    teleop = Teleop(PRESETS['spacemouse'])
    grippers = [teleop.update(axes, buttons, now=t).action[3]
                for t, axes, buttons in json.loads(path.read_text())]
    changes = sum(a != b for a, b in zip(grippers, grippers[1:]))
    assert grippers[0] == -1.0 and grippers[-1] == 1.0 and changes == 1  # open -> closed


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 12), min_size=1, max_size=8))
def test_each_press_toggles_once_whatever_its_length(press_lengths):
    teleop = Teleop(PRESETS['spacemouse'])
    t, changes, last = 0.0, 0, teleop.gripper
    for length in press_lengths:
        for buttons in [[1, 1]] * length + [[1, 0]] * 2:
            t += 1 / 60
            gripper = teleop.update([0.0] * 6, buttons, now=t).action[3]
            changes += gripper != last
            last = gripper
    assert changes == len(press_lengths)


# case 11: Joy messages too short for the mapping ---------------------------------------------
def test_too_few_buttons_is_one_clear_error_and_refuses_the_takeover():
    teleop = Teleop(JoyMapping(deadman_button=4))
    buttons = [0] * 11
    buttons[4] = 1
    assert teleop.update([0.0] * 8, buttons, now=0.0).active
    with pytest.raises(ValueError) as error:
        teleop.update([0.0] * 8, [1, 1], now=0.1)  # a device with 2 buttons
    assert 'Joy message has 2 buttons, the mapping reads buttons deadman 4, close 0, ' \
        'open 1' in str(error.value) and 'takeover refused' in str(error.value)
    assert not teleop.active


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 12), st.integers(0, 12), st.integers(0, 10))
def test_joy_lengths_are_accepted_exactly_when_the_mapping_fits(n_axes, n_buttons, deadman):
    # no label buttons: they would clash with some deadmen (refused at start, another test)
    mapping = JoyMapping(deadman_button=deadman, success_button=-1, failure_button=-1)
    fits = n_axes >= 5 and n_buttons >= max(deadman, 1) + 1
    teleop = Teleop(mapping)
    try:
        teleop.update([0.0] * n_axes, [0] * n_buttons, now=0.0)
        accepted = True
    except ValueError as error:
        accepted = False
        assert str(n_buttons if n_buttons < max(deadman, 1) + 1 else n_axes) in str(error)
    assert accepted == fits


# case 12: every executed action stored once, with its step's reward ---------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0.0, 0.9)), min_size=2, max_size=40))
def test_every_action_is_stored_once_however_rewards_and_ticks_interleave(schedule):
    """schedule: per control tick, how many reward messages arrived before it, and progress."""
    episodes = []
    loop = ControlLoop(PolicyActor(CONFIG, SHAPES, SafetyConfig()), 'train', max_steps=10_000,
                       on_episode=episodes.append)
    loop.start_episode(3)
    executed, progress_at_tick = [], []
    for k, (messages, progress) in enumerate(schedule):
        for _ in range(messages):
            loop.observe_reward({'progress_after': progress, 'terminal': False,
                                 'truncated': False})
        progress_at_tick.append(loop.progress)
        result = loop.tick(0.1 * k, {'state': np.full(4, k, np.float32)}, HAND)
        executed.append(result.action)
    stored = loop.episode.transitions
    assert len(stored) == len(schedule) - 1  # the last action is still in flight
    for k, t in enumerate(stored):
        np.testing.assert_allclose(t['action'], executed[k])
        assert t['obs']['state'][0] == k and t['next_obs']['state'][0] == k + 1
        expected = shape(progress_at_tick[k], progress_at_tick[k + 1],
                         ShapingConfig(gamma=0.98))
        assert t['reward'] == pytest.approx(expected.reward)
    # the shaped rewards telescope over the stored chain
    total = sum(0.98 ** k * t['reward'] for k, t in enumerate(stored))
    assert total == pytest.approx(0.98 ** len(stored) * progress_at_tick[-1]
                                  - progress_at_tick[0], abs=1e-9)


def test_a_terminal_reward_ends_the_episode_with_the_success_bonus():
    episodes = []
    loop = ControlLoop(PolicyActor(CONFIG, SHAPES, SafetyConfig()), 'train',
                       on_episode=episodes.append)
    loop.start_episode(1)
    loop.tick(0.0, OBS, HAND)
    loop.observe_reward({'progress_after': 0.97, 'terminal': True, 'truncated': False})
    result = loop.tick(0.1, OBS, HAND)
    assert result.episode_done and result.summary['success']
    step = episodes[0].transitions[0]
    assert step['terminal'] and step['reward'] == pytest.approx(1.0 - 0.0)  # Phi(s') = 0
