# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The gripper command as a real gripper takes it: open/close goals with hysteresis.

The agent commands the gripper as the 4th action value in [-1, 1] (+1 close, -1 open), every
control tick. A real gripper (franka_gripper, Robotiq, ...) takes goals through an action
interface (control_msgs/GripperCommand: a width and an effort) and should not receive a new
goal every 100 ms, nor chatter when the policy's value hovers near 0. ``GripperCommander``
turns the stream of values into goals: close when the value rises above +threshold, open when
it falls below -threshold, nothing in between (hysteresis), and a goal only on a change.
"""

from dataclasses import dataclass
import math


@dataclass
class GripperSettings:
    open_width: float = 0.08      # m: the goal's position when opening (Franka hand: 0.08)
    closed_width: float = 0.0     # m: when closing (a grasp stops on the object)
    max_effort: float = 40.0      # N
    threshold: float = 0.5        # hysteresis band: |value| must exceed it to switch

    def __post_init__(self):
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f'gripper threshold must be in [0, 1), got {self.threshold}')
        if not (self.open_width >= 0.0 and self.closed_width >= 0.0 and self.max_effort > 0.0):
            raise ValueError('gripper open_width and closed_width must be >= 0 m and '
                             f'max_effort > 0 N, got {self.open_width}, {self.closed_width}, '
                             f'{self.max_effort}')


class GripperCommander:
    """Values in, goals out: ``update(value)`` returns (position m, effort N) or None."""

    def __init__(self, settings=None):
        settings = GripperSettings() if settings is None else settings
        self.settings = settings
        self.closed = None   # unknown until the first value past the band

    def update(self, value):
        """Return the goal to send for this command value, or None (no change)."""
        value = float(value)
        if not math.isfinite(value):
            return None      # a non-finite command never moves the gripper
        s = self.settings
        if value > s.threshold and self.closed is not True:
            self.closed = True
            return s.closed_width, s.max_effort
        if value < -s.threshold and self.closed is not False:
            self.closed = False
            return s.open_width, s.max_effort
        return None
