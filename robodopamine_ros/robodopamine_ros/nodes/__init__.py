# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
ROS 2 nodes: the only place in the package that imports rclpy.

A node converts messages, owns timers, QoS and parameters, and calls the ROS-free core.
"""
