# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A service answered in a thread of its own, beside the node's executor.

rclpy answers a service in the callback that computes the answer: a slow one (a checkpoint of
a full buffer, seconds) holds the executor thread, and with it the node's timers (the control
tick). A MultiThreadedExecutor with a callback group for the service would let them run side by
side, but rclpy's spins hot while a group is busy (test/ros/conftest.py: 30 Hz timers firing at
2 Hz). So ``SideService`` serves the service from a small node of its own (``<node>_<what>``,
global remappings ignored so it never takes the main node's name), spun by a single-threaded
executor in its own thread, under the name the main node resolves (``~/save_checkpoint`` ->
``/rl_agent_node/save_checkpoint``). The callback runs in that thread.
"""

import threading

import rclpy
from rclpy.executors import SingleThreadedExecutor


class SideService:
    """Serve one service of `node` from a thread of its own; destroy() with the node."""

    def __init__(self, node, srv_type, name, callback, what):
        """name: as the node would resolve it (e.g. '~/save_checkpoint'); what: name suffix."""
        self.name = node.resolve_service_name(name)
        self.node = rclpy.create_node(f'{node.get_name()}_{what}', namespace=node.get_namespace(),
                                      context=node.context, use_global_arguments=False,
                                      start_parameter_services=False)
        self.service = self.node.create_service(srv_type, self.name, callback)
        self.executor = SingleThreadedExecutor(context=node.context)
        self.executor.add_node(self.node)
        self.thread = threading.Thread(target=self._spin, name=what, daemon=True)
        self.thread.start()

    def _spin(self):
        try:
            self.executor.spin()
        except Exception:  # noqa: B902 - the context shut down under it
            pass

    def destroy(self, timeout_s=5.0):
        self.executor.shutdown(timeout_sec=timeout_s)
        self.thread.join(timeout_s)
        self.node.destroy_node()
