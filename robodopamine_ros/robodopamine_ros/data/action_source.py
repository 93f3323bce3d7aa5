# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Who commanded an action: the closed set recorded in ActionStamped.source and in bags."""

from enum import Enum


class ActionSource(str, Enum):
    """An action's source; a member equals its string value (what messages and bags carry)."""

    POLICY = 'policy'      # the learned policy
    TELEOP = 'teleop'      # a human takeover (joystick / SpaceMouse through teleop_node)
    EXPERT = 'expert'      # the simulator's scripted expert (demonstrations)
    HOME = 'home'          # the move-to-home routine between episodes
    STOP = 'stop'          # zero motion, the gripper held (watchdog, e-stop, between episodes)

    @property
    def is_human_or_demonstrator(self):
        """Whether the action is a demonstration (recorded with intervention = true)."""
        return self in (ActionSource.TELEOP, ActionSource.EXPERT)
