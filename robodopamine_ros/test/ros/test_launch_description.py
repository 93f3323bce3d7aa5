# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
franka_insertion.launch.py resolved with launch's own API, without starting any process.

The installed launch file is loaded as `ros2 launch` loads it; its actions are executed in a
LaunchContext except the ones that would start something (Node, IncludeLaunchDescription),
which are collected and inspected: names, namespace, remappings, parameters, respawn, the
included file. Covers use_sim:=false (a franka_bringup package made for the test, and none),
agent:=false, namespace, log_level, params_file and per-argument overrides, the modes of the
user's path (collect with and without the simulator's autopilot, train without a model) and
the real-arm checks (the simulator's box refused, the real config, optional drivers, the
warning on a graph open to the subnet, SROS2 enclaves).
"""

import os
from pathlib import Path

from ament_index_python.packages import get_package_share_directory, PackageNotFoundError
from launch import LaunchContext
from launch.action import Action
from launch.actions import IncludeLaunchDescription
from launch.launch_description_sources import get_launch_description_from_python_launch_file
from launch.utilities import normalize_to_list_of_substitutions, perform_substitutions
from launch_ros.actions import Node
import pytest
import yaml

LAUNCH = Path(get_package_share_directory('robodopamine_ros')) / 'launch' \
    / 'franka_insertion.launch.py'
SIM_LOOP = {'sim_robot_node', 'grm_node', 'shaping_node', 'rl_agent_node', 'teleop_node'}


def resolve(**arguments):
    """Return ({node name: (Node, context)}, [IncludeLaunchDescription]) for these arguments."""
    description = get_launch_description_from_python_launch_file(str(LAUNCH))
    context = LaunchContext()
    context.launch_configurations.update(arguments)
    nodes, includes, pending = {}, [], list(description.entities)
    while pending:
        entity = pending.pop(0)
        if isinstance(entity, Node):
            entity._perform_substitutions(context)   # what Node.execute does before starting
            nodes[entity.node_name.rsplit('/', 1)[-1]] = (entity, context)
            continue
        if isinstance(entity, IncludeLaunchDescription):
            includes.append(entity)
            continue
        produced = entity.execute(context) if isinstance(entity, Action) \
            else entity.visit(context)
        pending = list(produced or []) + pending
    return nodes, includes


def command(node, context):
    """Return the node's command line as Node.execute would run it."""
    context.extend_locals({'ros_specific_arguments': {
        'name': f'__node:={node.node_name.rsplit("/", 1)[-1]}',
        'ns': f'__ns:={node.expanded_node_namespace}'}})
    return [perform_substitutions(context, part) for part in node.cmd]


def parameters(node, context):
    """Return the node's parameters as launch passes them (its --params-file files)."""
    cmd, values = command(node, context), {}
    for k, part in enumerate(cmd[:-1]):
        if part == '--params-file':
            # launch_ros writes lists as !!python/tuple (rcl reads them as arrays)
            document = yaml.load(Path(cmd[k + 1]).read_text(), Loader=yaml.FullLoader)
            for section in document.values():
                values.update(section['ros__parameters'])
    return values


def test_the_default_is_the_simulated_loop_with_the_shipped_yaml():
    nodes, includes = resolve(model_dir='/models/grm')
    assert set(nodes) == SIM_LOOP and not includes
    grm, context = nodes['grm_node']
    params = parameters(grm, context)
    assert params['model_dir'] == '/models/grm' and params['slop'] == 0.02
    assert dict(grm.expanded_remapping_rules)['progress'] == 'robodopamine/progress'
    assert [nodes[n][0]._ExecuteLocal__respawn for n in sorted(SIM_LOOP)] == \
        [True, False, True, False, True]   # grm, rl_agent, shaping, sim_robot, teleop
    assert command(grm, context)[1:4] == ['--ros-args', '--log-level', 'info']
    agent = parameters(*nodes['rl_agent_node'])
    assert (agent['mode'], agent['log_dir'], agent['checkpoint_dir']) == \
        ('train', 'robodopamine_logs', 'robodopamine_checkpoints')
    assert nodes['grm_node'][0]._ExecuteLocal__respawn_max_retries == 5


