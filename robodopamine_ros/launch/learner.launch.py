# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
learner_node on the GPU box: the learner that one or more arms feed (learner:=remote).

    ros2 launch robodopamine_ros learner.launch.py demos:=demo1 device:=cuda

On each robot PC (a namespace per arm when there are several):

    ros2 launch robodopamine_ros franka_insertion.launch.py mode:=train model_dir:=grm1 \
        learner:=remote namespace:=arm1

learner_node's parameters are the params file's ``rl_agent_node`` section (the policy's:
algorithm, observation, joints, image size and encoder, batch size, updates; so the learner
builds the policy the arms run) overlaid with its ``learner_node`` section (weights_rate,
journal_dir), then the arguments: params_file (default: config/sim_insertion.yaml with
use_sim:=true, config/franka_fr3.yaml otherwise), checkpoint_dir (default
robodopamine_learner: checkpoints and the journal of received episodes), demos (bags of
mode:=collect, comma-separated: the demo buffer of the offline stage), observation, device
(cpu, cuda, cuda:N), model_dir (the GRM of a camera policy's encoder, as the arms' grm_dir),
log_level. A node that cannot start (a bad parameter, a missing bag) exits with status 2 and
its line ends the launch.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from robodopamine_ros.data.params_file import node_parameters

TRUE = ('true', 'True', '1')
ARGUMENTS = {'use_sim': 'true', 'params_file': '', 'checkpoint_dir': 'robodopamine_learner',
             'demos': '', 'observation': '', 'device': '', 'model_dir': '', 'log_level': 'info'}
PARAMS = {True: 'sim_insertion.yaml', False: 'franka_fr3.yaml'}   # by use_sim


def learner(context):
    value = {name: LaunchConfiguration(name).perform(context) for name in ARGUMENTS}
    share = get_package_share_directory('robodopamine_ros')
    params_file = value['params_file'] or os.path.join(
        share, 'config', PARAMS[value['use_sim'] in TRUE])
    parameters = dict(node_parameters(params_file, 'rl_agent_node'),
                      **node_parameters(params_file, 'learner_node'))
    parameters.update(mode='train', learner='local', checkpoint_dir=value['checkpoint_dir'])
    for name in ('observation', 'device'):
        if value[name]:
            parameters[name] = value[name]
    demos = [d for d in value['demos'].split(',') if d]
    if demos:
        parameters['demo_bags'] = demos
    if value['model_dir'] and not parameters.get('grm_dir'):
        parameters['grm_dir'] = value['model_dir']
    if parameters.get('observation') == 'cameras':   # as the arms' rl_agent_node
        parameters['objects'] = 0
    return [Node(package='robodopamine_ros', executable='learner_node', name='learner_node',
                 parameters=[parameters],
                 arguments=['--ros-args', '--log-level', value['log_level']])]


def generate_launch_description():
    return LaunchDescription([DeclareLaunchArgument(name, default_value=default)
                              for name, default in ARGUMENTS.items()]
                             + [OpaqueFunction(function=learner)])
