# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""gripper_node over real DDS against a GripperCommand action server (franka_gripper's kind)."""

import pytest
import rclpy
from rclpy.action import ActionServer
from rclpy.parameter import Parameter
from std_msgs.msg import Float64

action = pytest.importorskip(
    'control_msgs.action', reason='control_msgs is not installed here: it has no PyPI wheel '
    'and the ROS environment of these tests is built from PyPI; on a ROS installation rosdep '
    'installs it (package.xml) and this test runs')


def test_goals_follow_the_agent_value_with_hysteresis(ros_context, background):
    from robodopamine_ros.nodes.gripper_node import GripperNode   # imports control_msgs

    GripperCommand = action.GripperCommand
    node = GripperNode(context=ros_context, parameter_overrides=[
        Parameter('action', value='test_gripper/gripper_action')])
    server_node = rclpy.create_node('rd_test_gripper_server', context=ros_context)
    goals = []

    def execute(handle):
        goals.append((handle.request.command.position, handle.request.command.max_effort))
        background.notify()
        handle.succeed()
        return GripperCommand.Result(reached_goal=True)
    ActionServer(server_node, GripperCommand, 'test_gripper/gripper_action', execute)
    command = server_node.create_publisher(Float64, 'gripper/command', 10)
    for n in (node, server_node):
        background.add_node(n)
    try:
        background.wait_until(lambda: command.get_subscription_count() > 0
                              and node.client.server_is_ready(), what='gripper_node and server')
        for value in (1.0, 0.9, 0.2, -0.2):   # close once; the band holds
            command.publish(Float64(data=value))
        background.wait_until(lambda: goals, what='the close goal')
        command.publish(Float64(data=-1.0))
        background.wait_until(lambda: len(goals) == 2, what='the open goal')
        assert goals == [(0.0, 40.0), (0.08, 40.0)]
    finally:
        background.shutdown()
        for n in (node, server_node):
            n.destroy_node()