def fake_franka_bringup(tmp_path, monkeypatch):
    """Install a franka_bringup package whose launch file starts nothing; return that file."""
    prefix = tmp_path / 'franka_prefix'
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages').mkdir(parents=True)
    (prefix / 'share' / 'ament_index' / 'resource_index' / 'packages' / 'franka_bringup') \
        .write_text('')
    launch_file = prefix / 'share' / 'franka_bringup' / 'launch' / 'franka.launch.py'
    launch_file.parent.mkdir(parents=True)
    launch_file.write_text('from launch import LaunchDescription\n\n\n'
                           'def generate_launch_description():\n'
                           '    return LaunchDescription([])\n')
    monkeypatch.setenv('AMENT_PREFIX_PATH',
                       f'{prefix}{os.pathsep}{os.environ["AMENT_PREFIX_PATH"]}')
    return launch_file


def test_use_sim_false_includes_franka_bringup_not_the_simulated_robot(tmp_path, monkeypatch):
    launch_file = fake_franka_bringup(tmp_path, monkeypatch)
    nodes, includes = resolve(use_sim='false', robot_ip='10.0.0.7', model_dir='/m')
    assert set(nodes) == SIM_LOOP - {'sim_robot_node'} | {'gripper_node'}
    assert len(includes) == 1
    include = includes[0]
    context = LaunchContext()
    source = include.launch_description_source
    source.get_launch_description(context)        # loads the included file
    assert source.location == str(launch_file)
    arguments = {perform_substitutions(context, normalize_to_list_of_substitutions(k)):
                 perform_substitutions(context, normalize_to_list_of_substitutions(v))
                 for k, v in include.launch_arguments}
    assert arguments == {'robot_ip': '10.0.0.7'}


def test_use_sim_false_without_franka_bringup_names_the_package():
    with pytest.raises(RuntimeError, match="'franka_bringup'.*not installed"):
        resolve(use_sim='false', model_dir='/m')


def test_agent_false_is_the_reward_pipeline_only():
    nodes, _ = resolve(agent='false', model_dir='/m')
    assert set(nodes) == {'sim_robot_node', 'grm_node', 'shaping_node'}


def test_namespace_log_level_and_overrides(tmp_path):
    params = yaml.safe_load((LAUNCH.parents[1] / 'config' / 'sim_insertion.yaml')
                            .read_text())
    params['grm_node']['ros__parameters']['rate'] = 5.0
    params['grm_node']['ros__parameters']['task'] = 'from the file'
    params['grm_node']['ros__parameters']['model_dir'] = '/models/from_the_file'
    params['rl_agent_node']['ros__parameters']['log_dir'] = '/logs/from_the_file'
    params_file = tmp_path / 'robot1.yaml'
    params_file.write_text(yaml.safe_dump(params))
    nodes, _ = resolve(namespace='robot1', log_level='debug', params_file=str(params_file),
                       task='from the argument', mode='eval')
    grm, context = nodes['grm_node']
    assert grm.node_name == '/robot1/grm_node'
    values = parameters(grm, context)
    assert values['rate'] == 5.0 and values['task'] == 'from the argument'
    assert values['model_dir'] == '/models/from_the_file'   # an argument left empty
    agent = parameters(*nodes['rl_agent_node'])
    assert agent['mode'] == 'eval' and agent['log_dir'] == '/logs/from_the_file'
    assert '--log-level' in command(grm, context) and 'debug' in command(grm, context)
    # topics are relative: inside the namespace, apart from another robot's
    remaps = dict(grm.expanded_remapping_rules)
    assert remaps['progress'] == 'robodopamine/progress'
    assert remaps['cameras/front/image_raw'] == 'cameras/front/image_raw'


@pytest.mark.parametrize('argument', [{'mode': 'play'}, {'use_sim': 'maybe'},
                                      {'log_level': 'loud'}, {'agent': 'no'}])
def test_invalid_argument_values_are_refused_naming_them(argument):
    (name, value), = argument.items()
    with pytest.raises(RuntimeError, match=f"{name}:='{value}' is not valid"):
        resolve(**argument)


