# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Closing the ROS graph on a real arm (issue 29, item 9): the launch's warning rule, the policy.

The rule (robot/ros_graph.py) and the shipped SROS2 policy (config/sros2_policy.xml, the sros2
policy format 0.2.0): only teleop_node may call set_intervention / clear_estop, only
shaping_node may publish the reward, only the drivers publish joint_states and the hand pose.
The launch file's use of both is in test/ros/test_launch_description.py.
"""

from pathlib import Path
from xml.etree import ElementTree

import pytest
from robodopamine_ros.robot.ros_graph import (discovery_range, discovery_warning, domain_id,
                                              enclave, security_enabled)

POLICY = Path(__file__).resolve().parents[2] / 'config' / 'sros2_policy.xml'
OURS = ('grm_node', 'grm_refresh_node', 'shaping_node', 'rl_agent_node', 'teleop_node',
        'joy_node', 'gripper_node', 'recorder_node', 'learner_node')


@pytest.mark.parametrize('environ, warned', [
    ({}, True),                                                   # unset: domain 0, subnet
    ({'ROS_DOMAIN_ID': '0'}, True),
    ({'ROS_DOMAIN_ID': ''}, True),
    ({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET'}, True),
    ({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SYSTEM_DEFAULT'}, True),
    ({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SUBNET', 'ROS_LOCALHOST_ONLY': '1'}, True),  # Jazzy
    ({'ROS_DISTRO': 'humble', 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'}, True),  # ignored
    ({'ROS_SECURITY_ENABLE': 'true'}, True),
    ({'ROS_DOMAIN_ID': '42'}, False),
    ({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST'}, False),
    ({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'OFF'}, False),
    ({'ROS_LOCALHOST_ONLY': '1'}, False),
    ({'ROS_DISTRO': 'humble', 'ROS_LOCALHOST_ONLY': '1'}, False),
])
def test_the_launch_warns_on_domain_0_with_subnet_wide_discovery(environ, warned):
    warning = discovery_warning(environ)
    assert (warning is not None) == warned
    if warned:
        assert 'domain 0' in warning and 'ROS_DOMAIN_ID' in warning
        assert 'ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST' in warning and 'SROS2' in warning
        assert ('SROS2 is on' in warning) == security_enabled(environ)


def test_the_environment_is_read_as_rmw_reads_it():
    assert domain_id({}) == 0 and domain_id({'ROS_DOMAIN_ID': ' 17 '}) == 17
    assert discovery_range({}) == 'SUBNET'
    assert discovery_range({'ROS_AUTOMATIC_DISCOVERY_RANGE': 'localhost'}) == 'LOCALHOST'
    assert enclave('teleop_node') == '/robodopamine/teleop_node'


def allowed(policy_file=POLICY):
    """Return {(kind, qualifier, name): {context paths}} of every ALLOW rule of the policy."""
    root = ElementTree.parse(policy_file).getroot()
    assert root.tag == 'policy' and root.get('version') == '0.2.0'
    rules = {}
    for context in root.iterfind('contexts/context'):
        for profile in context.iterfind('profiles/profile'):
            assert profile.get('ns') == '/' and profile.get('node')
            for group in profile:
                for qualifier, verdict in group.attrib.items():
                    assert verdict == 'ALLOW', (context.get('path'), group.tag, qualifier)
                    for item in group:
                        rules.setdefault((group.tag, qualifier, item.text), set()).add(
                            context.get('path'))
    return rules


def test_the_shipped_policy_lets_only_the_right_enclave_do_each_dangerous_thing():
    rules = allowed()
    teleop, agent = enclave('teleop_node'), enclave('rl_agent_node')
    for service in ('set_intervention', 'clear_estop'):
        assert rules[('services', 'request', f'rl_agent_node/{service}')] == {teleop}
        assert rules[('services', 'reply', f'~{service}')] == {agent}
    assert rules[('topics', 'publish', 'robodopamine/reward')] == {enclave('shaping_node')}
    assert rules[('topics', 'subscribe', 'robodopamine/reward')] == {
        agent, enclave('recorder_node')}   # the recorder: a run recorded with bag:=
    for driver_topic in ('joint_states', 'franka_robot_state_broadcaster/current_pose'):
        assert rules[('topics', 'publish', driver_topic)] == {'/'}     # the drivers only
    assert rules[('topics', 'publish', 'teleop/action')] == {teleop}
    # the weights an arm acts on come from learner_node alone, episodes go to it alone
    assert rules[('topics', 'publish', '~policy_weights')] == {enclave('learner_node')}
    assert rules[('services', 'request', 'learner_node/submit_episode')] == {agent}
    assert rules[('topics', 'publish', 'joy')] == {enclave('joy_node')}
    # no enclave may set (or even read) another node's parameters
    assert not [name for kind, qualifier, name in rules
                if kind == 'services' and qualifier == 'request' and 'parameter' in name]
    contexts = {path for paths in rules.values() for path in paths}
    assert contexts == {enclave(n) for n in OURS} | {'/'}
