# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The stamp rule of every live stream (data/stamps.py): jumps either way, reordering, the future.

Issue 29 item 5: a backward step of the stamps refused every later message until the stamps
caught up, and one message stamped in 2096 held the arm until a restart. Time here is a fake
monotonic clock the test advances and a fake ROS clock (stamps' time base), no sleeps.
"""

import math

from hypothesis import given, settings, strategies as st
import pytest
from robodopamine_ros.data.stamps import FUTURE_TOLERANCE_S, JUMP_THRESHOLD_S, StampOrder
from robodopamine_ros.robot.teleop import PRESETS, Teleop
from robodopamine_ros.robot.watchdog import Watchdog

NOW = 1_780_000_000.0             # the node's ROS clock, s
YEAR_2096 = 3_980_000_000.0       # a stamp in 2096


def test_a_jump_back_re_bases_the_stream_at_once_and_is_noted_once():
    order = StampOrder('joint_states')
    assert order.check(NOW, NOW) and order.check(NOW + 0.01, NOW + 0.01)
    verdict = order.check(NOW - 5.0, NOW + 0.02)  # the clock stepped back 5 s
    assert verdict and verdict.jump == pytest.approx(-5.01)
    assert verdict.note == 'joint_states: stamps jumped back 5.010 s: re-based'
    following = order.check(NOW - 4.99, NOW + 0.03)
    assert following and following.note == ''  # noted once, not per message
    forward = order.check(NOW + 60.0, NOW + 60.0)  # stepped forward, not ahead of the clock
    assert forward and forward.jump == 0 and forward.note == ''  # a pause: nothing to re-base
    assert order.jumps == 1
    assert order.check(NOW + 0.1, NOW + 0.2).jump == pytest.approx(-59.9)  # and back again


def test_only_a_small_reordering_is_refused():
    order = StampOrder('reward')
    assert order.check(NOW)
    late = order.check(NOW - 0.02)  # within the threshold: a reordered message
    assert not late and late.refused == 'reordered' and late.note == ''
    assert order.newest == NOW and order.refused['reordered'] == 1
    assert order.check(NOW) and order.check(NOW + 0.01)  # equal or later: fresh


def test_a_stamp_from_the_future_is_refused_and_never_becomes_the_newest():
    order = StampOrder('joy')
    assert order.check(NOW, NOW)
    future = order.check(YEAR_2096, NOW + 0.05)
    assert not future and future.refused == 'future' and order.newest == NOW
    assert "ahead of this node's clock" in future.note and future.note.startswith('joy:')
    # every later real message counts: nothing waits for 2096
    assert all(order.check(NOW + 0.05 * k, NOW + 0.05 * k) for k in range(1, 20))
    near = order.check(NOW + 1.0 + FUTURE_TOLERANCE_S / 2, NOW + 1.0)  # within the bound
    assert near and order.check(NOW + 1.05, NOW + 1.05)  # and the next real one re-bases


def test_without_a_clock_there_is_no_future_bound():
    order = StampOrder('pose')
    assert order.check(YEAR_2096) and order.newest == YEAR_2096


def test_the_synchronizer_form_needs_three_items_in_a_row_for_a_small_jump_back():
    order = StampOrder('front', tolerance=20, jump=1000, behind_items=3, future=None)
    assert order.check(5000)
    assert not order.check(4900) and not order.check(4910)  # behind by more than 20 ...
    assert order.check(4920).jump == -80  # ... the third in a row re-bases
    assert order.check(3000).jump == -1920  # beyond the jump: at once


@pytest.mark.parametrize('kwargs, match', [
    ({'tolerance': -1.0}, 'tolerance must be a number >= 0'),
    ({'tolerance': math.nan}, 'tolerance must be a number >= 0'),
    ({'future': math.inf}, 'future must be a number >= 0'),
    ({'tolerance': 1.0, 'jump': 0.5}, r'jump \(0.5\) must be >= tolerance'),
])
def test_bad_thresholds_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StampOrder('joy', **kwargs)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-20.0, 20.0), min_size=1, max_size=6), st.integers(1, 10))
def test_after_any_clock_step_at_most_one_message_is_refused_at_20_hz(steps, messages):
    """The deadman takes effect within one message after a step, whatever its size."""
    order = StampOrder('joy')
    clock = NOW
    for step in steps:
        clock += step                          # sender's and node's clock step together
        counted = []
        for _ in range(messages + 1):
            clock += 0.05
            counted.append(bool(order.check(clock, clock)))
        assert all(counted[1:])                # a steady 20 Hz stream counts again ...
        assert counted[0] or -0.1 <= step < -0.05 + 1e-9  # ... only a step back of 1-2
        # messages' worth can cost its first message (a reordering within 50 ms)


def test_the_watchdog_keeps_a_stream_alive_after_a_message_from_2096():
    dog = Watchdog({'observation': 0.5}, clock=lambda: 0.0)
    t = 0.0
    assert dog.feed('observation', t, NOW, NOW)
    assert not dog.feed('observation', 0.05, YEAR_2096, NOW + 0.05)  # refused, counted
    for k in range(2, 40):  # 1.9 s of real messages: each one counts
        t = 0.05 * k
        assert dog.feed('observation', t, NOW + t, NOW + t)
    assert dog.stopped(t + 0.1) is None and dog.refused['observation'] == 1
    assert dog.stopped(t + 0.6) == 'observation stale for 0.60 s (timeout 0.5 s)'


def test_the_deadman_takes_effect_with_the_first_joy_message_after_a_step_back():
    teleop = Teleop(PRESETS['gamepad'])
    held, released = [0] * 11, [0] * 11
    held[4] = 1
    stamp = NOW
    for k in range(20):
        stamp += 0.05
        assert teleop.update([0.0] * 8, held, now=0.05 * k, stamp=stamp, clock_stamp=stamp).active
    event = teleop.update([0.0] * 8, released, now=1.0, stamp=stamp - 5.0,
                          clock_stamp=stamp - 5.0)  # the clock stepped back 5 s
    assert event is not None and event.ended and not teleop.active
    assert teleop.stamp_verdict.note == 'joy: stamps jumped back 5.000 s: re-based'
    future = teleop.update([0.0] * 8, held, now=1.05, stamp=YEAR_2096, clock_stamp=stamp - 4.95)
    assert future is None and not teleop.active  # a deadman from 2096 does not count
    event = teleop.update([0.0] * 8, held, now=1.1, stamp=stamp - 4.9, clock_stamp=stamp - 4.9)
    assert event.started  # the real one after it does


def test_jump_threshold_is_one_message_at_20_hz():
    assert JUMP_THRESHOLD_S <= 0.05 < FUTURE_TOLERANCE_S
