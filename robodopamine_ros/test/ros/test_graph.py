# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The reward graph in one process: sim_robot_node + grm_node + shaping_node over real DDS."""

import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ActionStamped, ProgressStamped, RewardStamped
from robodopamine_interfaces.srv import StartEpisode
from robodopamine_ros.data.images import decode_image
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.nodes.conversions import ns_from_time
from robodopamine_ros.nodes.grm_node import GRMNode
from robodopamine_ros.nodes.shaping_node import ShapingNode
from sensor_msgs.msg import Image
from sim_thread import SimInItsThread
from std_srvs.srv import Trigger


def test_sim_grm_shaping_graph(ros_context, tmp_path, background):
    sim = SimInItsThread(ros_context, image_width=64, image_height=48)
    probe = rclpy.create_node('rd_test_agent', context=ros_context)
    progress, rewards, images = [], [], []
    probe.create_subscription(ProgressStamped, 'progress', background.collector(progress), 100)
    probe.create_subscription(RewardStamped, 'reward', background.collector(rewards), 100)
    probe.create_subscription(Image, 'cameras/front/image_raw', background.collector(images),
                              qos_profile_sensor_data)
    background.add_node(probe)
    wait = background.wait_until
    try:
        wait(lambda: images, what='a camera image')
        image = images[-1]
        assert (image.encoding, image.width, image.height) == ('rgb8', 64, 48)
        assert image.header.frame_id == 'front_camera_optical_frame'
        first = decode_image(image)
        CompactGRM.create(task='insert the peg').save(tmp_path / 'grm', (first, first))
        grm = GRMNode(context=ros_context, parameter_overrides=[
            Parameter('model_dir', value=str(tmp_path / 'grm')), Parameter('rate', value=10.0)])
        shaping = ShapingNode(context=ros_context, parameter_overrides=[
            Parameter('control_period', value=0.1)])
        command = probe.create_publisher(ActionStamped, 'command', 10)
        start = probe.create_client(StartEpisode, 'grm_node/start_episode')
        reset = probe.create_client(Trigger, 'sim_robot_node/reset')
        background.add_node(grm)
        background.add_node(shaping)

        wait(lambda: grm.online.stats.triplets > 2, what='camera triplets')
        wait(start.service_is_ready, what='start_episode service')
        assert background.call(start, StartEpisode.Request()).success
        pose_before = sim.node.sim.ee_pose()[:3].copy()
        wait(lambda: command.get_subscription_count() >= 1, what='discovery')
        for _ in range(5):
            command.publish(ActionStamped(values=[0.0, 0.0, 1.0, -1.0]))  # up 5 cm
        wait(lambda: sim.node.sim.steps >= 5, what='commands executed')
        assert sim.node.sim.ee_pose()[2] > pose_before[2] + 0.02

        wait(lambda: len([r for r in rewards if r.episode_id == 1]) >= 12, what='12 rewards')
        episode = [p for p in progress if p.episode_id == 1]
        stamps = [ns_from_time(p.header.stamp) for p in episode[1:]]
        assert stamps == sorted(stamps) and len(episode) >= 5
        steps = [r for r in rewards if r.episode_id == 1]
        values = {round(p.progress, 5) for p in episode} | {0.0}
        for previous, current in zip(steps, steps[1:]):
            assert current.progress_before == pytest.approx(previous.progress_after)
        for r in steps:
            after = 0.0 if r.terminal else r.progress_after
            assert r.reward == pytest.approx(
                r.sparse_reward + r.gamma * after - r.progress_before, abs=1e-6)
            assert round(r.progress_after, 5) in values  # progress in effect came from grm

        wait(reset.service_is_ready, what='reset service')
        assert background.call(reset, Trigger.Request()).success
        assert sim.node.sim.steps == 0 and np.isfinite(sim.node.sim.layout).all()
        background.shutdown()
        grm.destroy_node()
        shaping.destroy_node()
    finally:
        sim.close()
        probe.destroy_node()
