# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The agent's gripper value as goals for a real gripper: hysteresis, one goal per change."""

import pytest
from robodopamine_ros.robot.gripper import GripperCommander, GripperSettings


def test_goals_only_when_the_value_crosses_the_band():
    commander = GripperCommander(GripperSettings(open_width=0.08, closed_width=0.0,
                                                 max_effort=40.0, threshold=0.5))
    values = [-1.0, -0.9, 0.2, 0.49, 0.7, 1.0, 0.1, -0.3, -0.6, -1.0, float('nan'), 0.8]
    goals = [commander.update(v) for v in values]
    assert goals == [(0.08, 40.0), None, None, None, (0.0, 40.0), None, None, None,
                     (0.08, 40.0), None, None, (0.0, 40.0)]


def test_a_policy_hovering_near_zero_never_chatters():
    commander = GripperCommander()
    assert [commander.update(v) for v in (0.3, -0.3, 0.45, -0.45) * 10] == [None] * 40


@pytest.mark.parametrize('settings', [{'threshold': 1.0}, {'max_effort': 0.0},
                                      {'open_width': -0.01}])
def test_bad_settings_are_refused(settings):
    with pytest.raises(ValueError, match='gripper'):
        GripperSettings(**settings)
