# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""teleop_node over real DDS: a Joy device too small for the mapping is refused and reported."""

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import rclpy
from robodopamine_interfaces.msg import ActionStamped
from robodopamine_ros.nodes.teleop_node import TeleopNode
from sensor_msgs.msg import Joy


def test_too_few_buttons_is_refused_with_a_diagnostics_error(ros_context, background):
    teleop = TeleopNode(context=ros_context)  # gamepad preset: LB (button 4) is the deadman
    probe = rclpy.create_node('rd_test_teleop_diag', context=ros_context)
    statuses, actions = [], []

    def on_diagnostics(msg):
        statuses.extend(s for s in msg.status if 'joy mapping' in s.name)
        background.notify()
    probe.create_subscription(DiagnosticArray, '/diagnostics', on_diagnostics, 10)
    probe.create_subscription(ActionStamped, 'teleop/action', background.collector(actions),
                              10)
    joy = probe.create_publisher(Joy, 'joy', 10)
    for node in (teleop, probe):
        background.add_node(node)
    try:
        background.wait_until(lambda: joy.get_subscription_count() > 0, what='teleop_node')
        small = Joy(axes=[0.0, 0.8, 0.0, 0.0, 0.0, 0.0], buttons=[1, 1])  # a 2-button device
        joy.publish(small)
        background.wait_until(lambda: statuses and statuses[-1].level == DiagnosticStatus.ERROR,
                              what='an ERROR diagnostics entry')
        message = statuses[-1].message
        assert 'Joy message has 2 buttons' in message and 'deadman 4' in message
        assert not teleop.teleop.active and not actions  # the takeover is refused
        pressed = Joy(axes=[0.0, 0.8, 0.0, 0.0, 0.0, 0.0], buttons=[0, 0, 0, 0, 1])
        joy.publish(pressed)
        background.wait_until(lambda: actions, what='teleop actions once the device fits')
        assert abs(actions[-1].values[0] - 0.8) < 1e-6
        background.wait_until(lambda: statuses[-1].level == DiagnosticStatus.OK,
                              what='diagnostics back to OK')
    finally:
        background.shutdown()
        for node in (teleop, probe):
            node.destroy_node()
