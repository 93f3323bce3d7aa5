# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The safety layer every action passes before it reaches a robot (issue 7).

Actions are normalized end-effector deltas (dx, dy, dz) plus the gripper, each in [-1, 1];
``meters_per_unit`` converts a delta to meters per control step. In order:
1. a NaN or infinite component turns the whole action into a stop: zero motion, the gripper
   held at its last commanded value (never guessed open or closed);
2. scaling (``action_scale`` per axis), then clipping to [-1, 1];
3. per-axis velocity limits (``max_velocity``, m/s, with the control period);
4. the workspace box: the commanded step may not end outside [workspace_low,
   workspace_high]; when the arm is already outside, only motion back toward the box passes.
   A hand position that is NaN or infinite is a stop too (rule 1), for every source: a box
   compared with NaN would let every step through.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SafetyConfig:
    action_scale: tuple = (1.0, 1.0, 1.0)
    max_velocity: tuple = (0.1, 0.1, 0.1)            # m/s per axis
    control_period: float = 0.1                        # s
    meters_per_unit: float = 0.01                      # m per unit action per step
    workspace_low: tuple = (-0.5, 0.3, 0.0)            # m, end-effector position
    workspace_high: tuple = (0.5, 0.9, 0.4)
    initial_gripper: float = -1.0                      # held on a stop before any command
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        for name in ('action_scale', 'max_velocity', 'workspace_low', 'workspace_high'):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (3,) or not np.all(np.isfinite(value)):
                raise ValueError(f'safety {name} must be 3 finite numbers, got '
                                 f'{getattr(self, name)!r}')
        if np.any(np.asarray(self.max_velocity) <= 0):
            raise ValueError(f'safety max_velocity must be > 0, got {self.max_velocity}')
        if np.any(np.asarray(self.workspace_low) >= np.asarray(self.workspace_high)):
            raise ValueError(f'safety workspace_low {self.workspace_low} must be below '
                             f'workspace_high {self.workspace_high} on every axis')
        if not (self.control_period > 0 and self.meters_per_unit > 0):
            raise ValueError('safety control_period and meters_per_unit must be > 0')

    @property
    def max_units(self):
        """Largest |delta| per axis, in action units, from the velocity limits."""
        return np.minimum(1.0, np.asarray(self.max_velocity) * self.control_period
                          / self.meters_per_unit)


class SafetyLayer:
    """Filter actions; remembers the last gripper command to hold it on a stop."""

    def __init__(self, config=None):
        config = SafetyConfig() if config is None else config
        self.config = config
        self.gripper = float(config.initial_gripper)
        self.low, self.high = np.asarray(config.workspace_low), np.asarray(config.workspace_high)

    def outside(self, ee_position, margin=0.0):
        """
        Return None when the hand is inside the workspace box (grown by margin, m), else why.

        The policy does not drive an arm that is outside its box: a box in the wrong frame
        (e.g. the simulator's on a real robot) would let it move one way only.
        """
        position = np.asarray(ee_position, dtype=np.float64)[:3]
        if np.all(position >= self.low - margin) and np.all(position <= self.high + margin):
            return None
        return (f'the hand at ({", ".join(f"{v:.3f}" for v in position)}) m is outside the '
                f'workspace box low {self.low.tolist()} high {self.high.tolist()}: check '
                'workspace_low / workspace_high (the robot base frame)')

    def __call__(self, action, ee_position=None):
        """Return (safe action, list of the rules that changed it)."""
        c = self.config
        action = np.asarray(action, dtype=np.float64).reshape(-1)
        if action.shape != (4,):
            raise ValueError(f'action must be (dx, dy, dz, gripper), got shape {action.shape}')
        if not np.all(np.isfinite(action)):
            return np.array([0.0, 0.0, 0.0, self.gripper]), ['non-finite: stop']
        if ee_position is not None and not np.all(np.isfinite(
                np.asarray(ee_position, dtype=np.float64)[:3])):
            return np.array([0.0, 0.0, 0.0, self.gripper]), ['non-finite hand position: stop']
        changed = []
        with np.errstate(over='ignore'):  # a huge finite value scales to inf, clipped next
            delta = action[:3] * np.asarray(c.action_scale)
        clipped = np.clip(delta, -1.0, 1.0)
        gripper = float(np.clip(action[3], -1.0, 1.0))
        if not np.array_equal(clipped, delta) or gripper != action[3]:
            changed.append('range')
        limit = c.max_units
        limited = np.clip(clipped, -limit, limit)
        if not np.array_equal(limited, clipped):
            changed.append('velocity')
        if ee_position is not None:
            position = np.asarray(ee_position, dtype=np.float64)[:3]
            step = limited * c.meters_per_unit
            target = np.clip(position + step, self.low, self.high)
            # outside the box already: allow only the part of the step that heads back in
            inward = np.where(position + step < self.low, np.maximum(step, 0.0),
                              np.where(position + step > self.high, np.minimum(step, 0.0),
                                       step))
            inside = (position >= self.low) & (position <= self.high)
            allowed = np.where(inside, target - position, inward)
            boxed = np.clip(allowed / c.meters_per_unit, -limit, limit)
            if not np.allclose(boxed, limited):
                changed.append('workspace')
            limited = boxed
        self.gripper = gripper
        return np.concatenate([limited, [gripper]]), changed
