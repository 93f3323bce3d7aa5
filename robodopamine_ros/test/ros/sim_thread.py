# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""sim_robot_node in a thread of its own, for graph tests."""

import threading

from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from robodopamine_ros.nodes.sim_robot_node import SimRobotNode


class SimInItsThread:
    """
    sim_robot_node built and spun in one thread: its OpenGL context lives there.

    remappings: {'from': 'to'} topic remappings, as the launch file gives them.
    """

    def __init__(self, context, remappings=None, **parameters):
        self.ready, self.stop, self.node = threading.Event(), threading.Event(), None
        overrides = [Parameter(k, value=v) for k, v in parameters.items()]
        cli_args = ['--ros-args'] + [arg for source, target in (remappings or {}).items()
                                     for arg in ('-r', f'{source}:={target}')]
        self.thread = threading.Thread(target=self._run, args=(context, overrides, cli_args))
        self.thread.start()
        assert self.ready.wait(60), 'sim_robot_node did not start'

    def _run(self, context, overrides, cli_args):
        self.node = SimRobotNode(context=context, parameter_overrides=overrides,
                                 cli_args=cli_args)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(self.node)
        self.ready.set()
        while not self.stop.is_set():
            executor.spin_once(timeout_sec=0.02)
        executor.shutdown()
        self.node.destroy_node()

    def close(self):
        self.stop.set()
        self.thread.join()
