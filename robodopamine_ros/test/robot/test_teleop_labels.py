# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The joystick's outcome label buttons, without ROS (issue 28 item 2): one label per press."""

import pytest
from robodopamine_ros.robot.teleop import JoyMapping, mapping_from_settings, Teleop

AXES = [0.0] * 8


def buttons(*pressed):
    return [1 if k in pressed else 0 for k in range(11)]


def test_a_label_button_fires_once_per_press_without_the_deadman():
    teleop = Teleop(mapping_from_settings('gamepad'))   # Y (3) success, X (2) failure
    labels = [teleop.update(AXES, b, now=0.05 * k).label for k, b in enumerate([
        buttons(3), buttons(3), buttons(3),   # held: one label
        buttons(), buttons(2), buttons(2),    # released, then failure
        buttons(2, 3),                        # success added while failure held: an edge
        buttons(), buttons(2, 3),             # both at once: no label
    ])]
    assert labels == [True, None, None, None, False, None, True, None, None]
    assert not teleop.active   # the deadman was never held


def test_label_buttons_come_from_the_preset_or_the_parameters():
    assert mapping_from_settings('spacemouse').success_button == -1   # none on two buttons
    assert Teleop(mapping_from_settings('spacemouse')).update(
        [0.0] * 6, [1, 1]).label is None
    custom = mapping_from_settings('gamepad', success_button=9, failure_button=-1)
    assert (custom.success_button, custom.failure_button) == (9, -1)
    with pytest.raises(ValueError, match='success_button .* got 4 .also deadman_button'):
        JoyMapping(success_button=4)
