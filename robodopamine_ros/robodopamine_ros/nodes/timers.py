# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The clock every node's timers run on: steady without sim time, ROS time only with it.

rclpy's ``Node.create_timer`` runs on the node's ROS clock, which without sim time is the system
clock: NTP, chrony or an operator can step it, and a step back of 5 s stalled every such timer
for 5.1 s (issue 29, under libfaketime): rl_agent_node's control tick (with it the watchdog,
the e-stop and the teleop expiry), teleop_node's silence check, shaping_node's and grm_node's
ticks. ``node_timer`` is the one place the choice is written (docs/architecture.md#clocks):

- ``use_sim_time`` false: ``ClockType.STEADY_TIME``, a monotonic clock no step can move
  (rclcpp's ``create_wall_timer`` is the reference);
- ``use_sim_time`` true: the node's ROS clock, driven by ``/clock``, so the timers follow the
  simulation's rate and stop while it is paused.

The choice is made when the timer is created, from ``use_sim_time`` at that moment: set it when
the node starts (the launch file does), not later.
"""

from rclpy.clock import Clock, ClockType


def timer_clock(node):
    """Return the clock `node`'s timers run on: its ROS clock with sim time, else steady."""
    if node.get_parameter('use_sim_time').value:
        return node.get_clock()
    return Clock(clock_type=ClockType.STEADY_TIME)


def node_timer(node, period_s, callback, callback_group=None):
    """Create a timer of `period_s` seconds on ``timer_clock(node)``; returns the rclpy Timer."""
    return node.create_timer(period_s, callback, callback_group=callback_group,
                             clock=timer_clock(node))
