# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""launch/ and config/: what the launch file starts exists, and every YAML parameter is real."""

import ast
from pathlib import Path

import pytest
from rclpy.parameter import Parameter
from robodopamine_ros.nodes.grm_node import GRMNode
from robodopamine_ros.nodes.recorder_node import RecorderNode
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.nodes.sim_robot_node import SimRobotNode
from robodopamine_ros.nodes.teleop_node import TeleopNode
from test_launch_description import resolve
import yaml

PKG = Path(__file__).resolve().parents[2]
LAUNCH = PKG / 'launch' / 'franka_insertion.launch.py'
CONFIG = PKG / 'config' / 'sim_insertion.yaml'
REAL_CONFIG = PKG / 'config' / 'franka_fr3.yaml'
NODES = {'grm_node': GRMNode, 'shaping_node': ShapingNode, 'sim_robot_node': SimRobotNode,
         'rl_agent_node': RLAgentNode, 'teleop_node': TeleopNode, 'recorder_node': RecorderNode}
# sections of nodes that are not ours (joy_node) or need packages PyPI lacks (gripper_node:
# control_msgs) are checked by their own tests
SECTIONS = [(config, name) for config in (CONFIG, REAL_CONFIG)
            for name in sorted(yaml.safe_load(config.read_text())) if name in NODES]


def installed_executables():
    tree = ast.parse((PKG / 'setup.py').read_text())
    return {node.value.split('=')[0].strip() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and ' = robodopamine_ros.' in node.value}


def test_launch_file_names_only_installed_executables():
    tree = ast.parse(LAUNCH.read_text(), filename=str(LAUNCH))  # parses as Python
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert 'generate_launch_description' in functions
    nodes, _ = resolve(use_sim='true', agent='true', model_dir='/m', joy='false')
    collect, _ = resolve(mode='collect', joy='false')   # every node it can start in simulation
    nodes.update(collect)
    started = {node.node_executable for node, _ in nodes.values()}
    assert started == {'grm_node', 'shaping_node', 'sim_robot_node', 'rl_agent_node',
                       'teleop_node', 'recorder_node'}
    assert started <= installed_executables()
    assert set(nodes) <= set(yaml.safe_load(CONFIG.read_text()))  # each has its YAML section


def overrides(section, model_dir, **changes):
    values = dict(section, **changes)
    if 'model_dir' in values and not values['model_dir']:
        values['model_dir'] = str(model_dir)
    return [Parameter(k, value=v) for k, v in values.items()]


@pytest.mark.parametrize('config, name', SECTIONS, ids=[f'{c.stem}-{n}' for c, n in SECTIONS])
def test_every_yaml_parameter_is_declared_by_its_node(config, name, ros_context, model_dir,
                                                      tmp_path):
    section = yaml.safe_load(config.read_text())[name]['ros__parameters']
    extra = {'bag': str(tmp_path / 'bag')} if name == 'recorder_node' else {}
    node = NODES[name](context=ros_context,
                       parameter_overrides=overrides(section, model_dir, **extra))
    try:
        for key, value in section.items():
            assert node.has_parameter(key), f'{name} does not declare {key} (set in the YAML)'
            if key != 'model_dir':
                assert node.get_parameter(key).value == value
    finally:
        node.destroy_node()


@pytest.mark.parametrize('name, change, message', [
    ('grm_node', {'rate': 0.0}, 'rate must be > 0'),
    ('grm_node', {'fusion': 'median'}, 'fusion must be one of'),
    ('shaping_node', {'gamma': 1.2}, 'gamma must be in'),
    ('sim_robot_node', {'autopilot': 'teleop'}, 'autopilot must be'),
    ('sim_robot_node', {'command_interface': 'joints'}, 'command_interface must be'),
    ('rl_agent_node', {'adapter': 'effort'}, 'adapter must be one of'),
    ('rl_agent_node', {'mode': 'play'}, 'mode must be one of'),
    ('teleop_node', {'preset': 'wheel'}, 'preset must be one of'),
])
def test_invalid_yaml_values_are_rejected(name, change, message, ros_context, model_dir):
    section = yaml.safe_load(CONFIG.read_text())[name]['ros__parameters']
    with pytest.raises(ValueError, match=message):
        NODES[name](context=ros_context,
                    parameter_overrides=overrides(section, model_dir, **change))
