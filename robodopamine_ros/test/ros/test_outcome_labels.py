# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The operator's outcome labels over real DDS (issue 28 item 2).

rl_agent_node's ``~/mark_outcome`` ends the running episode or relabels one waiting in its label
window, and refuses a late label naming the episode; teleop_node calls it once per button press;
shaping_node's ``success`` decides what success flag it shapes from.
"""

from agent_feeders import EpisodeFeeder
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile
from robodopamine_interfaces.msg import (ActionStamped, EpisodeSummary, ProgressStamped,
                                         RewardStamped)
from robodopamine_interfaces.srv import MarkOutcome
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from robodopamine_ros.nodes.teleop_node import TeleopNode
from sensor_msgs.msg import Joy


def test_labels_end_or_relabel_an_episode_and_a_late_label_is_refused_naming_it(
        ros_context, background):
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'start_episode_service': '', 'reset_service': '',
            'max_steps': 100000, 'batch_size': 16, 'pretrain_updates': 0, 'offline_updates': 0,
            'updates_per_step': 1, 'success': 'either', 'label_window': 30.0}.items()])
    probe = rclpy.create_node('rd_test_labels', context=ros_context)
    commands, summaries = [], []
    probe.create_subscription(ActionStamped, 'command', background.collector(commands), 100)
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    mark = probe.create_client(MarkOutcome, 'rl_agent_node/mark_outcome')
    for node in (probe, agent):
        background.add_node(node)
    feeder = EpisodeFeeder(ros_context, background, agent)
    wait = background.wait_until

    def ended(episode_id):
        return next((s for s in summaries if s.episode_id == episode_id), None)
    try:
        wait(lambda: commands and commands[-1].source == 'policy' and mark.service_is_ready(),
             timeout=20, what='policy commands and the service')
        first = agent.loop.episode_id
        answer = background.call(mark, MarkOutcome.Request(episode_id=0, success=False,
                                                           source='test'))
        assert answer.accepted and answer.episode_id == first   # 0: the running episode
        wait(lambda: ended(first), what='the labelled episode to end')
        assert not ended(first).success

        wait(lambda: agent.loop.episode_id > first and commands[-1].source == 'policy',
             what='the next episode')
        second = agent.loop.episode_id
        feeder.end = 'truncated'               # shaping_node's time limit, unlabelled
        wait(lambda: agent.loop.waiting_for_label, what='the episode waiting for a label')
        feeder.end = None
        assert ended(second) is None           # held back: no summary, nothing learned yet
        answer = background.call(mark, MarkOutcome.Request(episode_id=second, success=True,
                                                           source='test'))
        assert answer.accepted and 'stored as a success' in answer.message
        wait(lambda: ended(second), what='the relabelled episode to go on')
        assert ended(second).success

        late = background.call(mark, MarkOutcome.Request(episode_id=second, success=False,
                                                         source='test'))
        assert not late.accepted and late.episode_id == second
        assert f'episode {second}' in late.message and 'already ended' in late.message
    finally:
        background.shutdown()
        for node in (agent, probe, feeder.node):
            node.destroy_node()


def test_a_held_label_button_calls_mark_outcome_once(ros_context, background):
    teleop = TeleopNode(context=ros_context)   # gamepad: Y (3) success, X (2) failure
    probe = rclpy.create_node('rd_test_teleop_labels', context=ros_context)
    calls = []

    def on_mark(request, response):
        calls.append((request.episode_id, request.success))
        response.accepted, response.message = True, 'noted'
        background.notify()
        return response
    probe.create_service(MarkOutcome, 'rl_agent_node/mark_outcome', on_mark)
    joy = probe.create_publisher(Joy, 'joy', 10)
    for node in (teleop, probe):
        background.add_node(node)
    try:
        background.wait_until(lambda: joy.get_subscription_count() > 0 and
                              teleop.labels.client.service_is_ready(), what='teleop_node')
        for pressed in ([3], [3], [3], [], [2]):   # Y held over three messages, then X
            joy.publish(Joy(axes=[0.0] * 8,
                            buttons=[int(k in pressed) for k in range(11)]))
        background.wait_until(lambda: len(calls) >= 2, what='two labels')
        assert calls == [(0, True), (0, False)]   # X's call came after every Y message
    finally:
        background.shutdown()
        for node in (teleop, probe):
            node.destroy_node()


def test_shaping_node_success_operator_ignores_the_detector_and_simulator_needs_sim_time(
        ros_context, executor, spin_until):
    with pytest.raises(ValueError, match='use_sim_time true.*privileged'):
        ShapingNode(context=ros_context, parameter_overrides=[
            Parameter('success', value='simulator')])
    node = ShapingNode(context=ros_context, parameter_overrides=[
        Parameter('control_period', value=0.02), Parameter('success', value='operator')])
    probe = rclpy.create_node('rd_test_operator_shaping', context=ros_context)
    for n in (node, probe):
        executor.add_node(n)
    rewards = []
    probe.create_subscription(RewardStamped, 'reward', rewards.append, QoSProfile(depth=100))
    publisher = probe.create_publisher(ProgressStamped, 'progress', 10)
    spin_until(lambda: publisher.get_subscription_count() >= 1, what='discovery')
    probe.create_timer(0.05, lambda: publisher.publish(
        ProgressStamped(episode_id=2, progress=0.99, success=True)))   # the detector fires
    spin_until(lambda: len(rewards) >= 10, what='ten rewards')
    assert not any(r.terminal or r.sparse_reward for r in rewards)   # it neither ends nor pays
    result = node.set_parameters([Parameter('success', value='detector')])[0]
    assert not result.successful and 'success is fixed' in result.reason
    node.destroy_node()
    probe.destroy_node()
