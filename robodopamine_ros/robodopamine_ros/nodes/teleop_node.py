# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
teleop_node: a joystick (sensor_msgs/Joy) as the human's hand on the arm, with a deadman.

Pressing the deadman calls the agent's ``set_intervention`` service (active), releasing it
calls it again (inactive), and silence on ``joy`` past ``timeout_s`` ends the takeover too.
While the deadman is held, each Joy message becomes an ActionStamped on ``teleop/action``
(end-effector delta + gripper, intervention true). Mapping: ``preset`` (gamepad | spacemouse)
or the axis/button parameters (the ROS-free core: teleop.py).
"""

from rclpy.node import Node
from robodopamine_interfaces.msg import ActionStamped
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.teleop import mapping_from_settings, Teleop
from sensor_msgs.msg import Joy


class TeleopNode(Node):

    def __init__(self, **kwargs):
        super().__init__('teleop_node', **kwargs)
        self.declare_parameter('preset', 'gamepad')
        self.declare_parameter('axes', [-1])           # [-1]: the preset's
        self.declare_parameter('scale', 0.0)           # 0: the preset's
        self.declare_parameter('deadman_button', -1)   # -1: the preset's
        self.declare_parameter('timeout_s', 0.0)       # 0: the preset's
        self.declare_parameter('intervention_service', 'rl_agent_node/set_intervention')
        self.teleop = Teleop(mapping_from_settings(*(self.get_parameter(n).value for n in (
            'preset', 'axes', 'scale', 'deadman_button', 'timeout_s'))))
        self.publisher = self.create_publisher(ActionStamped, 'teleop/action', 10)
        self.client = self.create_client(SetIntervention,
                                         self.get_parameter('intervention_service').value)
        self.create_subscription(Joy, 'joy', self._on_joy, 10)
        self.create_timer(0.05, self._check_silence)

    def _now(self):
        return self.get_clock().now().nanoseconds / 1e9

    def _set(self, active, why):
        self.client.call_async(SetIntervention.Request(active=active, source=why))

    def _on_joy(self, msg):
        try:
            event = self.teleop.update(msg.axes, msg.buttons, self._now())
        except ValueError as error:
            self.get_logger().error(str(error), throttle_duration_sec=5.0)
            return
        if event.started:
            self._set(True, 'teleop deadman pressed')
        if event.active:
            out = ActionStamped(values=[float(v) for v in event.action], intervention=True,
                                source='teleop')
            out.header.stamp = self.get_clock().now().to_msg()
            self.publisher.publish(out)
        if event.ended:
            self._set(False, 'teleop deadman released')

    def _check_silence(self):
        if self.teleop.check(self._now()):
            self._set(False, 'teleop: joy silent')


def main(args=None):
    run(TeleopNode, 'teleop_node', args)


if __name__ == '__main__':
    main()
