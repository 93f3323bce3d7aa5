# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Robo-Dopamine on a Franka-class arm, or on the built-in simulated robot (use_sim:=true).

    ros2 launch robodopamine_ros franka_insertion.launch.py model_dir:=/path/to/compact_grm

Arguments (see the README's table): use_sim, robot_ip, model_dir, task, mode, log_dir,
checkpoint_dir, the three camera topics, autopilot, params_file, log_level, namespace, agent,
respawn. Every node parameter comes from params_file (default config/franka_insertion.yaml),
keyed by node name; the arguments above override the few they name (model_dir, task, mode,
log_dir, checkpoint_dir, autopilot: when not empty). On a real robot
(use_sim:=false) franka_bringup is included. agent:=false is the reward pipeline only (cameras,
grm_node, shaping_node) for users who bring their own learner.

Respawn policy (respawn:=true, the default): grm_node, shaping_node and teleop_node are
restarted 2 s after they die (at most 5 times: a node that exits on a bad parameter is not
restarted for ever); rl_agent_node and sim_robot_node are never restarted (an agent must not
resume driving an arm unattended; a new simulated robot is a new layout).
"""

import inspect
import os

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, ExecuteProcess, GroupAction,
                            IncludeLaunchDescription, OpaqueFunction)
try:
    from launch.actions import ExecuteLocal   # where respawn_max_retries is (Jazzy)
except ImportError:  # older launch
    ExecuteLocal = ExecuteProcess
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace
import yaml

TRUE, FALSE = ('true', 'True', '1'), ('false', 'False', '0')
# Arguments with a fixed set of values. Checked in robot_and_nodes rather than with
# DeclareLaunchArgument(choices=...), which logs the error twice.
CHOICES = {'use_sim': TRUE + FALSE, 'agent': TRUE + FALSE, 'respawn': TRUE + FALSE,
           'mode': ('', 'train', 'eval', 'collect'), 'autopilot': ('', 'expert'),
           'log_level': ('debug', 'info', 'warn', 'error', 'fatal')}
RESPAWNED = {'grm_node', 'shaping_node', 'teleop_node'}
# Node parameters that a launch argument of the same name overrides when it is not empty; an
# empty argument keeps the params_file value, else the fallback here.
OVERRIDDEN = {'sim_robot_node': ('autopilot',), 'grm_node': ('model_dir', 'task'),
              'rl_agent_node': ('mode', 'checkpoint_dir', 'log_dir')}
FALLBACK = {'mode': 'train', 'log_dir': 'robodopamine_logs',
            'checkpoint_dir': 'robodopamine_checkpoints'}
RESPAWN_DELAY_S, RESPAWN_MAX = 2.0, 5


def launch_arguments(share):
    """Return the DeclareLaunchArgument actions (also used by the tests)."""
    config = os.path.join(share, 'config', 'franka_insertion.yaml')
    return [
        DeclareLaunchArgument('use_sim', default_value='true',
                              description='simulated robot and cameras instead of '
                                          'franka_bringup'),
        DeclareLaunchArgument('robot_ip', default_value='172.16.0.2'),
        DeclareLaunchArgument('model_dir', default_value=''),
        DeclareLaunchArgument('task', default_value=''),
        DeclareLaunchArgument('mode', default_value='',
                              description="rl_agent_node: train, eval or collect ('': "
                                          "params_file's, else train)"),
        DeclareLaunchArgument('log_dir', default_value='',
                              description="'': params_file's, else robodopamine_logs"),
        DeclareLaunchArgument('checkpoint_dir', default_value='',
                              description="'': params_file's, else robodopamine_checkpoints"),
        DeclareLaunchArgument('front_camera', default_value='cameras/front/image_raw'),
        DeclareLaunchArgument('left_wrist_camera', default_value='cameras/left_wrist/image_raw'),
        DeclareLaunchArgument('right_wrist_camera',
                              default_value='cameras/right_wrist/image_raw'),
        DeclareLaunchArgument('autopilot', default_value='',
                              description="sim only: '' or expert"),
        DeclareLaunchArgument('params_file', default_value=config,
                              description='YAML of node parameters, keyed by node name'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='debug, info, warn, error or fatal'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of every node and topic (two robots)'),
        DeclareLaunchArgument('agent', default_value='true',
                              description='false: reward pipeline only (no rl_agent_node, '
                                          'no teleop_node)'),
        DeclareLaunchArgument('respawn', default_value='true',
                              description='restart grm_node, shaping_node, teleop_node'),
    ]


def node_parameters(params_file, name):
    """Return the ros__parameters of node `name` in params_file (keys name, /name, /**/name)."""
    try:
        with open(params_file) as stream:
            document = yaml.safe_load(stream) or {}
    except OSError as error:
        raise RuntimeError(f'params_file {params_file!r} cannot be read: {error.strerror}')
    except yaml.YAMLError as error:
        raise RuntimeError(f'params_file {params_file!r} is not valid YAML: '
                           f'{str(error).splitlines()[0]}')
    for key in (name, '/' + name, '/**/' + name):
        section = document.get(key) if isinstance(document, dict) else None
        if isinstance(section, dict):
            return dict(section.get('ros__parameters') or {})
    return {}


def franka_bringup(robot_ip):
    """Include franka_bringup's franka.launch.py; a clear error when it is not installed."""
    try:
        share = get_package_share_directory('franka_bringup')
    except PackageNotFoundError:
        raise RuntimeError("use_sim:=false needs the package 'franka_bringup' (franka_ros2), "
                           'which is not installed: install it, or launch with use_sim:=true')
    return IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'franka.launch.py')),
        launch_arguments={'robot_ip': robot_ip}.items())


