# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""'The robot is stuck' over real DDS: grm_node flags it, teleop_node asks and rumbles once."""

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import numpy as np
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ProgressStamped
from robodopamine_interfaces.srv import StartEpisode
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.nodes.conversions import image_msg
from robodopamine_ros.nodes.grm_node import CAMERA_TOPICS, GRMNode
from robodopamine_ros.nodes.teleop_node import TeleopNode
from sensor_msgs.msg import Image, JoyFeedback


def test_a_still_scene_is_flagged_stalled_and_the_operator_is_asked_once(
        ros_context, background, tmp_path):
    rng = np.random.default_rng(0)
    CompactGRM.create(task='insert the peg').save(
        tmp_path / 'grm', [rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(2)])
    grm = GRMNode(context=ros_context, parameter_overrides=[
        Parameter('model_dir', value=str(tmp_path / 'grm')), Parameter('rate', value=10.0),
        Parameter('stall_window', value=0.8)])
    teleop = TeleopNode(context=ros_context)
    probe = rclpy.create_node('rd_test_stall', context=ros_context)
    cameras = {v: probe.create_publisher(Image, t, qos_profile_sensor_data)
               for v, t in CAMERA_TOPICS.items()}
    still = np.full((48, 64, 3), 90, np.uint8)   # nothing moves: progress cannot rise

    def publish():
        stamp = probe.get_clock().now().to_msg()
        for view, publisher in cameras.items():
            publisher.publish(image_msg(still, stamp, f'{view}_camera'))
    probe.create_timer(1 / 30, publish)
    progress, rumbles, diagnostics = [], [], []
    probe.create_subscription(ProgressStamped, 'progress', background.collector(progress), 100)
    probe.create_subscription(JoyFeedback, 'joy/set_feedback', background.collector(rumbles), 10)
    probe.create_subscription(DiagnosticArray, '/diagnostics', background.collector(diagnostics),
                              10)
    start = probe.create_client(StartEpisode, 'grm_node/start_episode')
    for node in (grm, teleop, probe):
        background.add_node(node)
    wait = background.wait_until
    try:
        wait(lambda: grm.online.stats.triplets > 3 and start.service_is_ready(),
             what='triplets and the start service')
        assert background.call(start, StartEpisode.Request(episode_id=1)).success
        wait(lambda: any(p.stalled for p in progress), timeout=10, what='a stalled flag')

        def seconds(p):
            return p.header.stamp.sec + p.header.stamp.nanosec * 1e-9

        # not before the window: the ticks in the episode's first 0.8 s of camera time (from
        # its start views, tick 0) are never stalled, and there are some
        begin = next(p for p in progress if p.episode_id == 1 and p.tick == 0)
        ticks = [p for p in progress if p.episode_id == 1 and p.tick > 0]
        early = [p for p in ticks if seconds(p) - seconds(begin) < 0.75]
        assert early and not any(p.stalled for p in early)
        first = next(p for p in ticks if p.stalled)
        assert seconds(first) - seconds(begin) >= 0.8 - 1e-6
        wait(lambda: rumbles, what='a rumble on joy/set_feedback')
        assert rumbles[0].type == JoyFeedback.TYPE_RUMBLE and rumbles[0].intensity == 1.0
        wait(lambda: any(s.level == DiagnosticStatus.WARN and 'stalled' in s.message
                         for d in diagnostics for s in d.status), timeout=5,
             what='a stalled diagnostic')
        count = sum(p.stalled for p in progress)
        wait(lambda: sum(p.stalled for p in progress) >= count + 5, what='more stalled ticks')
        assert len(rumbles) == 1   # one rumble per stall, not one per tick
        # a new episode: the window starts anew, the rumble stops
        assert background.call(start, StartEpisode.Request(episode_id=2)).success
        wait(lambda: len(rumbles) == 2, what='the rumble stopped')
        assert rumbles[1].intensity == 0.0
        assert not any(p.stalled for p in progress if p.episode_id == 2 and p.tick <= 3)
    finally:
        background.shutdown()
        for node in (grm, teleop, probe):
            node.destroy_node()
