# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Teleop mapping and deadman, the watchdog and e-stop latch, the controller adapters."""

import numpy as np
import pytest
from robodopamine_ros.robot.controller_adapters import to_command
from robodopamine_ros.robot.teleop import JoyMapping, PRESETS, Teleop
from robodopamine_ros.robot.watchdog import Watchdog

AXES = [0.0] * 8
BUTTONS = [0] * 11


def joy(axes=None, **pressed):
    a, b = list(AXES), list(BUTTONS)
    for i, v in (axes or {}).items():
        a[i] = v
    for i in pressed.get('buttons', ()):
        b[i] = 1
    return a, b


def test_deadman_press_starts_release_ends_and_silence_ends():
    teleop = Teleop(PRESETS['gamepad'])
    event = teleop.update(*joy({1: 0.5, 0: -1.0, 4: 0.02}), now=0.0)
    assert not event.active and event.action.tolist() == [0, 0, 0, -1]  # no deadman: no motion
    event = teleop.update(*joy({1: 0.5, 0: -1.0, 4: 0.02}, buttons=[4, 0]), now=0.1)
    assert event.started and event.active
    np.testing.assert_allclose(event.action, [0.5, -1.0, 0.0, 1.0])  # z in the deadzone; close
    assert not teleop.update(*joy(buttons=[4]), now=0.2).started
    event = teleop.update(*joy(), now=0.3)
    assert event.ended and not event.active
    teleop.update(*joy(buttons=[4]), now=1.0)
    assert not teleop.check(1.4) and teleop.check(1.6) and not teleop.active  # 0.5 s timeout
    assert not teleop.check(5.0)  # reported once


def test_spacemouse_preset_toggles_gripper_on_the_press_not_per_message():
    teleop = Teleop(PRESETS['spacemouse'])
    event = teleop.update(*joy({0: 0.3, 1: 0.05, 2: -0.4}, buttons=[0, 1]), now=0.0)
    np.testing.assert_allclose(event.action, [0.3, 0.0, -0.4, 1.0])
    assert teleop.update(*joy(buttons=[0, 1]), now=0.1).action[3] == 1.0  # still held
    assert teleop.update(*joy(buttons=[0]), now=0.2).action[3] == 1.0     # released
    assert teleop.update(*joy(buttons=[0, 1]), now=0.3).action[3] == -1.0  # pressed again


def test_bad_mappings_and_messages_are_named():
    with pytest.raises(ValueError, match='must name 3 entries'):
        JoyMapping(axes=(0, 1))
    with pytest.raises(ValueError, match=r'has 2 axes, the mapping reads axes \[1, 0, 4\]'):
        Teleop(JoyMapping()).update([0.0, 0.0], [0] * 11, now=0.0)


def test_watchdog_reports_stale_streams_and_estop_latches():
    dog = Watchdog({'observation': 0.2, 'reward': 0.5})
    assert 'never received' in dog.stopped(0.0)
    dog.feed('observation', 0.0)
    dog.feed('reward', 0.0)
    assert dog.stopped(0.1) is None
    assert dog.faults(0.3) == {'observation': 'stale for 0.30 s (timeout 0.2 s)'}
    dog.feed('observation', 0.3)
    dog.estop('operator pressed e-stop')
    dog.feed('reward', 0.3)
    assert dog.stopped(0.35) == 'latched e-stop: operator pressed e-stop'  # streams are fine
    dog.clear_estop()
    assert dog.stopped(0.35) is None
    with pytest.raises(KeyError, match="does not watch 'camera'"):
        dog.feed('camera', 0.0)
    with pytest.raises(ValueError, match='timeouts must be > 0'):
        Watchdog({'x': 0.0})


def test_adapters_convert_deltas_and_stop_is_zero_motion():
    action = [0.5, -1.0, 0.25, 1.0]
    twist = to_command('twist', action, period=0.1, meters_per_unit=0.01)
    np.testing.assert_allclose(twist.velocity, [0.05, -0.1, 0.025, 0, 0, 0])
    assert twist.gripper == 1.0
    array = to_command('float64_array', [0, 0, 0, -1], 0.1, 0.01)
    assert array.velocity == (0.0,) * 6
    pose = to_command('pose', action, 0.1, 0.01, ee_pose=[0.3, 0.0, 0.5, 0, 0, 0, 1])
    np.testing.assert_allclose(pose.pose, [0.305, -0.01, 0.5025, 0, 0, 0, 1])
    jacobian = np.array([[1.0, 0, 0, 0.5], [0, 1.0, 0, 0], [0, 0, 1.0, 0]])
    q = [0.1, 0.2, 0.3, 0.4]
    names = ('a', 'b', 'c', 'd')
    traj = to_command('joint_trajectory', action, 0.1, 0.01, joint_positions=q,
                      jacobian=jacobian, damping=1e-6, joint_names=names)
    assert traj.joint_names == names  # the command names the order of its positions
    np.testing.assert_allclose(jacobian @ (np.array(traj.positions) - q),
                               [0.005, -0.01, 0.0025], atol=1e-8)
    assert traj.time_from_start == 0.1
    held = to_command('joint_trajectory', [0, 0, 0, 0], 0.1, 0.01, joint_positions=q,
                      jacobian=jacobian, joint_names=names)
    np.testing.assert_allclose(held.positions, q)
    with pytest.raises(ValueError, match='needs the joint positions, their joint_names'):
        to_command('joint_trajectory', action, 0.1, 0.01, joint_positions=q, jacobian=jacobian)
    with pytest.raises(ValueError, match=r"4 joint positions for the 3 joint_names \['a', 'b', "):
        to_command('joint_trajectory', action, 0.1, 0.01, joint_positions=q, jacobian=jacobian,
                   joint_names=names[:3])
    with pytest.raises(ValueError, match='must be one of'):
        to_command('effort', action, 0.1, 0.01)
    with pytest.raises(ValueError, match='needs the current end-effector pose'):
        to_command('pose', action, 0.1, 0.01)
    with pytest.raises(ValueError, match='4 finite numbers'):
        to_command('twist', [np.nan, 0, 0, 0], 0.1, 0.01)


def test_homing_converges_within_the_safety_limits():
    from robodopamine_ros.rl.acting import PolicyActor
    from robodopamine_ros.rl.agent_loop import ControlLoop
    from robodopamine_ros.rl.agents import AgentConfig
    from robodopamine_ros.robot.safety import SafetyConfig

    actor = PolicyActor(AgentConfig(hidden=(8, 8)), {'state': (4,)},
                        SafetyConfig(max_velocity=(0.05,) * 3))
    loop = ControlLoop(actor, mode='eval', home=[0.0, 0.6, 0.2], home_tolerance=0.002)
    position = np.array([0.2, 0.5, 0.35])
    for step in range(200):  # noqa: B007 (step is read after the loop)
        action, home = loop.homing_action(position)
        if home:
            break
        assert np.all(np.abs(action[:3]) <= 0.5 + 1e-9)  # 0.05 m/s at 10 Hz, 1 cm per unit
        position = position + action[:3] * 0.01
    assert home and np.abs(position - [0.0, 0.6, 0.2]).max() <= 0.002
    assert 40 <= step <= 60  # 0.2 m at 5 mm per step
