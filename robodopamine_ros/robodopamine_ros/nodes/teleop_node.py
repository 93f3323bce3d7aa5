# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
teleop_node: a joystick (sensor_msgs/Joy) as the human's hand on the arm, with a deadman.

Pressing the deadman calls the agent's ``set_intervention`` service (active), releasing it
calls it again (inactive), and silence on ``joy`` past ``timeout_s`` ends the takeover too.
While the deadman is held, each Joy message becomes an ActionStamped on ``teleop/action``
(end-effector delta + gripper, intervention true). Mapping: ``preset`` (gamepad | spacemouse)
or the axis/button parameters (the ROS-free core: teleop.py). Time is monotonic (a wall-clock
step cannot hide a silent joystick); a Joy message stamped earlier than the last one is
ignored. A Joy message too short for the mapping is refused: one error line per distinct
problem, the takeover ends, and ``/diagnostics`` reports it (ERROR) until a valid message
arrives.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

from rclpy.node import Node
from robodopamine_interfaces.msg import ActionStamped
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.robot.teleop import mapping_from_settings, Teleop
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
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.joy_error = None
        self.create_subscription(Joy, 'joy', self._on_joy, 10)
        self.create_timer(0.05, self._check_silence)
        self.create_timer(1.0, self._publish_diagnostics)

    def _publish_diagnostics(self):
        level = DiagnosticStatus.ERROR if self.joy_error else DiagnosticStatus.OK
        status = DiagnosticStatus(level=level, name=f'{self.get_name()}: joy mapping',
                                  hardware_id='joy', message=self.joy_error or 'ok')
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array)

    def _set(self, active, why):
        self.client.call_async(SetIntervention.Request(active=active, source=why))

    def _on_joy(self, msg):
        was_active = self.teleop.active
        try:
            event = self.teleop.update(msg.axes, msg.buttons, time.monotonic(),
                                       msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9)
        except ValueError as error:
            if str(error) != self.joy_error:  # once per distinct problem
                self.joy_error = str(error)
                self.get_logger().error(self.joy_error)
                self._publish_diagnostics()
            if was_active:
                self._set(False, 'teleop: Joy message too short for the mapping')
            return
        if event is None:  # stamped earlier than the last message: not fresh
            return
        self.joy_error = None
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
        if self.teleop.check(time.monotonic()):
            self._set(False, 'teleop: joy silent')


def main(args=None):
    run(TeleopNode, 'teleop_node', args)


if __name__ == '__main__':
    main()
