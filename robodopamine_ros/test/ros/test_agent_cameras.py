# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rl_agent_node with observation 'cameras' (issue 28), over real DDS beside sim_robot_node.

A small 'cameras' checkpoint, saved as the simulated training saves one, drives the agent from
sim_robot_node's three cameras (relayed as bgr8 by a probe that can silence them or shrink one);
silent cameras stop the arm until triplets return; a camera at another resolution is refused
naming its topic and both sizes; a checkpoint of another observation does not start the node.
The real arm's path: no checkpoint, one demonstration bag recorded at the cameras' 128x96, the
frozen features of a GRM: the node trains a new 64x48 policy (demo buffer, offline stage) and
acts; its checkpoint records the camera size; a camera at another size is refused.
"""

import threading

from agent_feeders import EpisodeFeeder, FakeGRM
import numpy as np
import pytest
import rclpy
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ActionStamped
from robodopamine_ros.data import bag_writer
from robodopamine_ros.data.images import decode_image, encode_image
from robodopamine_ros.data.topics import CAMERA_TOPICS, IMAGE_SIZE, VIEWS
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.observations import (obs_shapes, read_checkpoint_extra,
                                              TrainedObservation)
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from sensor_msgs.msg import Image
from sim_thread import SimInItsThread

SIZE = (64, 48)   # width, height the checkpoint was trained on (and the simulator renders)
SMALL = AgentConfig(hidden=(32, 32), batch_size=16)


def save_checkpoint(folder, observation, image_size=SIZE):
    """Save a small learner as rl/sim_training.py does (its train_config, the joint names)."""
    learner = Learner(SMALL, obs_shapes(observation, image_size))   # the node's capacity
    learner.save(folder, extra={'train_config': {
        'observation': observation, 'image_size': list(image_size), 'image_encoder': 'cnn',
        'encoder_dir': '', 'grm_dir': ''}, 'joint_names': list(JOINT_NAMES)})
    return folder


class CameraRelay:
    """sim_robot_node's cameras republished as bgr8; it can go silent or shrink one camera."""

    def __init__(self, context, background):
        self.node = rclpy.create_node('rd_test_camera_relay', context=context)
        self.mode, self.small_view = 'on', 'left_wrist'
        self.front = {}   # stamp ns -> the front view relayed (RGB)
        self.lock = threading.Lock()
        self.publishers = {v: self.node.create_publisher(Image, CAMERA_TOPICS[v],
                                                         qos_profile_sensor_data)
                           for v in VIEWS}
        for view in VIEWS:
            self.node.create_subscription(Image, f'sim_cams/{view}', self._relay(view),
                                          qos_profile_sensor_data)
        background.add_node(self.node)

    def _relay(self, view):
        def callback(msg):
            if self.mode == 'off':
                return
            rgb = decode_image(msg)
            if self.mode == 'small' and view == self.small_view:
                rgb = np.ascontiguousarray(rgb[::2, ::2])
            height, width, encoding, bigendian, step, data = encode_image(rgb, 'bgr8')
            out = Image(height=height, width=width, encoding=encoding, is_bigendian=bigendian,
                        step=step, data=data)
            out.header = msg.header
            if view == 'front':
                with self.lock:
                    stamp = msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec
                    self.front[stamp] = rgb
            self.publishers[view].publish(out)
        return callback


def command_probe(ros_context, background):
    """Return the camera relay, the fake GRM and a probe collecting the agent's commands."""
    relay = CameraRelay(ros_context, background)
    grm = FakeGRM(ros_context, background)
    probe = rclpy.create_node('rd_test_camera_probe', context=ros_context)
    commands = []
    subscription = probe.create_subscription(ActionStamped, 'command',
                                             background.collector(commands), 100)
    background.add_node(probe)
    return relay, grm, probe, commands, subscription


@pytest.fixture
def cameras_checkpoint(tmp_path):
    return save_checkpoint(tmp_path / 'ckpt', 'cameras')