def test_collect_is_robot_teleop_agent_and_recorder_without_grm_or_policy():
    nodes, _ = resolve(mode='collect', bag='/data/demo7')   # no model needed to collect
    assert set(nodes) == {'sim_robot_node', 'rl_agent_node', 'teleop_node', 'recorder_node'}
    agent = parameters(*nodes['rl_agent_node'])
    assert agent['mode'] == 'collect'
    recorder = parameters(*nodes['recorder_node'])
    assert recorder['bag'] == '/data/demo7' and recorder['storage'] == 'mcap'
    assert set(recorder['topics']) == {
        'cameras/front/image_raw', 'cameras/left_wrist/image_raw',
        'cameras/right_wrist/image_raw', 'joint_states', 'robodopamine/ee_pose',
        'robodopamine/action', 'robodopamine/object_poses',  # the simulator's peg and hole
        'sim_robot/success'}  # its ground truth: a failed demonstration is marked in the bag


def test_collect_with_the_autopilot_leaves_the_arm_to_the_expert_alone():
    nodes, _ = resolve(mode='collect', autopilot='expert')
    assert set(nodes) == {'sim_robot_node', 'recorder_node'}
    assert parameters(*nodes['sim_robot_node'])['autopilot'] == 'expert'
    assert parameters(*nodes['recorder_node'])['bag'].startswith('robodopamine_demos/demo_')


@pytest.mark.parametrize('mode', ['train', 'eval'])
def test_a_learning_mode_without_a_model_says_to_record_and_adapt_first(mode):
    with pytest.raises(RuntimeError, match=f'mode:={mode} needs model_dir.*mode:=collect.*'
                                           'robodopamine adapt'):
        resolve(mode=mode)


def test_the_autopilot_is_refused_outside_collect():
    with pytest.raises(RuntimeError, match='autopilot:=expert records demonstrations'):
        resolve(mode='train', model_dir='/m', autopilot='expert')


def test_real_time_factor_puts_every_node_on_the_simulators_clock():
    nodes, _ = resolve(model_dir='/m', real_time_factor='2.5')
    assert parameters(*nodes['sim_robot_node'])['publish_clock'] is True
    assert parameters(*nodes['sim_robot_node'])['real_time_factor'] == 2.5
    assert 'use_sim_time' not in parameters(*nodes['sim_robot_node'])  # it owns the clock
    for name in SIM_LOOP - {'sim_robot_node'}:
        assert parameters(*nodes[name])['use_sim_time'] is True, name
    wall, _ = resolve(model_dir='/m')
    assert all('use_sim_time' not in parameters(*wall[name]) for name in SIM_LOOP)
    assert parameters(*wall['sim_robot_node'])['publish_clock'] is False  # the YAML's


@pytest.mark.parametrize('arguments, message', [
    ({'real_time_factor': 'fast'}, "real_time_factor:='fast' is not valid; expected a number"),
    ({'real_time_factor': '0'}, "real_time_factor:='0' is not valid; expected a number > 0"),
    ({'real_time_factor': 'inf'}, "real_time_factor:='inf' is not valid"),
    ({'real_time_factor': '2', 'use_sim': 'false'}, 'a mode of the simulated robot only'),
])
def test_a_simulation_clock_is_refused_where_it_cannot_run(arguments, message):
    with pytest.raises(RuntimeError, match=message):
        resolve(model_dir='/m', **arguments)


def test_train_fills_the_demo_buffer_from_the_given_bags():
    nodes, _ = resolve(model_dir='/m', demos='/d/demo1,/d/demo2')
    assert list(parameters(*nodes['rl_agent_node'])['demo_bags']) == ['/d/demo1', '/d/demo2']


def test_observation_and_success_reach_the_nodes_and_the_agent_encodes_with_the_grm():
    nodes, _ = resolve(model_dir='/models/grm1')
    agent, shaping = parameters(*nodes['rl_agent_node']), parameters(*nodes['shaping_node'])
    # '' : the params file's; the agent's frozen GRM encoder is grm_node's model
    assert agent['observation'] == 'robot' and agent['grm_dir'] == '/models/grm1'
    assert agent['objects'] == 2   # the sim file's: the peg's and the hole's poses
    assert agent['success'] == shaping['success'] == 'either'   # the params file's, alike
    nodes, _ = resolve(model_dir='/models/grm1', observation='cameras', success='operator')
    agent, shaping = parameters(*nodes['rl_agent_node']), parameters(*nodes['shaping_node'])
    assert agent['observation'] == 'cameras'
    assert agent['objects'] == 0   # the sim file's 2 tracked objects are 'robot''s, not cameras'
    assert agent['success'] == shaping['success'] == 'operator'   # they must agree
    nodes, _ = resolve(model_dir='/m', operator='scripted', success='either')
    assert {parameters(*nodes[name])['success'] for name in (
        'rl_agent_node', 'shaping_node', 'sim_operator_node')} == {'either'}
    for name, value in (('observation', 'state'), ('success', 'always')):
        with pytest.raises(RuntimeError, match=f"{name}:='{value}' is not valid"):
            resolve(model_dir='/m', **{name: value})


