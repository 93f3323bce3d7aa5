# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
ROS tier fixtures: real rclpy, real DDS, our interfaces as built by colcon.

scripts/test.sh sets RD_REQUIRE_ROS=1: then a missing rclpy or robodopamine_interfaces is a
collection error (the tier fails), never a skip.
"""

import os
import time

import pytest

REQUIRE_ROS = os.environ.get('RD_REQUIRE_ROS') == '1'

try:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    import robodopamine_interfaces.msg  # noqa: F401
    ROS_MISSING = None
except ImportError as error:  # pragma: no cover - depends on the environment
    if REQUIRE_ROS:
        raise ImportError(
            f'ROS tier required (RD_REQUIRE_ROS=1) but not importable: {error}. '
            'Run scripts/test.sh, which builds the interfaces and sources the workspace.'
        ) from error
    ROS_MISSING = str(error)
    collect_ignore_glob = ['test_*.py']


def pytest_report_header(config):
    if ROS_MISSING:
        return f'ROS tier NOT RUN: rclpy or robodopamine_interfaces missing ({ROS_MISSING})'
    return f'ROS tier: rclpy from {os.path.dirname(rclpy.__file__)}'


@pytest.fixture
def ros_context():
    """Create a private rclpy context, shut down after the test."""
    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    rclpy.try_shutdown(context=context)


@pytest.fixture
def executor(ros_context):
    executor = SingleThreadedExecutor(context=ros_context)
    yield executor
    executor.shutdown()


@pytest.fixture
def spin_until(executor):
    """
    Spin the executor until predicate() is true; fail after timeout seconds.

    This is condition-based synchronization: it returns as soon as the condition holds.
    """
    def spin(predicate, timeout=10.0, what='condition'):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                pytest.fail(f'timed out after {timeout} s waiting for {what}')
            executor.spin_once(timeout_sec=0.05)
    return spin
