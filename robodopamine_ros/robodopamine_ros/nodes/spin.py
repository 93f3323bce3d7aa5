# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The main() every node shares: init, build the node, spin, shut down cleanly."""

import rclpy
from rclpy.executors import ExternalShutdownException


def run(node_class, name, args=None):
    """
    Run node_class until shutdown.

    A node that cannot start because of a bad parameter, a missing model folder or a missing
    optional dependency logs one fatal line naming the cause and exits with status 2.
    """
    rclpy.init(args=args)
    try:
        node = node_class()
    except (ValueError, FileNotFoundError, ImportError) as error:
        rclpy.logging.get_logger(name).fatal(f'cannot start: {error}')
        rclpy.try_shutdown()
        raise SystemExit(2)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