def test_the_real_arm_refuses_the_simulators_box(tmp_path, monkeypatch):
    fake_franka_bringup(tmp_path, monkeypatch)
    sim = LAUNCH.parents[1] / 'config' / 'sim_insertion.yaml'
    with pytest.raises(RuntimeError, match='simulated workspace box.*simulator coordinates'):
        resolve(use_sim='false', model_dir='/m', params_file=str(sim))
    # a params file without a box gets the node's default, the simulator's: refused too
    params = yaml.safe_load(sim.read_text())
    for key in ('workspace_low', 'workspace_high'):
        del params['rl_agent_node']['ros__parameters'][key]
    bare = tmp_path / 'no_box.yaml'
    bare.write_text(yaml.safe_dump(params))
    with pytest.raises(RuntimeError, match='simulated workspace box'):
        resolve(use_sim='false', model_dir='/m', params_file=str(bare))


def test_the_real_arm_config_is_in_the_robot_base_frame(tmp_path, monkeypatch):
    fake_franka_bringup(tmp_path, monkeypatch)
    nodes, _ = resolve(use_sim='false', model_dir='/m', mode='collect')
    assert set(nodes) == {'gripper_node', 'rl_agent_node', 'teleop_node', 'recorder_node'}
    agent, agent_context = nodes['rl_agent_node']
    values = parameters(agent, agent_context)
    assert values['base_frame'] == 'fr3_link0' and values['reset_service'] == ''
    low, high = values['workspace_low'], values['workspace_high']
    ready_pose_hand = (0.307, 0.0, 0.487)    # the Franka ready pose, hand position
    assert all(lo < x < hi for lo, x, hi in zip(low, ready_pose_hand, high))
    assert all(lo < x < hi for lo, x, hi in zip(low, values['home_position'], high))
    assert dict(agent.expanded_remapping_rules)['robodopamine/ee_pose'] == \
        'franka_robot_state_broadcaster/current_pose'
    assert 'franka_robot_state_broadcaster/current_pose' in \
        parameters(*nodes['recorder_node'])['topics']
    assert 'robodopamine/object_poses' not in parameters(*nodes['recorder_node'])['topics']
    # a cell with a pose tracker (objects > 0) records the poses its agent's state needs
    params = yaml.safe_load((LAUNCH.parents[1] / 'config' / 'franka_fr3.yaml').read_text())
    params['rl_agent_node']['ros__parameters']['objects'] = 2
    tracked = tmp_path / 'tracked.yaml'
    tracked.write_text(yaml.safe_dump(params))
    nodes, _ = resolve(use_sim='false', model_dir='/m', mode='collect', params_file=str(tracked))
    assert 'robodopamine/object_poses' in parameters(*nodes['recorder_node'])['topics']


def installed(package):
    try:
        return bool(get_package_share_directory(package))
    except PackageNotFoundError:
        return False


def test_optional_drivers_asked_for_but_missing_are_named(tmp_path, monkeypatch):
    fake_franka_bringup(tmp_path, monkeypatch)
    if installed('realsense2_camera'):
        nodes, _ = resolve(use_sim='false', model_dir='/m', cameras='realsense')
        assert {'front_camera', 'left_wrist_camera', 'right_wrist_camera'} <= set(nodes)
    else:
        with pytest.raises(RuntimeError, match='cameras:=realsense needs the package '
                                               "'realsense2_camera'"):
            resolve(use_sim='false', model_dir='/m', cameras='realsense')
    if installed('joy'):
        assert 'joy_node' in resolve(model_dir='/m', joy='true')[0]
    else:
        with pytest.raises(RuntimeError, match="joy:=true needs the package 'joy'"):
            resolve(model_dir='/m', joy='true')
    nodes, _ = resolve(model_dir='/m', joy='false')
    assert 'joy_node' not in nodes and 'teleop_node' in nodes


