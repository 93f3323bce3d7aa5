# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Recording a demonstration from a running graph, as a user does with ros2 bag record.

rosbag2 (ros2 bag) cannot be installed here, so recorder_node records the same topics from the
live graph (serialized bytes as received, like ros2 bag record) and the demonstrations reader
reads the bag back.
"""

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ActionStamped
from robodopamine_ros.data.bags import bag_topics, read_episode
from robodopamine_ros.data.images import decode_image
from robodopamine_ros.nodes.conversions import ns_from_time
from robodopamine_ros.nodes.recorder_node import DEFAULT_TOPICS, RecorderNode
from sensor_msgs.msg import Image
from sim_thread import SimInItsThread

TELEOP = [[0.0, 0.0, 1.0, -1.0], [0.5, 0.0, 0.0, -1.0], [0.0, -0.5, 0.0, 1.0]] * 3


def test_record_running_graph_and_read_back(ros_context, tmp_path, background):
    bag = tmp_path / 'demo_bag'
    sim = SimInItsThread(ros_context, remappings={'command': '/robodopamine/action'},
                         image_width=64, image_height=48)
    recorder = RecorderNode(context=ros_context, parameter_overrides=[
        Parameter('bag', value=str(bag)), Parameter('storage', value='mcap')])
    probe = rclpy.create_node('rd_test_teleop', context=ros_context)
    fronts = []
    probe.create_subscription(Image, '/cameras/front/image_raw', background.collector(fronts),
                              qos_profile_sensor_data)
    teleop = probe.create_publisher(ActionStamped, '/robodopamine/action', 10)
    background.add_node(probe)
    background.add_node(recorder)
    wait = background.wait_until
    try:
        wait(lambda: not recorder.pending, what='recorder subscribed to every topic')
        wait(lambda: teleop.get_subscription_count() >= 2, what='sim and recorder discovery')
        for values in TELEOP:
            msg = ActionStamped(values=values, intervention=True, source='teleop')
            msg.header.stamp = probe.get_clock().now().to_msg()
            teleop.publish(msg)
        wait(lambda: sim.node.sim.steps >= len(TELEOP), what='teleop commands executed')
        streams = [t for t in DEFAULT_TOPICS if t != '/robodopamine/action']
        wait(lambda: min(recorder.counts[t] for t in streams) >= 10 and len(fronts) >= 10
             and recorder.counts['/robodopamine/action'] == len(TELEOP),
             what='10 images and states and every teleop action recorded')
        background.shutdown()
        # written as it records (readable after a crash); metadata.yaml only at a clean end
        assert sorted(p.name for p in bag.iterdir()) == [f'{bag.name}.mcap']
    finally:
        recorder.destroy_node()
        probe.destroy_node()
        sim.close()

    topics, info = bag_topics(bag)
    assert set(topics) == set(DEFAULT_TOPICS) and info['storage'] == 'mcap'
    episode = read_episode(bag)
    assert len(episode.stamps) >= 8 and np.all(np.diff(episode.stamps) > 0)
    assert all(episode.views[v].shape[1:] == (48, 64, 3) for v in episode.views)
    received = {ns_from_time(m.header.stamp): decode_image(m) for m in fronts}
    common = [i for i, s in enumerate(episode.stamps) if int(s) in received]
    assert common, 'no recorded triplet has the stamp of an image the probe received'
    for i in common:
        np.testing.assert_array_equal(episode.views['front'][i],
                                      received[int(episode.stamps[i])])
    np.testing.assert_allclose(episode.streams['action'].values, TELEOP)
    assert episode.streams['intervention'].values.all()
    assert episode.streams['joint_positions'].values.shape[1] == 9
    assert episode.streams['ee_pose'].values.shape[1] == 7


def test_recorder_requires_a_bag_path(ros_context):
    with pytest.raises(ValueError, match='parameter bag must name'):
        RecorderNode(context=ros_context)
