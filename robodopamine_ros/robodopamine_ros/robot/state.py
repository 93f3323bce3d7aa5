# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The policy's state vector on a robot: joint positions, the hand pose, tracked object poses.

One layout for every place that builds it (rl_agent_node from joint_states, the hand's
PoseStamped and an optional PoseArray of tracked objects; the simulator's ``robot_state``;
the ROS-free training's ``observation='robot'``), so a checkpoint trained in one of them acts
in the others:

    state = [q_1 .. q_joints, x, y, z, qx, qy, qz, qw (hand), then per object x, y, z, qx, qy,
             qz, qw]

Positions in m, joint positions in rad (fingers in m), quaternions (x, y, z, w). The objects
are what the arm must find (a peg and the hole on the insertion task): a policy that sees only
its own joints cannot tell one layout from another. On a real robot they come from a pose
tracker (fiducials, a 6-D pose estimator); in simulation from the simulator's state.
"""

import numpy as np

POSE_SIZE = 7  # x, y, z, qx, qy, qz, qw


def state_size(joints, objects=0):
    """Length of the state vector of `joints` joint positions and `objects` tracked objects."""
    if joints < 1 or objects < 0:
        raise ValueError(f'joints must be >= 1 and objects >= 0, got {joints} and {objects}')
    return joints + POSE_SIZE * (1 + objects)


def robot_state(joint_positions, ee_pose, object_poses=()):
    """
    Return the state vector (float32, shape (state_size(joints, objects),)).

    joint_positions: (joints,); ee_pose: (7,) hand pose; object_poses: (objects, 7) or empty.
    Raises ValueError naming the part whose shape is wrong.
    """
    joints = np.asarray(joint_positions, dtype=np.float32).reshape(-1)
    pose = np.asarray(ee_pose, dtype=np.float32).reshape(-1)
    if pose.shape != (POSE_SIZE,):
        raise ValueError(f'ee_pose must hold {POSE_SIZE} values (x, y, z, qx, qy, qz, qw), '
                         f'got {pose.shape[0]}')
    objects = np.asarray(object_poses, dtype=np.float32)
    if objects.size and (objects.ndim != 2 or objects.shape[1] != POSE_SIZE):
        raise ValueError(f'object_poses must be (objects, {POSE_SIZE}), got shape '
                         f'{objects.shape}')
    return np.concatenate([joints, pose, objects.reshape(-1)])