# closing the graph on the real arm (issue 29, item 9; the rule: robot/ros_graph.py) ---------
OPEN_GRAPH = 'runs in ROS domain 0 with discovery across the whole subnet'


def test_the_real_arm_warns_when_its_graph_is_open_to_the_subnet(tmp_path, monkeypatch):
    import logging

    import launch.logging

    fake_franka_bringup(tmp_path, monkeypatch)
    for name in ('ROS_DOMAIN_ID', 'ROS_LOCALHOST_ONLY', 'ROS_AUTOMATIC_DISCOVERY_RANGE'):
        monkeypatch.delenv(name, raising=False)
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger, keep = launch.logging.get_logger('franka_insertion.launch'), Keep(logging.WARNING)
    logger.addHandler(keep)

    def warnings(**arguments):
        records.clear()
        resolve(model_dir='/m', **arguments)
        return [r.getMessage() for r in records if OPEN_GRAPH in r.getMessage()]

    try:
        assert len(warnings(use_sim='false')) == 1
        assert not warnings(use_sim='true')          # the simulator: nothing to protect
        monkeypatch.setenv('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
        assert not warnings(use_sim='false')
        monkeypatch.delenv('ROS_AUTOMATIC_DISCOVERY_RANGE')
        monkeypatch.setenv('ROS_DOMAIN_ID', '42')
        assert not warnings(use_sim='false')
    finally:
        logger.removeHandler(keep)


def test_with_sros2_each_node_of_ours_runs_in_its_enclave_of_the_shipped_policy(
        tmp_path, monkeypatch):
    from xml.etree import ElementTree

    fake_franka_bringup(tmp_path, monkeypatch)
    policy = ElementTree.parse(LAUNCH.parents[1] / 'config' / 'sros2_policy.xml').getroot()
    contexts = {c.get('path') for c in policy.iterfind('contexts/context')}
    monkeypatch.delenv('ROS_SECURITY_ENABLE', raising=False)
    nodes, _ = resolve(use_sim='false', model_dir='/m')
    assert all('--enclave' not in command(*n) for n in nodes.values())
    monkeypatch.setenv('ROS_SECURITY_ENABLE', 'true')
    for arguments in ({'model_dir': '/m'}, {'mode': 'collect'}):
        nodes, _ = resolve(use_sim='false', **arguments)
        for name, (node, context) in nodes.items():
            cmd = command(node, context)
            assert '--enclave' in cmd, name
            path = cmd[cmd.index('--enclave') + 1]
            assert path == f'/robodopamine/{name}' and path in contexts, name


def test_seed_is_the_first_layout_and_eval_runs_on_the_evaluation_layouts():
    """Issue 30 items 1 and 6: seed:=, a default layout the expert solves, eval's layouts."""
    nodes, _ = resolve(mode='collect', autopilot='expert')
    sim = parameters(*nodes['sim_robot_node'])
    assert sim['seed'] == 1 and sim['layouts'] == 'train'   # the expert solves layout 1
    nodes, _ = resolve(mode='collect', autopilot='expert', seed='7')
    assert parameters(*nodes['sim_robot_node'])['seed'] == 7
    nodes, _ = resolve(model_dir='/models/grm', mode='eval')
    sim = parameters(*nodes['sim_robot_node'])   # the benchmark's layouts, EVAL_SEED + 0 on
    assert sim['layouts'] == 'eval' and sim['seed'] == 0
    assert parameters(*nodes['rl_agent_node'])['mode'] == 'eval'
    for bad in ('-1', 'one'):
        with pytest.raises(RuntimeError, match=f"seed:='{bad}' is not valid"):
            resolve(mode='collect', seed=bad)


def test_teleop_node_hears_grm_nodes_progress_for_its_stall_rumble():
    """teleop_node's ``progress`` is grm_node's (until 2026-12-07 it listened on /progress)."""
    nodes, _ = resolve(model_dir='/m')
    teleop, grm = nodes['teleop_node'][0], nodes['grm_node'][0]
    assert dict(teleop.expanded_remapping_rules)['progress'] == \
        dict(grm.expanded_remapping_rules)['progress'] == 'robodopamine/progress'
