# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Our interfaces, built from robodopamine_interfaces, over real rclpy and DDS."""

import math

import pytest
import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message, serialize_message
from robodopamine_interfaces.msg import EpisodeSummary, ProgressStamped, RewardStamped
from robodopamine_interfaces.srv import SetIntervention, StartEpisode

# Fields the issue requires (name -> ROS type); the .msg files may only add to these.
REQUIRED_FIELDS = {
    ProgressStamped: {
        'header': 'std_msgs/Header', 'episode_id': 'uint32', 'tick': 'uint32',
        'progress': 'float', 'progress_incremental': 'float', 'progress_forward': 'float',
        'progress_backward': 'float', 'hop': 'float', 'confidence': 'float',
        'success': 'boolean', 'inference_latency': 'float'},
    RewardStamped: {
        'header': 'std_msgs/Header', 'episode_id': 'uint32', 'step': 'uint32',
        'reward': 'float', 'sparse_reward': 'float', 'shaping': 'float',
        'progress_before': 'float', 'progress_after': 'float', 'gamma': 'float',
        'confidence': 'float', 'terminal': 'boolean', 'truncated': 'boolean',
        'progress_stamp': 'builtin_interfaces/Time'},
}


def _filled(msg_type):
    """Return a message with every field set to a distinct, exactly representable value."""
    msg = msg_type()
    for index, (name, ros_type) in enumerate(msg.get_fields_and_field_types().items()):
        if ros_type == 'std_msgs/Header':
            msg.header.stamp.sec = 1_700_000_000 + index
            msg.header.stamp.nanosec = 123_456_789
            msg.header.frame_id = f'frame_{index}'
        elif ros_type == 'builtin_interfaces/Time':
            getattr(msg, name).sec, getattr(msg, name).nanosec = 1_600_000_000 + index, 987_654
        elif ros_type in ('float', 'double'):
            setattr(msg, name, 0.125 * (index + 1) - 0.5)  # exact in float32
        elif ros_type.startswith('uint') or ros_type.startswith('int'):
            setattr(msg, name, 1000 + index)
        elif ros_type == 'boolean':
            setattr(msg, name, index % 2 == 0)
        elif ros_type == 'string':
            setattr(msg, name, f'value {index}')
        else:
            raise AssertionError(f'{msg_type.__name__}.{name}: unhandled type {ros_type}')
    return msg


def _assert_same(expected, actual):
    for name in expected.get_fields_and_field_types():
        want, got = getattr(expected, name), getattr(actual, name)
        if isinstance(want, float):
            assert math.isclose(want, got), f'{name}: sent {want}, received {got}'
        else:
            assert want == got, f'{name}: sent {want}, received {got}'


@pytest.mark.parametrize('msg_type', list(REQUIRED_FIELDS), ids=lambda t: t.__name__)
def test_message_has_required_fields(msg_type):
    fields = msg_type.get_fields_and_field_types()
    for name, ros_type in REQUIRED_FIELDS[msg_type].items():
        assert fields.get(name) == ros_type, f'{msg_type.__name__}.{name}: {fields.get(name)}'


@pytest.mark.parametrize('msg_type', [ProgressStamped, RewardStamped, EpisodeSummary],
                         ids=lambda t: t.__name__)
def test_published_and_received_intact(msg_type, ros_context, executor, spin_until):
    qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
    talker = rclpy.create_node('rd_test_talker', context=ros_context)
    listener = rclpy.create_node('rd_test_listener', context=ros_context)
    executor.add_node(talker)
    executor.add_node(listener)
    received = []
    listener.create_subscription(msg_type, 'rd_test_topic', received.append, qos)
    publisher = talker.create_publisher(msg_type, 'rd_test_topic', qos)
    spin_until(lambda: publisher.get_subscription_count() >= 1, what='discovery')

    sent = _filled(msg_type)
    publisher.publish(sent)
    spin_until(lambda: received, what=f'a {msg_type.__name__}')

    assert len(received) == 1
    _assert_same(sent, received[0])
    # The same bytes round-trip through the serializer a rosbag2 recording uses.
    _assert_same(sent, deserialize_message(serialize_message(sent), msg_type))
    talker.destroy_node()
    listener.destroy_node()


def test_set_intervention_service(ros_context, executor, spin_until):
    server_node = rclpy.create_node('rd_test_agent', context=ros_context)
    client_node = rclpy.create_node('rd_test_teleop', context=ros_context)
    executor.add_node(server_node)
    executor.add_node(client_node)
    state = {'active': False}

    def handle(request, response):
        if request.active and not request.source:
            response.accepted = False
            response.message = 'source must name who takes over'
            return response
        state['active'] = request.active
        response.accepted = True
        response.message = f'intervention {"started" if request.active else "ended"}'
        return response

    server_node.create_service(SetIntervention, 'set_intervention', handle)
    client = client_node.create_client(SetIntervention, 'set_intervention')
    spin_until(client.service_is_ready, what='set_intervention service')

    def call(active, source):
        future = client.call_async(SetIntervention.Request(active=active, source=source))
        spin_until(future.done, what='set_intervention response')
        return future.result()

    response = call(True, 'teleop_node/joy')
    assert response.accepted and response.message == 'intervention started'
    assert state['active'] is True
    response = call(True, '')
    assert not response.accepted and 'source' in response.message
    assert state['active'] is True
    response = call(False, 'teleop_node/joy')
    assert response.accepted and state['active'] is False


def test_start_episode_service(ros_context, executor, spin_until):
    server_node = rclpy.create_node('rd_test_grm', context=ros_context)
    executor.add_node(server_node)
    episodes = []

    def handle(request, response):
        response.episode_id = request.episode_id or len(episodes) + 1
        episodes.append((response.episode_id, request.task))
        response.success = True
        return response

    server_node.create_service(StartEpisode, 'start_episode', handle)
    client = server_node.create_client(StartEpisode, 'start_episode')
    spin_until(client.service_is_ready, what='start_episode service')
    future = client.call_async(StartEpisode.Request(episode_id=0, task='insert the peg'))
    spin_until(future.done, what='start_episode response')
    assert future.result().success and future.result().episode_id == 1
    future = client.call_async(StartEpisode.Request(episode_id=7, task=''))
    spin_until(future.done, what='start_episode response')
    assert future.result().episode_id == 7
    assert episodes == [(1, 'insert the peg'), (7, '')]
