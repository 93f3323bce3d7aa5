# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""grm_node on a rig without a third-person camera: two cameras, the front slot filled by rule."""

from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ProgressStamped
from robodopamine_interfaces.srv import StartEpisode
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.nodes.conversions import image_msg, LATCHED
from robodopamine_ros.nodes.grm_node import CAMERA_TOPICS, GRMNode
from robodopamine_ros.reward.contract import published_terms
from sensor_msgs.msg import Image
from std_msgs.msg import String


@pytest.fixture
def model_dir(tmp_path):
    rng = np.random.default_rng(0)
    CompactGRM.create(task='insert the peg').save(
        tmp_path / 'grm', [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(2)])
    return tmp_path / 'grm'


def test_two_wrist_cameras_score_with_the_front_slot_repeating_one(ros_context, background,
                                                                   model_dir):
    grm = GRMNode(context=ros_context, parameter_overrides=[
        Parameter('model_dir', value=str(model_dir)), Parameter('rate', value=10.0),
        Parameter('empty_views', value=['front']), Parameter('fill', value='repeat:left_wrist')])
    probe = rclpy.create_node('rd_test_view_slots', context=ros_context)
    wrists = {v: probe.create_publisher(Image, CAMERA_TOPICS[v], qos_profile_sensor_data)
              for v in ('left_wrist', 'right_wrist')}
    frame = [0]

    def publish():   # no front camera exists: only the wrists publish
        frame[0] += 1
        stamp = probe.get_clock().now().to_msg()
        for k, (view, publisher) in enumerate(wrists.items()):
            image = np.full((48, 64, 3), 40 + k * 30, np.uint8)
            image[:, frame[0] % 56:frame[0] % 56 + 8] = 250
            publisher.publish(image_msg(image, stamp, f'{view}_camera'))
    probe.create_timer(1 / 30, publish)
    progress, diagnostics, contracts = [], [], []
    probe.create_subscription(ProgressStamped, 'progress', background.collector(progress), 100)
    probe.create_subscription(DiagnosticArray, '/diagnostics', background.collector(diagnostics),
                              10)
    probe.create_subscription(String, 'robodopamine/grm_contract',
                              background.collector(contracts), LATCHED)
    start = probe.create_client(StartEpisode, 'grm_node/start_episode')
    for node in (grm, probe):
        background.add_node(node)
    wait = background.wait_until
    try:
        # this node subscribes to the two wrist cameras, not to the front topic (other nodes
        # of the suite's domain may)
        topics = {sub.topic_name for sub in grm.subscriptions}
        assert '/cameras/left_wrist/image_raw' in topics
        assert not any('front' in topic for topic in topics)
        wait(lambda: grm.online.stats.triplets > 3 and start.service_is_ready(),
             what='synchronized pairs of the two wrist cameras')
        assert background.call(start, StartEpisode.Request(episode_id=1)).success
        wait(lambda: len([p for p in progress if p.tick > 0]) >= 5, what='progress ticks')
        assert all(0.0 <= p.progress <= 1.0 for p in progress)
        _, views = grm.online.newest_views()
        assert views[0] is views[1]   # the front slot holds the left wrist's image
        wait(lambda: diagnostics, what='diagnostics')
        values = {kv.key: kv.value for kv in diagnostics[-1].status[0].values}
        assert values['filled_views'] == 'front (repeat:left_wrist)'
        assert 'front_images' not in values and not grm.online.silent_cameras()

        # the contract half of this node (transient local: a GRM node of an earlier test in
        # the suite's domain may have left its own, with no fill rule)
        def ours():
            return [terms for terms, _ in map(published_terms, (c.data for c in contracts))
                    if terms.get('fill') == 'repeat:left_wrist']

        wait(ours, what='the contract half with the fill rule (transient local)')
        assert ours()[0]['views'] == {'front': '',
                                      'left_wrist': '/cameras/left_wrist/image_raw',
                                      'right_wrist': '/cameras/right_wrist/image_raw'}
    finally:
        background.shutdown()
        for node in (grm, probe):
            node.destroy_node()


@pytest.mark.parametrize('empty, fill, expected', [
    (['top'], 'blank', r"empty_views: unknown views \['top'\]"),
    (['front'], '', 'front has no camera: set the fill rule'),
    (['front', 'left_wrist'], 'repeat:left_wrist', 'repeats left_wrist, which has no camera'),
])
def test_an_unusable_rig_does_not_start(ros_context, model_dir, empty, fill, expected):
    with pytest.raises(ValueError, match=expected):
        GRMNode(context=ros_context, parameter_overrides=[
            Parameter('model_dir', value=str(model_dir)), Parameter('empty_views', value=empty),
            Parameter('fill', value=fill)])