def robot_and_nodes(context):
    """Resolve the arguments into franka_bringup (real robot) and the nodes to start."""
    value = {name: LaunchConfiguration(name).perform(context) for name in (
        'use_sim', 'robot_ip', 'model_dir', 'task', 'mode', 'log_dir', 'checkpoint_dir',
        'front_camera', 'left_wrist_camera', 'right_wrist_camera', 'autopilot',
        'params_file', 'log_level', 'namespace', 'agent', 'respawn')}
    for name, allowed in CHOICES.items():
        if value[name] not in allowed:
            raise RuntimeError(f'launch argument {name}:={value[name]!r} is not valid; '
                               f'valid: {", ".join(repr(a) for a in allowed)}')
    use_sim, agent = value['use_sim'] in TRUE, value['agent'] in TRUE
    cameras = [('cameras/front/image_raw', value['front_camera']),
               ('cameras/left_wrist/image_raw', value['left_wrist_camera']),
               ('cameras/right_wrist/image_raw', value['right_wrist_camera'])]
    topics = [('progress', 'robodopamine/progress'), ('reward', 'robodopamine/reward')]
    command = [('command', 'robodopamine/action')]
    respawn_limit = ({'respawn_max_retries': RESPAWN_MAX} if 'respawn_max_retries' in
                     inspect.signature(ExecuteLocal.__init__).parameters else {})

    def node(name, remappings=()):
        parameters = node_parameters(value['params_file'], name)
        for key in OVERRIDDEN.get(name, ()):
            if value[key]:
                parameters[key] = value[key]
            elif not parameters.get(key) and key in FALLBACK:
                parameters[key] = FALLBACK[key]
        respawn = value['respawn'] in TRUE and name in RESPAWNED
        return Node(package='robodopamine_ros', executable=name, name=name,
                    parameters=[parameters], remappings=list(remappings),
                    arguments=['--ros-args', '--log-level', value['log_level']],
                    respawn=respawn, respawn_delay=RESPAWN_DELAY_S if respawn else None,
                    **(respawn_limit if respawn else {}))

    actions = [PushRosNamespace(value['namespace'])] if value['namespace'] else []
    if use_sim:
        actions.append(node('sim_robot_node', cameras + command))
    else:
        actions.append(franka_bringup(value['robot_ip']))
    actions += [node('grm_node', cameras + topics), node('shaping_node', topics)]
    if agent:
        actions += [node('rl_agent_node', topics + command), node('teleop_node')]
    return [GroupAction(actions, scoped=True)]


def generate_launch_description():
    share = get_package_share_directory('robodopamine_ros')
    return LaunchDescription(launch_arguments(share)
                             + [OpaqueFunction(function=robot_and_nodes)])
