# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A joystick lost while the deadman is held (issue 29, item 2), through the ROS-free cores.

The scenario: the gamepad preset, Joy at 20 Hz, the deadman held and axis 1 near 0.8 for 1 s,
then joy_node's autorepeat repeats the last message (same axes and buttons, new stamps) for
10 s, as when a wireless pad goes out of range. teleop_node's chain is replayed on one
monotonic clock: Teleop.update per Joy message, Teleop.check at 20 Hz (teleop_node's timer),
the agent's ControlLoop at config/franka_fr3.yaml's control rate and limits; the distance is
what the loop commands (action x meters_per_unit per tick) after the pad is gone.
"""

from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.robot.teleop import mapping_from_settings, PRESETS, Teleop
import yaml

CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'franka_fr3.yaml'
JOY_HZ = 20.0
OBS = {'state': np.zeros(4, np.float32)}


def franka_settings():
    document = yaml.safe_load(CONFIG.read_text())
    agent = RLAgentSettings(**document['rl_agent_node']['ros__parameters'])
    teleop = document['teleop_node']['ros__parameters']
    return agent, mapping_from_settings(teleop['preset'], timeout_s=teleop['timeout_s']), \
        document['joy_node']['ros__parameters']


def pad(x, deadman=True):
    axes, buttons = [0.0] * 8, [0] * 11
    axes[1] = x
    buttons[4] = int(deadman)
    return axes, buttons


def replay(frozen_after_s=1.0, total_s=11.0, deliver_end=True, seed=0):
    """
    Return (metres commanded after the freeze, why the takeover ended, the Teleop).

    Until frozen_after_s the thumb holds axis 1 near 0.8 (a few bits of jitter, as a real
    stick); after it the last message repeats bit for bit. deliver_end: whether teleop_node's
    set_intervention(False) reaches the agent (False: only the agent's teleop expiry acts).
    """
    agent, mapping, _ = franka_settings()
    teleop = Teleop(mapping)
    actor = PolicyActor(AgentConfig(algorithm='conrft', hidden=(8, 8), gamma=agent.gamma),
                        {'state': (4,)}, agent.safety_config())
    loop = ControlLoop(actor, 'collect', max_steps=100_000, teleop=agent.teleop_expiry())
    loop.start_episode(1)
    rng = np.random.default_rng(seed)
    hand = np.array(agent.home(), dtype=float)
    ticks_per_joy = round(JOY_HZ / agent.control_rate)
    after, ended, last = 0.0, None, None
    for k in range(int(total_s * JOY_HZ)):
        now = 100.0 + k / JOY_HZ
        if now - 100.0 < frozen_after_s:
            last = pad(0.8 + rng.integers(-3, 4) / 32767.0)   # a thumb: never bit for bit
        event = teleop.update(*last, now=now, stamp=now)       # new stamp, same values
        if event is not None:
            if event.started:
                loop.set_intervention(True, now=now)
            if event.active:
                loop.set_teleop_action(event.action, now)
            if event.ended and deliver_end:
                loop.set_intervention(False, now=now)
        why = teleop.check(now)
        if why:
            ended = ended or why
            if deliver_end:
                loop.set_intervention(False, now=now)
        if k % ticks_per_joy == 0:
            result = loop.tick(now, OBS, hand)
            step = result.action[:3] * agent.meters_per_unit
            hand = hand + step
            if now - 100.0 >= frozen_after_s:
                after += float(np.linalg.norm(step))
    return after, ended, teleop


def test_a_pad_frozen_at_a_deflection_ends_the_takeover_within_the_timeout():
    agent, mapping, _ = franka_settings()
    after, ended, teleop = replay()
    # 0.8 x 5 mm per 0.1 s = 4 cm/s for at most the teleop timeout (0.5 s): 2 cm, not 0.4 m
    assert after <= 0.801 * agent.meters_per_unit * agent.control_rate * mapping.timeout_s
    assert after < 0.03
    assert 'repeated the same deflection' in ended and 'lost or frozen' in ended
    assert not teleop.active and teleop.frozen_messages > 150   # the repeats moved nothing


def test_without_the_hand_back_the_agents_teleop_expiry_still_stops_within_a_few_cm():
    agent, mapping, _ = franka_settings()
    after, _, _ = replay(deliver_end=False)
    bound = 0.801 * agent.meters_per_unit * agent.control_rate * (
        mapping.timeout_s + agent.teleop_timeout)
    assert after <= bound + 1e-6 and after < 0.05


def test_a_thumb_held_still_keeps_the_takeover_and_a_pad_at_rest_moves_nothing():
    mapping = PRESETS['gamepad']
    teleop = Teleop(mapping)
    for k in range(200):   # 10 s of autorepeat at rest with the deadman held: a human pausing
        event = teleop.update(*pad(0.0), now=k / JOY_HZ)
        assert event.active and not np.any(event.action[:3])
        assert teleop.check(k / JOY_HZ) is None
    rng = np.random.default_rng(1)
    for k in range(200, 400):  # a thumb at 0.8 with its jitter: never frozen
        event = teleop.update(*pad(0.8 + rng.normal(0, 3) / 32767.0), now=k / JOY_HZ)
        assert event.active and event.action[0] == pytest.approx(0.8, abs=1e-3)
    assert teleop.frozen_messages == 0 and teleop.check(400 / JOY_HZ) is None


def test_repeats_within_the_timeout_act_and_the_next_change_takes_over_again():
    teleop = Teleop(PRESETS['gamepad'])
    assert teleop.update(*pad(0.8), now=0.0).started
    assert teleop.update(*pad(0.8), now=0.45).active          # a repeat within 0.5 s acts
    assert teleop.update(*pad(0.8), now=0.55) is None         # ... beyond it does not
    assert 'repeated the same deflection for 0.55 s' in teleop.check(0.55)
    assert teleop.update(*pad(0.8), now=5.0) is None and teleop.check(5.0) is None
    assert teleop.update(*pad(0.0), now=5.05).started         # the pad is back, at rest
    assert 'joy silent for 0.60 s' in teleop.check(5.65)      # silence still reads as silence


def test_the_joy_autorepeat_keeps_a_still_deadman_alive_and_the_config_says_why():
    _, mapping, joy = franka_settings()
    # at least two repeats per timeout: a thumb holding the deadman with the stick at rest
    # sends nothing else, and silence past timeout_s would end every pause
    assert joy['autorepeat_rate'] >= 2.0 / mapping.timeout_s
    text = CONFIG.read_text()
    assert 'autorepeat_rate' in text and 'frozen' in text
