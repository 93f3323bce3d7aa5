# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A parameter of the wrong type: an int for a float is that float; anything else is one line.

Over real rclpy: parameters given as overrides (a params file, ``-p``, a launch's YAML) to our
nodes. docs/faults.md promises one fatal line naming the parameter, the type given and the type
expected, and exit status 2, never rclpy's InvalidParameterTypeException traceback.
"""

import os
import subprocess

from launch_tools import private_domain, ros2_executable
import pytest
import rclpy
from rclpy.parameter import Parameter
from robodopamine_ros.nodes.parameters import declare_parameter


def overridden(context, **overrides):
    return rclpy.create_node('rd_test_parameters', context=context, parameter_overrides=[
        Parameter(name, value=value) for name, value in overrides.items()])


def test_an_int_is_taken_for_a_float_and_ints_for_floats(ros_context):
    node = overridden(ros_context, rate=10, box=[1, 2, 3], steps=200)
    try:
        assert declare_parameter(node, 'rate', 0.5) == 10.0
        assert declare_parameter(node, 'box', [0.1, 0.2, 0.3]) == [1.0, 2.0, 3.0]
        assert declare_parameter(node, 'steps', 5) == 200   # the right type: as given
        assert declare_parameter(node, 'untouched', 2.5) == 2.5
        rate = node.get_parameter('rate')
        assert rate.type_ == Parameter.Type.DOUBLE and isinstance(rate.value, float)
        assert node.get_parameter('box').type_ == Parameter.Type.DOUBLE_ARRAY
    finally:
        node.destroy_node()


@pytest.mark.parametrize('given, default, expected', [
    ('big', 64, "parameter p: got a string ('big'), expected an integer (like 64)"),
    (2.5, 64, 'parameter p: got a float (2.5), expected an integer (like 64)'),
    (True, 0.1, 'parameter p: got a boolean (True), expected a float (like 0.1)'),
    ('fast', 0.1, "parameter p: got a string ('fast'), expected a float (like 0.1)"),
    ([1.5, 2.5], [1, 2], 'parameter p: got a list of floats ([1.5, 2.5]), expected a list of '
                         'integers (like [1, 2])'),
])
def test_any_other_type_is_one_line_naming_the_parameter_and_both_types(
        ros_context, given, default, expected):
    node = overridden(ros_context, p=given)
    try:
        with pytest.raises(ValueError) as raised:
            declare_parameter(node, 'p', default)
        assert str(raised.value) == expected
        assert not node.has_parameter('p')
    finally:
        node.destroy_node()


def test_our_nodes_take_an_int_for_a_float(ros_context):
    from robodopamine_ros.nodes.shaping_node import ShapingNode

    node = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=1), Parameter('progress_timeout', value=2)])
    try:
        assert node.get_parameter('control_period').value == 1.0
        assert node.get_parameter('progress_timeout').type_ == Parameter.Type.DOUBLE
    finally:
        node.destroy_node()


@pytest.mark.parametrize('executable, parameter, expected', [
    ('rl_agent_node', 'batch_size:=big',
     "parameter batch_size: got a string ('big'), expected an integer"),
    ('shaping_node', 'gamma:=[1, 2]',
     'parameter gamma: got a list of integers ([1, 2]), expected a float'),
])
def test_a_wrong_type_ends_a_node_with_one_line_and_status_2(
        tmp_path, executable, parameter, expected):
    """The installed node, as `ros2 run` or a launch starts it: one line, status 2."""
    extra = ['-p', f'checkpoint_dir:={tmp_path}', '-p', f'log_dir:={tmp_path}'] \
        if executable == 'rl_agent_node' else []
    result = subprocess.run([ros2_executable(), 'run', 'robodopamine_ros', executable,
                             '--ros-args', '-p', parameter, *extra],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path,
                            stdin=subprocess.DEVNULL,
                            env=dict(os.environ, ROS_DOMAIN_ID=str(private_domain())))
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    # the node's lines (not ros2 run's "Process exited with failure 2", nor rcl's notes)
    lines = [line for line in output.splitlines() if f'[{executable}]' in line]
    assert len(lines) == 1 and expected in lines[0] and '[FATAL]' in lines[0], output
    assert 'Traceback' not in output and 'Exception' not in output, output
