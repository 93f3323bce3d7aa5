# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Robo-Dopamine on a Franka-class arm, or on the built-in simulated robot (use_sim:=true).

The user's path, one command per step (the README walks through it):

    ros2 launch robodopamine_ros franka_insertion.launch.py mode:=collect bag:=demo1
    robodopamine keyframes propose demo1 && robodopamine adapt demo1 -o grm1
    ros2 launch robodopamine_ros franka_insertion.launch.py mode:=train model_dir:=grm1 \
        demos:=demo1
    ros2 launch robodopamine_ros franka_insertion.launch.py mode:=eval model_dir:=grm1

Modes: ``collect`` starts the robot (or the simulator), joy_node + teleop_node, rl_agent_node
in collect mode (the arm moves only while the deadman is held; no GRM, no policy) and
recorder_node writing ``bag`` crash-safe (``contract:=FILE``, a Rosetta contract: the topics
it names, embedded in the bag); in simulation ``autopilot:=expert`` records the
scripted expert with nothing else commanding the arm (no agent, no teleop). ``train`` adds
grm_node and shaping_node and needs ``model_dir``; ``demos`` (bags of collect) fill the demo
buffer; ``bag`` (train and eval) records the whole run: the robot's and cameras' topics,
progress, rewards, episode summaries and the reward contract it was scored under
(docs/method.md#the-reward-contract). ``eval`` is the policy only (deterministic, no
learning) for rl_agent_node's eval_episodes episodes, on the simulator's evaluation layouts
(never trained on), then the launch ends. In simulation collect records
``sim_robot/success``: a failed demonstration is marked so in the bag. agent:=false is the
reward pipeline only (cameras, grm_node, shaping_node) for users who bring their own learner.
In simulation ``operator:=scripted`` (train only) adds sim_operator_node, the scripted
operator: it takes over with the simulator's expert when progress stalls and labels outcomes
from the simulator's success flag, as a person at the joystick would (rl_agent_node's
``success`` decides which labels count; the node gets the same value).
``learner:=remote`` (train only) makes rl_agent_node an actor of learner_node, which runs
elsewhere (learner.launch.py, e.g. on the GPU box, with the demonstrations): the arm's
episodes go to it and its weights come back (docs/architecture.md "Beyond one machine");
several arms, each launched with its own ``namespace:=``, feed one learner.
``grm_refresh_every:=N`` (train only, with the operator's outcome labels: success either or
operator) refreshes the GRM on the robot's own episodes every N of them
(docs/method.md#refresh-on-the-robots-own-episodes): grm_node scores with a copy of
model_dir in ``<log_dir>/grm`` and keeps each episode as a bag in ``<log_dir>/episodes``
(unless the params file names its episodes_dir), and grm_refresh_node re-trains that copy
beside the control loop; grm_node loads a new one between episodes. model_dir itself, and
rl_agent_node's frozen GRM encoder (grm_dir), stay as they were.

Arguments (docs/nodes.md, "Launch arguments"): use_sim, robot_ip, model_dir, task, mode, seed,
bag, contract, demos, log_dir, checkpoint_dir, the three camera topics, cameras (''|realsense),
real_time_factor, autopilot, operator, grm_refresh_every, observation (rl_agent_node's),
success (shaping_node's and rl_agent_node's alike), joy, servo_launch, params_file,
log_level, learner, namespace, agent, respawn. rl_agent_node's
grm_dir (its GRM encoder with observation cameras) is model_dir unless params_file
names one; with observation cameras its ``objects`` is 0 (the file's tracked objects belong to
the privileged 'robot' observation).
Every node parameter comes from params_file (default: config/sim_insertion.yaml in simulation,
config/franka_fr3.yaml on the real arm), keyed by node name; the arguments above override the
few they name when not empty. real_time_factor (simulation only) runs the simulated robot on a
simulation clock it publishes, faster or slower than real time; every node then uses it.
On the real arm (use_sim:=false) franka_bringup is included (and servo_launch when given), and
a params_file whose workspace box is the simulator's is refused: that box is in the
simulator's coordinates, not the robot's base frame. It warns when the graph is open to the
subnet in ROS domain 0 (robot/ros_graph.py, docs/real-arm.md "Closing the ROS graph"). With
ROS_SECURITY_ENABLE=true every node of ours runs in its SROS2 enclave /robodopamine/<node>
(config/sros2_policy.xml).

Respawn policy (respawn:=true, the default): grm_node, shaping_node, teleop_node and joy_node
are restarted 2 s after they die (at most 5 times); rl_agent_node, recorder_node and
sim_robot_node are never restarted (an agent must not resume driving an arm unattended; a new
recorder would refuse the existing bag; a new simulated robot is a new layout). A node of ours
that exits with status 2 (it cannot start: a bad parameter, a missing model_dir or demos bag)
is never restarted and ends the launch, its one fatal line logged last (ConfigurationError).
"""

import inspect
import math
import os
import re
import time

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
from launch import LaunchDescription
from launch.actions import (DeclareLaunchArgument, ExecuteProcess, GroupAction,
                            IncludeLaunchDescription, LogInfo, OpaqueFunction,
                            RegisterEventHandler, Shutdown)
try:
    from launch.actions import ExecuteLocal   # where respawn_max_retries is (Jazzy)
except ImportError:  # older launch
    ExecuteLocal = ExecuteProcess
from launch.event_handlers import OnProcessExit, OnProcessIO, OnProcessStart
from launch.launch_description_sources import PythonLaunchDescriptionSource
import launch.logging
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node, PushRosNamespace
from robodopamine_ros.data.params_file import node_parameters
from robodopamine_ros.data.topics import CAMERA_TOPICS, VIEWS
from robodopamine_ros.rl.grm_refresh_loop import EPISODES, live_grm
from robodopamine_ros.rl.observations import ROBOT_OBSERVATIONS
from robodopamine_ros.rl.outcomes import SUCCESS_SOURCES
from robodopamine_ros.rl.saving import EXIT_CLEANUP_S
from robodopamine_ros.robot.ros_graph import discovery_warning, enclave, security_enabled

TRUE, FALSE = ('true', 'True', '1'), ('false', 'False', '0')
# Arguments with a fixed set of values. Checked in robot_and_nodes rather than with
# DeclareLaunchArgument(choices=...), which logs the error twice.
CHOICES = {'use_sim': TRUE + FALSE, 'agent': TRUE + FALSE, 'respawn': TRUE + FALSE,
           'mode': ('', 'train', 'eval', 'collect'), 'autopilot': ('', 'expert'),
           'operator': ('', 'scripted'), 'observation': ('',) + ROBOT_OBSERVATIONS,
           'success': ('',) + SUCCESS_SOURCES,
           'joy': ('auto',) + TRUE + FALSE, 'cameras': ('', 'realsense'),
           'learner': ('', 'local', 'remote'),
           'log_level': ('debug', 'info', 'warn', 'error', 'fatal')}
RESPAWNED = {'grm_node', 'shaping_node', 'teleop_node', 'joy_node', 'grm_refresh_node'}
# Node parameters that a launch argument of the same name overrides when it is not empty; an
# empty argument keeps the params_file value, else the fallback here.
OVERRIDDEN = {'sim_robot_node': ('autopilot',), 'grm_node': ('model_dir', 'task'),
              'shaping_node': ('success',),
              'rl_agent_node': ('mode', 'checkpoint_dir', 'log_dir', 'observation', 'success',
                                'learner')}
FALLBACK = {'mode': 'train', 'log_dir': 'robodopamine_logs',
            'checkpoint_dir': 'robodopamine_checkpoints'}
RESPAWN_DELAY_S, RESPAWN_MAX = 2.0, 5
PARAMS = {True: 'sim_insertion.yaml', False: 'franka_fr3.yaml'}   # by use_sim
# the end-effector pose topic by use_sim (franka_ros2's state broadcaster publishes one)
EE_POSE = {True: 'robodopamine/ee_pose', False: 'franka_robot_state_broadcaster/current_pose'}
NO_MODEL = ('mode:={mode} needs model_dir:=FOLDER, a GRM adapted on a demonstration. Record '
            'one first: `ros2 launch robodopamine_ros franka_insertion.launch.py mode:=collect '
            'bag:=demo1`, then `robodopamine keyframes propose demo1 && robodopamine adapt '
            'demo1 -o grm1`, then launch with model_dir:=grm1 demos:=demo1')


def launch_arguments(share):
    """Return the DeclareLaunchArgument actions (also used by the tests)."""
    return [
        DeclareLaunchArgument('use_sim', default_value='true',
                              description='simulated robot and cameras instead of '
                                          'franka_bringup'),
        DeclareLaunchArgument('robot_ip', default_value='172.16.0.2'),
        DeclareLaunchArgument('model_dir', default_value='',
                              description='GRM folder (robodopamine adapt); train and eval'),
        DeclareLaunchArgument('task', default_value=''),
        DeclareLaunchArgument('mode', default_value='',
                              description="collect, train or eval ('': params_file's, else "
                                          'train)'),
        DeclareLaunchArgument('bag', default_value='',
                              description="collect: the bag folder to record ('': "
                                          'robodopamine_demos/demo_<UTC time>); train and '
                                          "eval: a bag of the whole run ('': none), with "
                                          'progress, rewards and the reward contract'),
        DeclareLaunchArgument('contract', default_value='',
                              description="collect: a Rosetta contract file ('': none); the "
                                          'recorder records its topics (and ours: '
                                          'robodopamine/action, the success and object '
                                          'topics) and embeds it in the bag'),
        DeclareLaunchArgument('demos', default_value='',
                              description='train: comma-separated bags of collect that fill '
                                          'an empty demo buffer'),
        DeclareLaunchArgument('log_dir', default_value='',
                              description="'': params_file's, else robodopamine_logs"),
        DeclareLaunchArgument('checkpoint_dir', default_value='',
                              description="'': params_file's, else robodopamine_checkpoints"),
        *(DeclareLaunchArgument(f'{view}_camera', default_value=CAMERA_TOPICS[view])
          for view in VIEWS),
        DeclareLaunchArgument('cameras', default_value='',
                              description="real arm: '' (your drivers publish the camera "
                                          'topics) or realsense (three realsense2_camera '
                                          'nodes publishing them)'),
        DeclareLaunchArgument('front_serial', default_value=''),
        DeclareLaunchArgument('left_wrist_serial', default_value=''),
        DeclareLaunchArgument('right_wrist_serial', default_value=''),
        DeclareLaunchArgument('real_time_factor', default_value='',
                              description="use_sim:=true only: '' runs on the wall clock; "
                                          'a number runs the simulated robot on a simulation '
                                          'clock (/clock, use_sim_time in every node) at that '
                                          'multiple of real time'),
        DeclareLaunchArgument('seed', default_value='',
                              description="sim only: the first layout ('': params_file's, "
                                          'a layout the scripted expert solves); each reset '
                                          'takes the next. mode:=eval offsets it to the '
                                          'evaluation layouts, which training never uses'),
        DeclareLaunchArgument('autopilot', default_value='',
                              description="sim and collect only: '' or expert"),
        DeclareLaunchArgument('operator', default_value='',
                              description="sim and train only: '' (none) or scripted (the "
                                          'scripted operator: takes over on stalls, labels '
                                          "outcomes from the simulator's success)"),
        DeclareLaunchArgument('grm_refresh_every', default_value='',
                              description="train only: '' or 0 (never) or N: refresh the GRM "
                                          "on the robot's own labelled episodes every N of "
                                          'them (grm_refresh_node)'),
        DeclareLaunchArgument('observation', default_value='',
                              description="rl_agent_node's observation ('': params_file's): "
                                          'robot or cameras (the three views + joints and '
                                          'hand pose)'),
        DeclareLaunchArgument('success', default_value='',
                              description="where success comes from ('': params_file's), "
                                          'for shaping_node and rl_agent_node alike: detector, '
                                          'operator, either or simulator'),
        DeclareLaunchArgument('joy', default_value='auto',
                              description='start joy_node (the joystick driver): auto (when '
                                          'the joy package is installed), true or false'),
        DeclareLaunchArgument('joy_device', default_value='0',
                              description="joy_node's device_id"),
        DeclareLaunchArgument('ee_pose_topic', default_value='',
                              description="geometry_msgs/PoseStamped of the hand ('': "
                                          'robodopamine/ee_pose in simulation, '
                                          'franka_robot_state_broadcaster/current_pose on the '
                                          'real arm)'),
        DeclareLaunchArgument('servo_launch', default_value='',
                              description='real arm: a launch file starting MoveIt Servo for '
                                          'your robot (included when given)'),
        DeclareLaunchArgument('params_file', default_value='',
                              description="YAML of node parameters, keyed by node name ('': "
                                          'config/sim_insertion.yaml with use_sim, else '
                                          'config/franka_fr3.yaml)'),
        DeclareLaunchArgument('log_level', default_value='info',
                              description='debug, info, warn, error or fatal'),
        DeclareLaunchArgument('learner', default_value='',
                              description="rl_agent_node's learner: local (a thread beside the "
                                          'control loop; the default) or remote (learner_node, '
                                          'learner.launch.py on the GPU box)'),
        DeclareLaunchArgument('namespace', default_value='',
                              description='namespace of every node and topic (two robots)'),
        DeclareLaunchArgument('agent', default_value='true',
                              description='false: reward pipeline only (no rl_agent_node, '
                                          'no teleop_node)'),
        DeclareLaunchArgument('respawn', default_value='true',
                              description='restart grm_node, shaping_node, teleop_node, '
                                          'joy_node'),
    ]


def package_share(package, why):
    """Return a package's share folder; a clear error naming it when it is not installed."""
    try:
        return get_package_share_directory(package)
    except PackageNotFoundError:
        raise RuntimeError(f"{why} needs the package '{package}', which is not installed: "
                           f'install it (sudo apt install ros-$ROS_DISTRO-'
                           f'{package.replace("_", "-")}, or from source)')


def franka_bringup(robot_ip):
    """Include franka_bringup's franka.launch.py; a clear error when it is not installed."""
    share = package_share('franka_bringup', 'use_sim:=false (or launch with use_sim:=true)')
    return IncludeLaunchDescription(
        PythonLaunchDescriptionSource(os.path.join(share, 'launch', 'franka.launch.py')),
        launch_arguments={'robot_ip': robot_ip}.items())


def check_real_workspace(params_file, sim_params_file):
    """Refuse a real-arm launch whose agent box is the simulator's (or the node's default)."""
    agent = node_parameters(params_file, 'rl_agent_node')
    sim = node_parameters(sim_params_file, 'rl_agent_node')
    box = [list(map(float, agent.get(k, sim[k]))) for k in ('workspace_low', 'workspace_high')]
    if box == [list(map(float, sim[k])) for k in ('workspace_low', 'workspace_high')]:
        raise RuntimeError(
            f'use_sim:=false with the simulated workspace box (low {box[0]}, high {box[1]}, '
            f'from {params_file}): that box is in the simulator coordinates. Use '
            'params_file:=<your copy of config/franka_fr3.yaml> with workspace_low / '
            'workspace_high in the base frame of your robot')


def realsense_cameras(value, topics):
    """Three realsense2_camera nodes, colour only, publishing the camera topics we read."""
    package_share('realsense2_camera', 'cameras:=realsense')
    nodes = []
    for view, topic in zip(VIEWS, topics):
        serial = value[f'{view}_serial']
        nodes.append(Node(package='realsense2_camera', executable='realsense2_camera_node',
                          name=f'{view}_camera', parameters=[{
                              'camera_name': f'{view}_camera', 'enable_depth': False,
                              'enable_color': True, 'serial_no': serial}],
                          remappings=[('~/color/image_raw', topic)]))
    return nodes


class ConfigurationError:
    """
    A node of ours that exits with status 2 (spin.run: it cannot start) ends the launch.

    Status 2 is a configuration error (a bad parameter, a missing model_dir or demos bag): a
    respawn would fail the same way, and the other nodes would run on without it. So the
    launch shuts down at once (within respawn_delay, before any respawn), and when every
    process has exited, the node's one fatal line is logged again, last, as the launch's error
    (`ros2 launch` exits with status 1).
    """

    STATUS = 2
    PACKAGE = 'robodopamine_ros'

    def __init__(self):
        self.running = set()    # pids
        self.last_line = {}     # pid: its last FATAL line on stderr, else its last line
        self.fatal = set()      # pids that wrote a FATAL line
        self.error = None

    def handlers(self):
        return [RegisterEventHandler(OnProcessStart(on_start=self._started)),
                RegisterEventHandler(OnProcessIO(on_stderr=self._stderr)),
                RegisterEventHandler(OnProcessExit(on_exit=self._exited))]

    def _started(self, event, context):
        self.running.add(event.pid)

    def _stderr(self, event):
        lines = [x for x in event.text.decode(errors='replace').splitlines() if x.strip()]
        fatal = [x for x in lines if '[FATAL]' in x]
        if fatal:
            self.last_line[event.pid] = fatal[-1]
            self.fatal.add(event.pid)
        elif lines and event.pid not in self.fatal:
            self.last_line[event.pid] = lines[-1]

    def _exited(self, event, context):
        self.running.discard(event.pid)
        line = self.last_line.pop(event.pid, '')
        self.fatal.discard(event.pid)
        ours = getattr(event.action, 'node_package', None) == self.PACKAGE
        actions = None
        if ours and event.returncode == self.STATUS and self.error is None:
            # "[FATAL] [stamp] [grm_node]: cannot start: ..." -> "cannot start: ..."
            text = re.sub(r'^(\[\S+\] )?\[FATAL\] \[[^]]*\] \[[^]]*\]: ', '', line)
            self.error = (f'{event.action.node_executable}: '
                          f'{text or "exited with status 2"} (exit status 2, a configuration '
                          'error: the launch stopped)')
            actions = [Shutdown(reason=self.error)]
        if self.error is not None and not self.running:
            raise RuntimeError(self.error)   # the launch's last line, and its exit status 1
        return actions


def grm_refresh(value, mode, agent, agent_params, params_file, model_dir):
    """
    Return grm_node's and grm_refresh_node's extra parameters for grm_refresh_every:=N, or None.

    The GRM that is refreshed is a copy of model_dir in <log_dir>/grm (rl/grm_refresh_loop.py
    live_grm, made here, before any node reads it).
    """
    every = value['grm_refresh_every']
    if every in ('', '0'):
        return None
    if not every.isdigit():
        raise RuntimeError(f'launch argument grm_refresh_every:={every!r} is not valid; '
                           "expected a number of episodes >= 1 (or '' / 0: never)")
    success = value['success'] or agent_params.get('success', '')
    if mode != 'train' or not agent or success not in ('operator', 'either'):
        raise RuntimeError(f"grm_refresh_every:={every} refreshes the GRM on the operator's "
                           'outcome labels while the agent trains: use it with mode:=train, '
                           f'success either or operator (got mode:={mode} agent:='
                           f'{value["agent"]} success {success!r})')
    log_dir = value['log_dir'] or agent_params.get('log_dir') or FALLBACK['log_dir']
    try:
        live = str(live_grm(log_dir, model_dir))
    except (OSError, ValueError) as error:
        raise RuntimeError(f'grm_refresh_every:={every}: {error}') from None
    episodes = node_parameters(params_file, 'grm_node').get('episodes_dir') or \
        os.path.join(log_dir, EPISODES)
    return ({'model_dir': live, 'episodes_dir': episodes, 'operator_labels': True},
            {'model_dir': live, 'episodes_dir': episodes, 'log_dir': log_dir,
             'every': int(every)})


def robot_and_nodes(context):
    """Resolve the arguments into the robot (real or simulated) and the nodes to start."""
    value = {name: LaunchConfiguration(name).perform(context) for name in (
        'use_sim', 'robot_ip', 'model_dir', 'task', 'mode', 'bag', 'contract', 'demos',
        'log_dir',
        'checkpoint_dir', 'front_camera', 'left_wrist_camera', 'right_wrist_camera', 'cameras',
        'front_serial', 'left_wrist_serial', 'right_wrist_serial', 'autopilot', 'joy',
        'joy_device', 'ee_pose_topic', 'servo_launch', 'params_file', 'log_level', 'namespace',
        'agent', 'respawn', 'real_time_factor', 'seed', 'operator', 'observation', 'success',
        'grm_refresh_every', 'learner')}
    for name, allowed in CHOICES.items():
        if value[name] not in allowed:
            raise RuntimeError(f'launch argument {name}:={value[name]!r} is not valid; '
                               f'valid: {", ".join(repr(a) for a in allowed)}')
    share = get_package_share_directory('robodopamine_ros')
    use_sim, agent = value['use_sim'] in TRUE, value['agent'] in TRUE
    params_file = value['params_file'] or os.path.join(share, 'config', PARAMS[use_sim])
    agent_params = node_parameters(params_file, 'rl_agent_node')
    sim_params = node_parameters(params_file, 'sim_robot_node') if use_sim else {}
    mode = value['mode'] or agent_params.get('mode') or FALLBACK['mode']
    if mode not in CHOICES['mode']:
        raise RuntimeError(f'{params_file}: rl_agent_node mode {mode!r} is not valid')
    autopilot = value['autopilot'] or sim_params.get('autopilot', '')
    if autopilot and (mode != 'collect' or not use_sim):
        raise RuntimeError('autopilot:=expert records demonstrations in simulation: use it with '
                           f'use_sim:=true mode:=collect (got use_sim:={value["use_sim"]} '
                           f'mode:={mode})')
    if value['operator'] and (mode != 'train' or not use_sim or not agent):
        raise RuntimeError('operator:=scripted stands in for the person at the joystick while '
                           'the simulated robot trains: use it with use_sim:=true mode:=train '
                           f'(got use_sim:={value["use_sim"]} mode:={mode} '
                           f'agent:={value["agent"]})')
    if (value['learner'] or agent_params.get('learner', 'local')) == 'remote' and \
            (mode != 'train' or not agent or value['demos']):
        raise RuntimeError('learner:=remote sends the episodes of mode:=train to learner_node; '
                           'the demonstrations (demos:=) fill its demo buffer: give them to '
                           'learner.launch.py (got '
                           f'mode:={mode} agent:={value["agent"]} demos:={value["demos"]})')
    if value['contract'] and mode != 'collect':
        raise RuntimeError(f"contract:={value['contract']} names the topics a recording holds: "
                           f'use it with mode:=collect (got mode:={mode})')
    if value['contract'] and not os.path.isfile(value['contract']):
        raise RuntimeError(f"launch argument contract:={value['contract']!r}: no such file; "
                           'expected a Rosetta contract (YAML, docs/nodes.md "recorder_node")')
    model_dir = value['model_dir'] or node_parameters(params_file, 'grm_node').get('model_dir')
    if mode != 'collect' and not model_dir:
        raise RuntimeError(NO_MODEL.format(mode=mode))
    sim_clock = bool(value['real_time_factor']) or bool(sim_params.get('publish_clock'))
    if sim_clock and not use_sim:
        raise RuntimeError('real_time_factor:= (a simulation clock) is a mode of the simulated '
                           'robot only: use it with use_sim:=true')
    clock = {'publish_clock': True} if sim_clock else {}
    if value['real_time_factor']:
        try:
            factor = float(value['real_time_factor'])
        except ValueError:
            factor = float('nan')
        if not (math.isfinite(factor) and factor > 0):
            raise RuntimeError(f"launch argument real_time_factor:={value['real_time_factor']!r} "
                               'is not valid; expected a number > 0 (2.0: twice real time)')
        clock['real_time_factor'] = factor
    if value['seed'] and not (value['seed'].isdigit() and use_sim):
        raise RuntimeError(f"launch argument seed:={value['seed']!r} is not valid; expected a "
                           'layout number >= 0, with use_sim:=true')
    # eval: the ROS-free benchmark's evaluation layouts, from its first (EVAL_SEED + 0) on
    seed = int(value['seed']) if value['seed'] else 0 if mode == 'eval' else None
    layout = dict({} if seed is None else {'seed': seed},
                  layouts='eval' if mode == 'eval' else 'train')
    if not value['joy_device'].isdigit():
        raise RuntimeError(f"launch argument joy_device:={value['joy_device']!r} is not "
                           'valid; expected a device number (0 for /dev/input/js0)')
    if not use_sim:
        check_real_workspace(params_file, os.path.join(share, 'config', PARAMS[True]))
        warning = discovery_warning(context.environment)
        if warning:
            launch.logging.get_logger('franka_insertion.launch').warning(warning)
    secure = security_enabled(context.environment)   # SROS2: each node in its enclave
    topics = [value[f'{view}_camera'] for view in VIEWS]
    cameras = [(CAMERA_TOPICS[view], topic) for view, topic in zip(VIEWS, topics)]
    reward_topics = [('progress', 'robodopamine/progress'), ('reward', 'robodopamine/reward')]
    command = [('command', 'robodopamine/action')]
    ee_pose = value['ee_pose_topic'] or EE_POSE[use_sim]
    pose = [('robodopamine/ee_pose', ee_pose)]
    respawn_limit = ({'respawn_max_retries': RESPAWN_MAX} if 'respawn_max_retries' in
                     inspect.signature(ExecuteLocal.__init__).parameters else {})

    # Ctrl-C: rl_agent_node writes its last checkpoint (rl/saving.py) before SIGTERM comes
    shutdown_time = {'rl_agent_node': {'sigterm_timeout': str(EXIT_CLEANUP_S + 3.0)}}

    def node(name, remappings=(), extra=None, package='robodopamine_ros', executable=None):
        parameters = node_parameters(params_file, name)
        for key in OVERRIDDEN.get(name, ()):
            if value[key]:
                parameters[key] = value[key]
            elif not parameters.get(key) and key in FALLBACK:
                parameters[key] = FALLBACK[key]
        parameters.update(extra or {})
        if sim_clock and name != 'sim_robot_node':  # the simulated robot owns /clock
            parameters['use_sim_time'] = True
        respawn = value['respawn'] in TRUE and name in RESPAWNED
        return Node(package=package, executable=executable or name, name=name,
                    parameters=[parameters], remappings=list(remappings),
                    arguments=['--ros-args', '--log-level', value['log_level']]
                    + (['--enclave', enclave(name)] if secure else []),
                    respawn=respawn, respawn_delay=RESPAWN_DELAY_S if respawn else None,
                    **(respawn_limit if respawn else {}), **shutdown_time.get(name, {}))

    def joystick():
        """joy_node + teleop_node; joy_node only where the joy package is installed."""
        out = [node('teleop_node', reward_topics[:1])]   # progress: its stall rumble
        if value['joy'] in FALSE:
            return out
        try:
            get_package_share_directory('joy')
        except PackageNotFoundError:
            if value['joy'] in TRUE:
                package_share('joy', 'joy:=true')
            return out + [LogInfo(msg='joy is not installed: no joystick driver started '
                                      '(sudo apt install ros-$ROS_DISTRO-joy); teleop_node '
                                      'listens on joy for any sensor_msgs/Joy publisher')]
        return out + [node('joy_node', package='joy', extra={
            'device_id': int(value['joy_device'])})]

    actions = [PushRosNamespace(value['namespace'])] if value['namespace'] else []
    if use_sim:
        actions.append(node('sim_robot_node', cameras + command, extra=dict(
            clock, **layout, **({'autopilot': autopilot} if autopilot else {}))))
    else:
        actions.append(franka_bringup(value['robot_ip']))
        if value['servo_launch']:
            actions.append(IncludeLaunchDescription(
                PythonLaunchDescriptionSource(value['servo_launch'])))
        if value['cameras'] == 'realsense':
            actions += realsense_cameras(value, topics)
        actions.append(node('gripper_node'))
    # the tracked objects' poses (the simulator's peg and hole, a real cell's pose tracker)
    # are recorded when there are any, so demonstrations hold the agent's whole state
    tracks_objects = use_sim or int(agent_params.get('objects', 0)) > 0
    ours = (['robodopamine/action'] + (['sim_robot/success'] if use_sim else [])
            + (['robodopamine/object_poses'] if tracks_objects else []))
    if mode == 'collect':
        bag = value['bag'] or os.path.join(
            'robodopamine_demos', time.strftime('demo_%Y%m%d_%H%M%S', time.gmtime()))
        # a contract names the robot's topics; ours (the commanded action the demo buffer
        # reads, the demonstration's outcome, the tracked objects) are recorded with them
        recorded = {'topics': ours, 'contract': os.path.abspath(value['contract'])} \
            if value['contract'] else {'topics': topics + ['joint_states', ee_pose] + ours}
        actions.append(node('recorder_node', extra={'bag': bag, **recorded}))
        if not autopilot:   # the simulator's expert alone commands the arm
            actions += [node('rl_agent_node', command + pose)] + joystick()
        return ConfigurationError().handlers() + [GroupAction(actions, scoped=True)]
    refresh = grm_refresh(value, mode, agent, agent_params, params_file, model_dir)
    actions += [node('grm_node', cameras + reward_topics, extra=refresh and refresh[0]),
                node('shaping_node', reward_topics)]
    if refresh:   # beside the control loop, on the learner's machine
        actions.append(node('grm_refresh_node', extra=refresh[1]))
    if agent:
        demos = [d for d in value['demos'].split(',') if d]
        # the camera topics too: observation 'cameras' reads them (else no subscription); its
        # frozen GRM encoder is grm_node's GRM unless params_file names one (grm_dir)
        # the params file's tracked objects are the 'robot' observation's: a camera policy
        # sees none (objects 0), whatever the file says for the privileged upper bound
        observation = value['observation'] or agent_params.get('observation', 'robot')
        agent_node = node('rl_agent_node', cameras + reward_topics + command + pose,
                          extra=dict({'demo_bags': demos} if demos else {},
                                     **({'objects': 0} if observation == 'cameras' else {}),
                                     grm_dir=agent_params.get('grm_dir') or model_dir))
        actions += [agent_node] + joystick()
        if value['operator']:   # as rl_agent_node: the labels that count, the control rate;
            #                     as grm_node: how long its detector holds
            grm_params = node_parameters(params_file, 'grm_node')
            actions.append(node('sim_operator_node', reward_topics, extra=dict(
                {k: agent_params[k] for k in ('success', 'control_rate') if k in agent_params},
                **{k: grm_params[k] for k in ('success_hold_s',) if k in grm_params},
                simulation=True, **({'success': value['success']} if value['success'] else {}))))
        if mode == 'eval':   # rl_agent_node exits after eval_episodes: so does the launch
            actions.append(RegisterEventHandler(OnProcessExit(
                target_action=agent_node, on_exit=[Shutdown(
                    reason='rl_agent_node finished the evaluation')])))
    if value['bag']:   # the run as the robot saw and scored it, its reward contract too
        run_topics = ['robodopamine/progress', 'robodopamine/reward', 'episode_summary',
                      'robodopamine/reward_contract', 'robodopamine/grm_contract']
        actions.append(node('recorder_node', extra={'bag': value['bag'], 'topics': (
            topics + ['joint_states', ee_pose] + ours + run_topics)}))
    return ConfigurationError().handlers() + [GroupAction(actions, scoped=True)]


def generate_launch_description():
    share = get_package_share_directory('robodopamine_ros')
    return LaunchDescription(launch_arguments(share)
                             + [OpaqueFunction(function=robot_and_nodes)])
