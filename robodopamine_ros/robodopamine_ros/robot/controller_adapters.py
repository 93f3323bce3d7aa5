# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The agent's end-effector delta as ros2_control commands, ROS-free (the node copies the fields).

The action (dx, dy, dz, gripper) has already passed the safety layer; one unit of delta is
``meters_per_unit`` metres per control period. Adapters:
- ``twist``: a Cartesian velocity (m/s), e.g. geometry_msgs/TwistStamped for MoveIt Servo;
- ``float64_array``: the same velocity as six numbers (vx, vy, vz, wx, wy, wz) for a forward
  command controller in Cartesian velocity mode (std_msgs/Float64MultiArray);
- ``joint_trajectory``: joint positions one period ahead, through a Jacobian
  (damped least squares) supplied by the caller for the current joint state
  (trajectory_msgs/JointTrajectory for joint_trajectory_controller). The positions, the
  Jacobian's columns and the command's ``joint_names`` are in the configured ``joint_names``
  order: the caller maps ``joint_states`` by name first (data/joints.py), and the command
  carries the names its positions are in, so a message never pairs them otherwise;
- ``pose``: a target pose = current pose + the delta, orientation held
  (geometry_msgs/PoseStamped for Cartesian impedance controllers).
A stop is the zero delta in every adapter: zero velocity, or the current pose / joints held.
"""

from dataclasses import dataclass

import numpy as np

ADAPTERS = ('twist', 'float64_array', 'joint_trajectory', 'pose')


@dataclass(frozen=True)
class Command:
    kind: str
    velocity: tuple = ()        # twist / float64_array: vx, vy, vz, wx, wy, wz (m/s, rad/s)
    positions: tuple = ()       # joint_trajectory: target joint positions ...
    joint_names: tuple = ()     # ... of these joints, in this order
    time_from_start: float = 0.0
    pose: tuple = ()            # pose: x, y, z, qx, qy, qz, qw
    gripper: float = 0.0


def to_command(kind, action, period, meters_per_unit, ee_pose=None, joint_positions=None,
               jacobian=None, damping=1e-2, joint_names=None):
    """
    Return the Command of one safe action for the selected adapter.

    joint_trajectory: joint_positions (n,) in the order of joint_names (n names, the configured
    order), jacobian (3, n) with its columns in that order. Raises ValueError naming what is
    missing or whose size differs.
    """
    action = np.asarray(action, dtype=float)
    if action.shape != (4,) or not np.all(np.isfinite(action)):
        raise ValueError(f'action must be 4 finite numbers, got {action!r}')
    step = action[:3] * meters_per_unit  # metres this period
    gripper = float(action[3])
    if kind in ('twist', 'float64_array'):
        velocity = tuple(float(v) for v in np.concatenate([step / period, np.zeros(3)]))
        return Command(kind, velocity=velocity, gripper=gripper)
    if kind == 'pose':
        if ee_pose is None:
            raise ValueError('the pose adapter needs the current end-effector pose')
        pose = np.asarray(ee_pose, dtype=float).copy()
        pose[:3] += step
        return Command(kind, pose=tuple(float(v) for v in pose), gripper=gripper)
    if kind == 'joint_trajectory':
        if joint_positions is None or jacobian is None or joint_names is None:
            raise ValueError('the joint_trajectory adapter needs the joint positions, their '
                             'joint_names and a Jacobian (3 x n, position rows) for them')
        q = np.asarray(joint_positions, dtype=float).reshape(-1)
        names = tuple(joint_names)
        if len(names) != q.size:
            raise ValueError(f'{q.size} joint positions for the {len(names)} joint_names '
                             f'{list(names)}')
        j = np.asarray(jacobian, dtype=float)
        if j.shape != (3, q.size):
            raise ValueError(f'Jacobian must be 3 x {q.size}, got {j.shape}')
        dq = j.T @ np.linalg.solve(j @ j.T + damping ** 2 * np.eye(3), step)
        return Command(kind, positions=tuple(float(v) for v in q + dq), joint_names=names,
                       time_from_start=float(period), gripper=gripper)
    raise ValueError(f'controller adapter must be one of {ADAPTERS}, got {kind!r}')


def twist_to_action(linear, gripper, period, meters_per_unit):
    """Invert the twist adapter: a Cartesian velocity (m/s) back to the normalized action."""
    delta = np.asarray(linear, dtype=float) * period / meters_per_unit
    return np.concatenate([delta, [float(gripper)]])
