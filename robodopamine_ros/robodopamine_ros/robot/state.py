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


def hand_pose(values, frame_id, base_frame, topic='robodopamine/ee_pose'):
    """
    Return a received hand pose (7,) float32 (x, y, z, qx, qy, qz, qw; m), or raise ValueError.

    The workspace box, the adapters and the policy read the pose in ``base_frame``: a pose in
    another frame (a tracker's, the world's) would put the box somewhere else, and one with a
    NaN or infinite value would switch it off (NaN compares false with every face). Either is
    refused; the message names the topic, the frame or the values and what was expected.
    """
    pose = np.asarray(values, dtype=np.float32).reshape(-1)
    if frame_id != base_frame:
        raise ValueError(f'{topic}: frame_id {frame_id!r} is not base_frame {base_frame!r} '
                         '(the workspace box is in base_frame): pose refused')
    if pose.shape != (POSE_SIZE,) or not np.all(np.isfinite(pose)):
        raise ValueError(f'{topic}: pose must be {POSE_SIZE} finite values (x, y, z, qx, qy, '
                         f'qz, qw), got {pose.tolist()}: pose refused')
    return pose


def finite_object_poses(values, topic='robodopamine/object_poses'):
    """
    Return received object poses (objects, 7) float32, or raise ValueError naming topic.

    A NaN or infinite value would make the state non-finite (the policy could not act, and the
    transition must never be stored): refused, naming the objects (by index) at fault.
    """
    poses = np.asarray(values, dtype=np.float32).reshape(-1, POSE_SIZE)
    bad = [int(k) for k in np.nonzero(~np.isfinite(poses).all(axis=1))[0]]
    if bad:
        raise ValueError(f'{topic}: poses of objects {bad} are not finite (NaN or inf): poses '
                         'refused')
    return poses


def robot_state(joint_positions, ee_pose, object_poses=(), joints=None, objects=None):
    """
    Return the state vector (float32, shape (state_size(joints, objects),)).

    joint_positions: (joints,); ee_pose: (7,) hand pose; object_poses: (objects, 7) or empty.
    joints, objects: the counts the agent expects (its parameters of those names), checked
    when given. Raises ValueError naming the part whose shape or count is wrong.
    """
    positions = np.asarray(joint_positions, dtype=np.float32).reshape(-1)
    if joints is not None and len(positions) != joints:
        raise ValueError(f'joint_states has {len(positions)} positions, parameter joints says '
                         f'{joints}')
    pose = np.asarray(ee_pose, dtype=np.float32).reshape(-1)
    if pose.shape != (POSE_SIZE,):
        raise ValueError(f'ee_pose must hold {POSE_SIZE} values (x, y, z, qx, qy, qz, qw), '
                         f'got {pose.shape[0]}')
    poses = np.asarray(object_poses, dtype=np.float32)
    if poses.size and (poses.ndim != 2 or poses.shape[1] != POSE_SIZE):
        raise ValueError(f'object_poses must be (objects, {POSE_SIZE}), got shape '
                         f'{poses.shape}')
    count = len(poses) if poses.size else 0
    if objects is not None and count != objects:
        raise ValueError(f'robodopamine/object_poses has {count} poses, parameter objects '
                         f'says {objects}')
    return np.concatenate([positions, pose, poses.reshape(-1)])
