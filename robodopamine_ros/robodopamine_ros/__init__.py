# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Robo-Dopamine for ROS 2.

Everything in this package except the ``nodes`` subpackage is ROS-free: it imports without
rclpy and serves users who adapt and evaluate reward models on a GPU box without ROS.
"""

__version__ = '0.1.0'
