# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""teleop_node over real DDS: a Joy device too small for the mapping, a pad frozen mid-takeover."""

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


def test_a_pad_frozen_at_a_deflection_ends_the_takeover(ros_context, background):
    """joy_node's autorepeat of a pad gone out of range: the same deflection, new stamps."""
    teleop = TeleopNode(context=ros_context)
    probe = rclpy.create_node('rd_test_teleop_frozen', context=ros_context)
    actions = []
    probe.create_subscription(ActionStamped, 'teleop/action', background.collector(actions),
                              100)
    joy = probe.create_publisher(Joy, 'joy', 10)
    frozen = Joy(axes=[0.0, 0.8, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], buttons=[0, 0, 0, 0, 1])

    def repeat():   # 20 Hz, as joy_node's autorepeat_rate
        frozen.header.stamp = probe.get_clock().now().to_msg()
        joy.publish(frozen)
    for node in (teleop, probe):
        background.add_node(node)
    try:
        background.wait_until(lambda: joy.get_subscription_count() > 0, what='teleop_node')
        probe.create_timer(0.05, repeat)
        background.wait_until(lambda: teleop.teleop.active and actions, what='the takeover')
        background.wait_until(lambda: not teleop.teleop.active, timeout=3.0,
                              what='the frozen deflection to end the takeover')
        count = len(actions)
        background.wait_until(lambda: teleop.teleop.frozen_messages >= 10,
                              what='ten more repeats')
        assert len(actions) == count   # the repeats command nothing
        assert count <= 15             # about timeout_s (0.5 s) of repeats at 20 Hz
    finally:
        background.shutdown()
        for node in (teleop, probe):
            node.destroy_node()
