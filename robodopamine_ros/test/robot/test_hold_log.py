# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A hold is logged when it starts and ends, and rarely in between (issue 30 item 3)."""

from robodopamine_ros.robot.hold_log import HoldLog


def test_a_hold_logs_its_start_its_end_with_the_duration_and_rare_reminders():
    log = HoldLog('holding the arm', repeat_s=5.0)
    lines = []
    for k in range(131):   # 13 s of a reward hold at 10 Hz, its age changing every tick
        lines += log.update(f'reward stale for {0.6 + k / 10:.2f} s (timeout 0.5 s)', k / 10)
    lines += log.update(None, 13.1)
    assert lines[0] == ('warn', 'holding the arm: reward stale for 0.60 s (timeout 0.5 s)')
    assert [text.split(' (')[0] for _, text in lines[1:3]] == ['still holding the arm'] * 2
    assert lines[-1] == ('info', 'holding the arm ended after 13.1 s')
    assert len(lines) == 4        # not 131
    assert log.update(None, 14.0) == []


def test_a_hold_of_another_kind_is_logged_at_once():
    log = HoldLog()
    assert log.update('teleop silent for 0.51 s (timeout 0.5 s)', 0.0)
    assert log.update('teleop silent for 0.61 s (timeout 0.5 s)', 0.1) == []
    assert log.update('latched e-stop: ~/estop called', 0.2) == [
        ('warn', 'holding the arm: latched e-stop: ~/estop called')]
    assert log.update(None, 1.2) == [('info', 'holding the arm ended after 1.2 s')]
