# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
gripper_node: the agent's gripper command (Float64 on ``gripper/command``) as action goals.

For a real gripper behind an action interface (control_msgs/action/GripperCommand; franka_ros2's
franka_gripper serves one as ``<arm_id>_gripper/gripper_action``). Goals are sent only when the
command crosses the hysteresis band (gripper.GripperCommander); a new goal preempts the old one.
Parameters: action (the action name), open_width, closed_width (m), max_effort (N), threshold.
Needs control_msgs (declared in package.xml).
"""

from control_msgs.action import GripperCommand
from rclpy.action import ActionClient
from rclpy.node import Node
from robodopamine_ros.nodes.parameters import declare_parameter
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.robot.gripper import GripperCommander, GripperSettings
from std_msgs.msg import Float64


class GripperNode(Node):

    def __init__(self, **kwargs):
        super().__init__('gripper_node', **kwargs)
        declare_parameter(self, 'action', 'fr3_gripper/gripper_action')
        defaults = GripperSettings()
        for name in ('open_width', 'closed_width', 'max_effort', 'threshold'):
            declare_parameter(self, name, getattr(defaults, name))
        self.commander = GripperCommander(GripperSettings(**{
            n: self.get_parameter(n).value for n in (
                'open_width', 'closed_width', 'max_effort', 'threshold')}))
        self.action_name = self.get_parameter('action').value
        self.client = ActionClient(self, GripperCommand, self.action_name)
        self.create_subscription(Float64, 'gripper/command', self._on_command, 10)

    def _on_command(self, msg):
        goal = self.commander.update(msg.data)
        if goal is None:
            return
        if not self.client.server_is_ready():
            self.get_logger().error(f'gripper action {self.action_name} is not '
                                    'available: goal not sent', throttle_duration_sec=5.0)
            self.commander.closed = None   # send again on the next command past the band
            return
        request = GripperCommand.Goal()
        request.command.position, request.command.max_effort = goal
        self.client.send_goal_async(request)


def main(args=None):
    run(GripperNode, 'gripper_node', args)


if __name__ == '__main__':
    main()
