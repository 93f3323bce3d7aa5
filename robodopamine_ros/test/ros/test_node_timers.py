# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Every node's timers: a steady clock without sim time, ROS time only with it (issue 29, item 4).

Timers on the ROS clock stall while the system clock is stepped back (5.1 s for a 5 s step,
under libfaketime): the control tick, the watchdog, the e-stop, the teleop silence check. Here
each node is built as the launch file builds it and the clock of every timer it created is
checked; then a node whose ROS clock stands still (sim time switched on after start, no
/clock) still ends a silent takeover on time, which a timer on the ROS clock would not.
"""

import pytest
import rclpy
from rclpy.clock import ClockType
from rclpy.parameter import Parameter
from robodopamine_ros.nodes.grm_node import GRMNode
from robodopamine_ros.nodes.recorder_node import RecorderNode
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.nodes.teleop_node import TeleopNode
from sensor_msgs.msg import Joy

NODES = {'rl_agent_node': RLAgentNode, 'teleop_node': TeleopNode, 'shaping_node': ShapingNode,
         'grm_node': GRMNode, 'recorder_node': RecorderNode}


def build(name, context, sim_time, model_dir, tmp_path):
    extra = {'grm_node': {'model_dir': str(model_dir)},
             'recorder_node': {'bag': str(tmp_path / 'bag')},
             'rl_agent_node': {'mode': 'eval'}}.get(name, {})
    overrides = [Parameter('use_sim_time', value=sim_time)] + [
        Parameter(k, value=v) for k, v in extra.items()]
    return NODES[name](context=context, parameter_overrides=overrides)


@pytest.mark.parametrize('sim_time', [False, True], ids=['wall', 'sim_time'])
@pytest.mark.parametrize('name', sorted(NODES))
def test_timers_run_on_a_steady_clock_unless_sim_time(name, sim_time, ros_context, model_dir,
                                                      tmp_path):
    node = build(name, ros_context, sim_time, model_dir, tmp_path)
    try:
        clocks = {timer.clock.clock_type for timer in node.timers}
        assert clocks, f'{name} has no timer'
        assert clocks == {ClockType.ROS_TIME if sim_time else ClockType.STEADY_TIME}, name
    finally:
        node.destroy_node()


def test_a_silent_joystick_ends_the_takeover_while_ros_time_stands_still(ros_context,
                                                                         background):
    teleop = TeleopNode(context=ros_context)   # use_sim_time false: steady timers
    # the ROS clock now stands still (sim time, and nobody publishes /clock): a timer on it
    # would never fire again, as one on the system clock does not while it is stepped back
    teleop.set_parameters([Parameter('use_sim_time', value=True)])
    frozen = teleop.get_clock().now()
    probe = rclpy.create_node('rd_test_timer_clock', context=ros_context)
    joy = probe.create_publisher(Joy, 'joy', 10)
    for node in (teleop, probe):
        background.add_node(node)
    try:
        background.wait_until(lambda: joy.get_subscription_count() > 0, what='teleop_node')
        buttons = [0] * 11
        buttons[4] = 1                                  # the gamepad's deadman
        joy.publish(Joy(axes=[0.0] * 8, buttons=buttons))
        background.wait_until(lambda: teleop.teleop.active, what='the takeover')
        # no more Joy: the 20 Hz silence check ends it after timeout_s (0.5 s)
        background.wait_until(lambda: not teleop.teleop.active, timeout=3.0,
                              what='the silence check, with ROS time standing still')
        assert teleop.get_clock().now() == frozen
    finally:
        background.shutdown()
        for node in (teleop, probe):
            node.destroy_node()