def test_a_cameras_policy_acts_from_bgr8_cameras_and_stops_when_they_do(
        ros_context, background, cameras_checkpoint):
    # the simulator's cameras go through the relay; its arm takes no command (it stays put,
    # inside the workspace box)
    relay, grm, probe, commands, subscription = command_probe(ros_context, background)
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'eval', 'observation': 'cameras', 'checkpoint_dir': str(cameras_checkpoint),
            'reset_service': '', 'eval_episodes': 5, 'max_steps': 10_000,
            'observation_timeout': 0.5, 'reward_timeout': 0.5}.items()])
    feeder = EpisodeFeeder(ros_context, background, agent)
    feeder.observations = False   # sim_robot_node's joints and hand pose; the feeder's rewards
    sim = SimInItsThread(ros_context, {CAMERA_TOPICS[v]: f'sim_cams/{v}' for v in VIEWS},
                         image_width=SIZE[0], image_height=SIZE[1], command_interface='twist',
                         twist_topic='rd_test_nowhere')
    wait = background.wait_until

    def moved_by_policy(since):
        return any(c.source == 'policy' and np.abs(c.values[:3]).max() > 0
                   for c in commands[since:])

    def stopped(since):
        return any(c.source == 'stop' for c in commands[since:])
    try:
        wait(lambda: subscription.get_publisher_count() >= 1,
             what='the probe matched to the agent')
        background.add_node(agent)
        wait(lambda: moved_by_policy(0), timeout=30, what="the policy's commands from cameras")
        # the views it acts on are RGB: the relayed bgr8 decoded, never channel-swapped
        stamp, views = agent.cameras.newest
        with relay.lock:
            sent = relay.front[stamp]
        np.testing.assert_array_equal(views[0], sent)
        assert (sent[..., 0] != sent[..., 2]).any()   # a swap would have shown
        # the cameras go silent: a stop (zero motion, gripper held) while the rest is fresh
        relay.mode = 'off'
        since = len(commands)
        wait(lambda: stopped(since), timeout=10, what='a stop after the cameras went silent')
        stop = next(c for c in commands[since:] if c.source == 'stop')
        assert list(stop.values[:3]) == [0.0, 0.0, 0.0]
        assert set(agent.watchdog.faults()) == {'cameras'}
        # triplets return: the policy acts again
        relay.mode, since = 'on', len(commands)
        wait(lambda: moved_by_policy(since), timeout=10, what='the policy acting again')
        # one camera at half the size: refused, naming its topic and both sizes; a stop
        relay.mode = 'small'
        refusals = []

        def refused():
            refusals.append(agent.watchdog.bad['cameras'])
            return refusals[-1] is not None
        wait(refused, timeout=10, what='the small camera refused')
        assert '/cameras/left_wrist/image_raw: 32x24 image' in refusals[-1]
        assert 'trained on 64x48 camera images' in refusals[-1]
        since = len(commands)
        wait(lambda: stopped(since), timeout=10, what='a stop on the small camera')
    finally:
        background.shutdown()
        sim.close()
        agent.destroy_node()
        for node in (relay.node, grm.node, feeder.node, probe):
            node.destroy_node()


def test_a_checkpoint_of_another_observation_does_not_start_the_node(
        ros_context, tmp_path, cameras_checkpoint):
    state = save_checkpoint(tmp_path / 'state', 'state')
    for folder, observation, names in (
            (state, 'cameras', ("observation 'state'", "rl_agent_node is 'cameras'")),
            (state, 'robot', ("observation 'state'", "rl_agent_node is 'robot'")),
            (cameras_checkpoint, 'robot', ("observation 'cameras'", "is 'robot'"))):
        with pytest.raises(ValueError) as error:
            RLAgentNode(context=ros_context, parameter_overrides=[
                Parameter('mode', value='eval'), Parameter('observation', value=observation),
                Parameter('checkpoint_dir', value=str(folder))])
        assert all(name in str(error.value) for name in names), str(error.value)
        assert str(folder) in str(error.value)


CAMERA = (128, 96)   # width, height the simulated cameras publish (config/sim_insertion.yaml)


def write_demo_bag(path, frames=12, views=VIEWS):
    """Write a mode:=collect-like bag: 128x96 cameras, the simulator's joints, pose, actions."""
    start, period = 1_700_000_000 * 10**9, 100_000_000
    rng = np.random.default_rng(0)
    with bag_writer.EpisodeBagWriter(path, storage='mcap') as writer:
        for k in range(frames):
            stamp = start + k * period
            writer.write_triplet(stamp, {v: rng.integers(0, 256, (CAMERA[1], CAMERA[0], 3),
                                                         dtype=np.uint8) for v in views})
            writer.write_joint_state(stamp, JOINT_NAMES, np.full(9, 0.1) + 0.01 * k)
            writer.write_ee_pose(stamp, [0.0, 0.6, 0.2 - 0.005 * k, 0, 0, 0, 1])
            writer.write_action(stamp + 10_000_000, [0.0, 0.0, -0.5, 1.0], intervention=True)
    return str(path)


