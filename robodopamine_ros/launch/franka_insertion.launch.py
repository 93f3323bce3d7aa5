# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Robo-Dopamine on a Franka-class arm, or on the built-in simulated robot (use_sim:=true).

    ros2 launch robodopamine_ros franka_insertion.launch.py model_dir:=/path/to/compact_grm

Arguments: use_sim (true), robot_ip, model_dir, task, mode, log_dir, checkpoint_dir, the three
camera topics, autopilot (sim only). Every node parameter comes from
config/franka_insertion.yaml, keyed by node name; arguments override the few listed here.
On a real robot (use_sim:=false) franka_bringup is included with the configured controller.
The agent (rl_agent_node, mode:=train|eval|collect) and teleop_node (a joystick on /joy) run in
both cases.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription, OpaqueFunction
from launch.conditions import IfCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node


def generate_launch_description():
    share = get_package_share_directory('robodopamine_ros')
    config = os.path.join(share, 'config', 'franka_insertion.yaml')
    arg = LaunchConfiguration
    arguments = [
        DeclareLaunchArgument('use_sim', default_value='true'),
        DeclareLaunchArgument('robot_ip', default_value='172.16.0.2'),
        DeclareLaunchArgument('model_dir', default_value=''),
        DeclareLaunchArgument('task', default_value=''),
        DeclareLaunchArgument('mode', default_value='train'),
        DeclareLaunchArgument('log_dir', default_value='robodopamine_logs'),
        DeclareLaunchArgument('checkpoint_dir', default_value='robodopamine_checkpoints'),
        DeclareLaunchArgument('front_camera', default_value='/cameras/front/image_raw'),
        DeclareLaunchArgument('left_wrist_camera',
                              default_value='/cameras/left_wrist/image_raw'),
        DeclareLaunchArgument('right_wrist_camera',
                              default_value='/cameras/right_wrist/image_raw'),
        DeclareLaunchArgument('autopilot', default_value=''),
    ]
    cameras = [('cameras/front/image_raw', arg('front_camera')),
               ('cameras/left_wrist/image_raw', arg('left_wrist_camera')),
               ('cameras/right_wrist/image_raw', arg('right_wrist_camera'))]
    topics = [('progress', '/robodopamine/progress'), ('reward', '/robodopamine/reward')]

    def franka(context):
        # looked up only for a real robot: franka_bringup is not needed in simulation
        if LaunchConfiguration('use_sim').perform(context).lower() in ('true', '1'):
            return []
        return [IncludeLaunchDescription(
            PythonLaunchDescriptionSource(os.path.join(
                get_package_share_directory('franka_bringup'), 'launch', 'franka.launch.py')),
            launch_arguments={'robot_ip': arg('robot_ip')}.items())]

    nodes = [
        Node(package='robodopamine_ros', executable='sim_robot_node', name='sim_robot_node',
             parameters=[config, {'autopilot': arg('autopilot')}],
             remappings=cameras + [('command', '/robodopamine/action')],
             condition=IfCondition(arg('use_sim'))),
        Node(package='robodopamine_ros', executable='grm_node', name='grm_node',
             parameters=[config, {'model_dir': arg('model_dir'), 'task': arg('task')}],
             remappings=cameras + topics),
        Node(package='robodopamine_ros', executable='shaping_node', name='shaping_node',
             parameters=[config], remappings=topics),
        Node(package='robodopamine_ros', executable='rl_agent_node', name='rl_agent_node',
             parameters=[config, {'mode': arg('mode'), 'checkpoint_dir': arg('checkpoint_dir'),
                                  'log_dir': arg('log_dir')}],
             remappings=topics + [('command', '/robodopamine/action')]),
        Node(package='robodopamine_ros', executable='teleop_node', name='teleop_node',
             parameters=[config]),
    ]
    return LaunchDescription(arguments + [OpaqueFunction(function=franka)] + nodes)
