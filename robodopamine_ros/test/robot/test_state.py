# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The policy's state vector on a robot."""

import numpy as np
import pytest
from robodopamine_ros.robot.state import robot_state, state_size


def test_the_layout_is_joints_then_hand_then_objects():
    pose = [0.1, 0.2, 0.3, 0.0, 0.0, 0.0, 1.0]
    state = robot_state(np.arange(9), pose, [[1.0] * 7, [2.0] * 7])
    assert state.dtype == np.float32 and state.shape == (state_size(9, 2),) == (30,)
    np.testing.assert_allclose(state[:9], np.arange(9))
    np.testing.assert_allclose(state[9:16], pose, rtol=1e-6)
    assert state[16:23].tolist() == [1.0] * 7 and state[23:].tolist() == [2.0] * 7
    assert robot_state(np.zeros(7), pose).shape == (state_size(7),) == (14,)


@pytest.mark.parametrize('joints, pose, objects, message', [
    (np.zeros(9), np.zeros(6), (), 'ee_pose must hold 7 values'),
    (np.zeros(9), np.zeros(7), np.zeros((2, 3)), r'object_poses must be \(objects, 7\)'),
])
def test_wrong_shapes_are_named(joints, pose, objects, message):
    with pytest.raises(ValueError, match=message):
        robot_state(joints, pose, objects)
    with pytest.raises(ValueError, match='joints must be >= 1'):
        state_size(0)


def test_counts_other_than_the_agent_expects_name_the_parameter():
    pose = [0.0] * 6 + [1.0]
    with pytest.raises(ValueError, match='joint_states has 7 positions, parameter joints says 9'):
        robot_state(np.zeros(7), pose, joints=9)
    with pytest.raises(ValueError, match='object_poses has 1 poses, parameter objects says 2'):
        robot_state(np.zeros(9), pose, np.zeros((1, 7)), joints=9, objects=2)
    with pytest.raises(ValueError, match='object_poses has 0 poses, parameter objects says 2'):
        robot_state(np.zeros(9), pose, (), objects=2)
    assert robot_state(np.zeros(9), pose, (), joints=9, objects=0).shape == (16,)


def test_non_finite_object_poses_are_refused_naming_the_objects():
    """Issue 29, item 11: a non-finite state is never built, so never stored."""
    from robodopamine_ros.robot.state import finite_object_poses

    poses = np.tile([0.1, 0.2, 0.0, 0, 0, 0, 1.0], (3, 1))
    np.testing.assert_array_equal(finite_object_poses(poses), poses.astype(np.float32))
    poses[2, 1] = np.nan
    with pytest.raises(ValueError, match=r'robodopamine/object_poses: poses of objects \[2\] '
                                         r'are not finite \(NaN or inf\): poses refused'):
        finite_object_poses(poses)