def test_without_a_checkpoint_a_new_policy_trains_from_one_demo_and_acts(
        ros_context, background, tmp_path, model_dir):
    # the real arm's path: one demonstration, the GRM adapted on it (here: a small one), no
    # simulator checkpoint; the cameras publish 128x96, the policy sees 64x48
    demo = write_demo_bag(tmp_path / 'demo1')
    checkpoints = tmp_path / 'ckpt'   # empty: nothing to resume
    relay, grm, probe, commands, subscription = command_probe(ros_context, background)
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'observation': 'cameras', 'checkpoint_dir': str(checkpoints),
            'grm_dir': str(model_dir), 'demo_bags': [demo], 'batch_size': 8,
            'pretrain_updates': 3, 'offline_updates': 3, 'reset_service': '',
            'max_steps': 10_000, 'observation_timeout': 0.5, 'reward_timeout': 0.5}.items()])
    feeder = EpisodeFeeder(ros_context, background, agent)
    feeder.observations = False   # sim_robot_node's joints and hand pose; the feeder's rewards
    sim = SimInItsThread(ros_context, {CAMERA_TOPICS[v]: f'sim_cams/{v}' for v in VIEWS},
                         image_width=CAMERA[0], image_height=CAMERA[1],
                         command_interface='twist', twist_topic='rd_test_nowhere')
    wait = background.wait_until
    try:
        # the defaults: 64x48 views of the frozen GRM's features; the demo set the camera size
        assert agent.trained.image_size == IMAGE_SIZE and agent.trained.image_encoder == 'grm'
        assert agent.views.camera_sizes == [CAMERA] * 3
        assert len(agent.learner.learner.demo) == 12
        wait(lambda: subscription.get_publisher_count() >= 1,
             what='the probe matched to the agent')
        background.add_node(agent)
        wait(lambda: any(c.source == 'policy' and np.abs(c.values[:3]).max() > 0
                         for c in commands), timeout=30,
             what="the new policy's commands from 128x96 cameras")
        _, views = agent.cameras.newest
        assert [v.shape for v in views] == [(IMAGE_SIZE[1], IMAGE_SIZE[0], 3)] * 3
        # a checkpoint of it records what it observes, the camera size included
        result = agent.saver.save(str(checkpoints), agent._checkpoint_extra())
        assert result.ok, result.message
        record = TrainedObservation.from_extra(read_checkpoint_extra(checkpoints))
        assert record == TrainedObservation('cameras', IMAGE_SIZE, 'grm', str(model_dir),
                                            (CAMERA,) * 3, agent.features.digest)
        # one camera at half the size (64x48, the views' size): refused, both sizes named
        relay.mode = 'small'
        refusals = []

        def refused():
            refusals.append(agent.watchdog.bad['cameras'])
            return refusals[-1] is not None
        wait(refused, timeout=10, what='the 64x48 camera refused')
        assert '/cameras/left_wrist/image_raw: 64x48 image' in refusals[-1]
        assert 'trained on 128x96 camera images (seen as 64x48 views)' in refusals[-1]
    finally:
        background.shutdown()
        sim.close()
        agent.destroy_node()
        for node in (relay.node, grm.node, feeder.node, probe):
            node.destroy_node()


def test_a_rig_without_a_front_camera_trains_on_its_two_wrist_cameras_and_acts(
        ros_context, background, tmp_path):
    """empty_views [front], fill repeat:left_wrist: the demo and live triplets filled alike."""
    demo = write_demo_bag(tmp_path / 'demo1', views=('left_wrist', 'right_wrist'))
    checkpoints = tmp_path / 'ckpt'
    relay, grm, probe, commands, subscription = command_probe(ros_context, background)
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'observation': 'cameras', 'checkpoint_dir': str(checkpoints),
            'image_encoder': 'cnn', 'empty_views': ['front'], 'fill': 'repeat:left_wrist',
            'demo_bags': [demo], 'batch_size': 8, 'pretrain_updates': 3,
            'offline_updates': 3, 'reset_service': '', 'max_steps': 10_000,
            'observation_timeout': 0.5, 'reward_timeout': 0.5}.items()])
    feeder = EpisodeFeeder(ros_context, background, agent)
    feeder.observations = False
    sim = SimInItsThread(ros_context, {CAMERA_TOPICS[v]: f'sim_cams/{v}' for v in VIEWS},
                         image_width=CAMERA[0], image_height=CAMERA[1],
                         command_interface='twist', twist_topic='rd_test_nowhere')
    wait = background.wait_until
    try:
        # the demo buffer's views: the front slot holds the left wrist's frame
        demo = agent.learner.learner.demo
        assert len(demo) == 12
        images = demo.gather(np.arange(len(demo)))['obs']['images']   # (12, 3, H, W, 3)
        np.testing.assert_array_equal(images[:, 0], images[:, 1])
        assert (images[:, 1] != images[:, 2]).any()
        assert agent.views.camera_sizes == [None, CAMERA, CAMERA]
        own = [info for info in agent.get_subscriptions_info_by_topic(CAMERA_TOPICS['front'])
               if info.node_name == agent.get_name()]
        assert own == []   # no subscription to a camera the rig lacks
        wait(lambda: subscription.get_publisher_count() >= 1,
             what='the probe matched to the agent')
        background.add_node(agent)
        wait(lambda: any(c.source == 'policy' and np.abs(c.values[:3]).max() > 0
                         for c in commands), timeout=30,
             what="the policy's commands from the two wrist cameras")
        _, views = agent.cameras.newest
        np.testing.assert_array_equal(views[0], views[1])   # repeat:left_wrist
        assert (views[1] != views[2]).any()
        result = agent.saver.save(str(checkpoints), agent._checkpoint_extra())
        assert result.ok, result.message
        record = TrainedObservation.from_extra(read_checkpoint_extra(checkpoints))
        assert (record.empty_views, record.fill) == (('front',), 'repeat:left_wrist')
    finally:
        background.shutdown()
        sim.close()
        agent.destroy_node()
        for node in (relay.node, grm.node, feeder.node, probe):
            node.destroy_node()
