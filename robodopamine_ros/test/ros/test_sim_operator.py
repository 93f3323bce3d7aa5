# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
sim_operator_node over real DDS (issue 28 item 7): the scripted operator through ROS.

It takes over when the progress fed here stalls (SetIntervention, then the expert's actions on
teleop/action) and hands back after takeover_steps, or at once at the episode's last reward;
it labels a success through rl_agent_node's real ``~/mark_outcome`` after the simulator's flag
turns true; it refuses to start off the simulation clock. sim_robot_node publishes the
expert's action it relays.
"""

from agent_feeders import EpisodeFeeder
import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import (ActionStamped, EpisodeSummary, ProgressStamped,
                                         RewardStamped)
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.sim_operator_node import SimOperatorNode
from sim_thread import SimInItsThread
from std_msgs.msg import Bool
from std_srvs.srv import Trigger

EXPERT = [0.5, -0.25, 0.0, 1.0]


def operator_node(context, **parameters):
    values = dict({'simulation': True, 'control_rate': 20.0, 'stall_steps': 1000}, **parameters)
    return SimOperatorNode(context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in values.items()])


def test_it_refuses_to_start_off_the_simulation_clock(ros_context):
    with pytest.raises(ValueError, match='simulation only.*use_sim_time:=true or '
                                         'simulation:=true'):
        SimOperatorNode(context=ros_context)
    node = SimOperatorNode(context=ros_context,
                           parameter_overrides=[Parameter('use_sim_time', value=True)])
    node.destroy_node()


def test_a_stall_starts_a_takeover_with_the_experts_actions_and_it_hands_back(
        ros_context, background):
    operator = operator_node(ros_context, stall_steps=3, min_gain=0.05, takeover_steps=4)
    probe = rclpy.create_node('rd_test_sim_operator', context=ros_context)
    requests, actions = [], []
    state = {'progress': 0.2, 'rising': True}

    def on_intervention(request, response):   # stands in for rl_agent_node's service
        requests.append((request.active, request.source, len(actions)))
        response.accepted = True
        background.notify()
        return response
    probe.create_service(SetIntervention, 'rl_agent_node/set_intervention', on_intervention)
    probe.create_subscription(ActionStamped, 'teleop/action', background.collector(actions), 100)
    progress = probe.create_publisher(ProgressStamped, 'progress', 10)
    reward = probe.create_publisher(RewardStamped, 'reward', 10)
    expert = probe.create_publisher(ActionStamped, 'sim_robot/expert_action', 10)

    def feed():   # 20 Hz: flat (a stall) until the takeover starts, then rising
        if requests and state['rising']:
            state['progress'] += 0.05
        progress.publish(ProgressStamped(episode_id=3, progress=state['progress']))
        expert.publish(ActionStamped(values=EXPERT, source='expert', intervention=True))
    for node in (operator, probe):
        background.add_node(node)
    try:
        background.wait_until(lambda: progress.get_subscription_count() and
                              operator.intervention.service_is_ready(), what='discovery')
        probe.create_timer(0.05, feed)
        background.wait_until(lambda: len(requests) >= 2, what='a takeover and its end')
        (on, why, _), (off, _, _) = requests[:2]
        assert on is True and 'sim_operator_node' in why and off is False
        background.wait_until(lambda: len(actions) >= 4, what='the takeover steps')
        assert len(actions) == 4     # takeover_steps control steps of the expert, no more
        for msg in actions:
            assert np.allclose(msg.values, EXPERT) and msg.intervention
            assert msg.source == 'teleop'
        assert operator.operator.operator.takeovers == 1

        state['rising'] = False   # a stall again: a second takeover, until the time limit
        background.wait_until(lambda: len(requests) >= 3, what='a second takeover')
        assert requests[2][0] is True
        reward.publish(RewardStamped(episode_id=3, truncated=True))   # the episode's last step
        background.wait_until(lambda: len(requests) >= 4, what='the hand back at its end')
        assert requests[3][0] is False and len(requests) == 4
    finally:
        background.shutdown()
        for node in (operator, probe):
            node.destroy_node()


def test_a_success_seen_in_the_simulator_is_labelled_through_the_agents_service(
        ros_context, background):
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'start_episode_service': '', 'reset_service': '',
            'max_steps': 100000, 'batch_size': 16, 'pretrain_updates': 0, 'offline_updates': 0,
            'updates_per_step': 1, 'success': 'operator', 'label_window': 30.0}.items()])
    operator = operator_node(ros_context, success='operator', label_delay=2)
    probe = rclpy.create_node('rd_test_sim_operator_labels', context=ros_context)
    commands, summaries = [], []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    progress = probe.create_publisher(ProgressStamped, 'progress', 10)
    success = probe.create_publisher(Bool, 'sim_robot/success', 10)
    probe.create_timer(0.05, lambda: progress.publish(
        ProgressStamped(episode_id=agent.loop.episode_id, progress=0.2)))
    for node in (probe, agent, operator):
        background.add_node(node)
    feeder = EpisodeFeeder(ros_context, background, agent)
    wait = background.wait_until
    try:
        wait(lambda: commands and commands[-1].source == 'policy' and
             operator.labels.client.service_is_ready() and success.get_subscription_count(),
             timeout=20, what='policy commands, the service and discovery')
        first = agent.loop.episode_id
        wait(lambda: operator.operator.episode_id == first, what='the operator watching')
        assert not summaries   # nothing ends it but a label ('operator')
        success.publish(Bool(data=True))
        wait(lambda: any(s.episode_id == first for s in summaries),
             what='the labelled episode to end')
        summary = next(s for s in summaries if s.episode_id == first)
        assert summary.success   # the operator's label: 'operator' has no other way
    finally:
        background.shutdown()
        for node in (agent, operator, probe, feeder.node):
            node.destroy_node()


def test_the_simulated_robot_publishes_its_experts_action_for_the_operator(
        ros_context, background):
    sim = SimInItsThread(ros_context, image_width=64, image_height=48)
    probe = rclpy.create_node('rd_test_expert_action', context=ros_context)
    experts = []
    probe.create_subscription(ActionStamped, 'sim_robot/expert_action',
                              background.collector(experts), 10)
    reset = probe.create_client(Trigger, 'sim_robot_node/reset')
    command = probe.create_publisher(ActionStamped, 'command', 10)
    background.add_node(probe)
    try:
        background.wait_until(lambda: reset.service_is_ready() and
                              sim.node.expert_now.get_subscription_count() and
                              command.get_subscription_count(), what='discovery')
        assert background.call(reset, Trigger.Request()).success
        background.wait_until(lambda: experts, what="the expert's action after a reset")
        expected = np.clip(sim.node.sim.expert_action(sim.node.observation), -1.0, 1.0)
        assert np.allclose(experts[-1].values, expected, atol=1e-6)
        assert experts[-1].source == 'expert' and experts[-1].intervention
        command.publish(ActionStamped(values=[0.0, 0.0, 1.0, -1.0]))
        background.wait_until(lambda: len(experts) >= 2, what="the expert's action after a step")
        expected = np.clip(sim.node.sim.expert_action(sim.node.observation), -1.0, 1.0)
        assert np.allclose(experts[-1].values, expected, atol=1e-6)
    finally:
        background.shutdown()
        probe.destroy_node()
        sim.close()
