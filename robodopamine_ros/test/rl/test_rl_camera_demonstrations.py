# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Demonstration bags observed as the camera policy sees them (rl.demonstrations, 'cameras')."""

from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.data import bag_writer, bags, images
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.demonstrations import (DemonstrationError, episode_from_recording,
                                                fill_demo_buffer, load_demonstrations)
from robodopamine_ros.rl.observations import obs_shapes

SHAPING = ShapingConfig(gamma=0.98)
JOINTS = tuple(f'fr3_joint{i + 1}' for i in range(7)) + ('fr3_finger_joint1', 'fr3_finger_joint2')
RECORDED = (32, 24)             # width, height the cameras publish
POLICY = (16, 12)               # width, height the policy sees
START, PERIOD = 1_700_000_000 * 10**9, 33_333_333    # 30 fps triplets
# each action 25 ms after its frame: nearer the next frame (8 ms away) than its own, but
# decided on its own (the triplet in effect at the action's stamp is the latest at or before)
ACTION_DELAY = 25_000_000
FRAMES = 10
HELD = 4                        # the arm held at this step: no operator action
RED = {'front': 40, 'left_wrist': 120, 'right_wrist': 200}


def frame_rgb(view, k):
    """Return the RGB image of a view at frame k: red textured per view, green 10 k, blue 5."""
    rng = np.random.default_rng(100 * k + VIEWS.index(view))
    rgb = np.empty((RECORDED[1], RECORDED[0], 3), np.uint8)
    rgb[:, :, 0] = RED[view] + rng.integers(0, 40, size=rgb.shape[:2])
    rgb[:, :, 1] = 10 * k
    rgb[:, :, 2] = 5
    return rgb


def joints(k):
    return np.linspace(0.1, 0.9, len(JOINTS)) + 0.01 * k


def write_demo(path, views=VIEWS):
    """Write a mode:=collect-like bag: bgr8 cameras, joint states, hand pose, operator actions."""
    with bag_writer.EpisodeBagWriter(path, storage='mcap') as writer:
        types = writer.store.types
        for k in range(FRAMES):
            stamp = START + k * PERIOD
            for view in views:
                time = types['builtin_interfaces/msg/Time'](sec=stamp // 10**9,
                                                            nanosec=stamp % 10**9)
                header = types['std_msgs/msg/Header'](stamp=time, frame_id=f'{view}_camera')
                height, width, encoding, big, step, data = images.encode_image(
                    frame_rgb(view, k), 'bgr8')
                msg = types[bags.IMAGE](header=header, height=height, width=width,
                                        encoding=encoding, is_bigendian=big, step=step,
                                        data=np.frombuffer(data, np.uint8))
                writer.write_raw(writer.topics.camera(view), bags.IMAGE,
                                 writer.store.serialize_cdr(msg, bags.IMAGE), stamp)
            writer.write_joint_state(stamp, JOINTS, joints(k))
            writer.write_ee_pose(stamp, [0.4 + 0.01 * k, 0.0, 0.3, 0, 0, 0, 1])
            writer.write_action(stamp + ACTION_DELAY, [0.1 * k - 0.5, 0, 0, 1],
                                intervention=k != HELD)
    return str(path)


KEPT = [k for k in range(FRAMES) if k != HELD]


def test_each_action_gets_its_views_at_the_policys_resolution_in_rgb(tmp_path):
    path = write_demo(tmp_path / 'demo')
    (_, episode), = load_demonstrations([path], JOINTS, SHAPING, observation='cameras',
                                        image_size=POLICY)
    shapes = obs_shapes('cameras', POLICY, joints=len(JOINTS))
    assert shapes == {'state': (16,), 'images': (3, POLICY[1], POLICY[0], 3)}
    assert len(episode.transitions) == len(KEPT)
    for t, k in zip(episode.transitions, KEPT):
        obs = t['obs']
        assert {key: value.shape for key, value in obs.items()} == shapes
        assert obs['images'].dtype == np.uint8 and obs['state'].dtype == np.float32
        # step k's views are frame k's (not frame k + 1, nearer in time but after the action),
        # decoded from bgr8 into RGB and resized by the GRM's rule
        for v, view in enumerate(VIEWS):
            np.testing.assert_array_equal(obs['images'][v],
                                          images.resize(frame_rgb(view, k), POLICY))
        np.testing.assert_allclose(obs['state'][:9], joints(k), atol=1e-6)
        np.testing.assert_allclose(obs['state'][9:], [0.4 + 0.01 * k, 0, 0.3, 0, 0, 0, 1],
                                   atol=1e-6)
        np.testing.assert_allclose(t['action'], [0.1 * k - 0.5, 0, 0, 1], atol=1e-6)
    assert [int(t['obs']['images'][0, :, :, 1].mean()) for t in episode.transitions] == \
        [10 * k for k in KEPT]
    # the next observation is the following step's, its views the same array (stored once)
    for a, b in zip(episode.transitions, episode.transitions[1:]):
        assert a['next_obs']['images'] is b['obs']['images']
        np.testing.assert_array_equal(a['next_obs']['state'], b['obs']['state'])


def test_the_demo_buffer_stores_each_steps_views_once(tmp_path):
    from robodopamine_ros.rl.acting import Learner
    from robodopamine_ros.rl.agents import AgentConfig

    path = write_demo(tmp_path / 'demo')
    learner = Learner(AgentConfig(hidden=(16, 16), batch_size=8, gamma=SHAPING.gamma),
                      obs_shapes('cameras', POLICY, joints=len(JOINTS)), capacity=100)
    lines = fill_demo_buffer(learner, [path], JOINTS, SHAPING, observation='cameras',
                             image_size=POLICY)
    assert lines[-1] == ('info', f'demo buffer: {len(KEPT)} transitions from 1 demos:= bag')
    demo = learner.demo
    # nine steps, nine triplets: the last next observation is the last step's own triplet
    assert len(demo) == len(KEPT) and demo.frames_written == len(KEPT)
    batch = demo.gather(np.arange(len(demo)))
    assert [int(v) for v in batch['obs']['images'][:, 0, :, :, 1].mean(axis=(1, 2))] == \
        [10 * k for k in KEPT]
    np.testing.assert_array_equal(batch['next_obs']['images'][:-1], batch['obs']['images'][1:])
    assert np.isfinite(learner.update(1)['critic_loss'])
    # observations that do not fit the learner's buffers are named, not broadcast
    other = Learner(AgentConfig(hidden=(16, 16), batch_size=8, gamma=SHAPING.gamma),
                    obs_shapes('cameras', (64, 48), joints=len(JOINTS)), capacity=100)
    with pytest.raises(ValueError, match=r"demo: its observations are .*'images': \(3, 12, 16, "
                                         r'3\).*the learner stores .*\(3, 48, 64, 3\)'):
        fill_demo_buffer(other, [path], JOINTS, SHAPING, observation='cameras',
                         image_size=POLICY)
    assert len(other.demo) == 0


def test_the_bags_camera_size_is_the_policys_and_live_views_match_the_demos(tmp_path):
    from robodopamine_ros.rl.live_cameras import LiveViews

    path = write_demo(tmp_path / 'demo')
    camera = LiveViews(POLICY)   # a policy trained from scratch: the bags set its camera size
    (_, episode), = load_demonstrations([path], JOINTS, SHAPING, observation='cameras',
                                        image_size=POLICY, camera=camera)
    assert camera.camera_sizes == [RECORDED] * 3
    # a live camera image of the same frame is the same view, bit for bit (one resize rule)
    k = KEPT[2]
    for v, view in enumerate(VIEWS):
        live, first = camera.view(view, frame_rgb(view, k), 'live')
        assert not first
        np.testing.assert_array_equal(live, episode.transitions[2]['obs']['images'][v])
    # a bag recorded at another camera size than the policy's is refused naming both
    with pytest.raises(DemonstrationError, match=rf'{path}: front camera: 32x24 image, the '
                                                 r'policy was trained on 64x48 camera images'):
        fill_demo_buffer(_learner(), [path], JOINTS, SHAPING, observation='cameras',
                         image_size=POLICY, camera=LiveViews(POLICY, [(64, 48)] * 3))


def test_a_bag_without_a_view_the_policy_needs_is_refused_naming_it(tmp_path):
    path = write_demo(tmp_path / 'two_cameras', views=('front', 'left_wrist'))
    with pytest.raises(DemonstrationError, match=rf'{path}: no right_wrist view: the policy '
                                                 r'observes the views front, left_wrist, '
                                                 r'right_wrist .*/cameras/right_wrist/image_raw '
                                                 r'not found'):
        fill_demo_buffer(_learner(), [path], JOINTS, SHAPING, observation='cameras',
                         image_size=POLICY)


def _learner():
    from robodopamine_ros.rl.acting import Learner
    from robodopamine_ros.rl.agents import AgentConfig

    return Learner(AgentConfig(hidden=(16, 16), batch_size=8, gamma=SHAPING.gamma),
                   obs_shapes('cameras', POLICY, joints=len(JOINTS)), capacity=100)


def test_frozen_encoder_features_of_each_steps_views(tmp_path, grm_dir):
    from robodopamine_ros.rl.observations import FrozenViewEncoder

    encoder = FrozenViewEncoder(grm_dir)
    path = write_demo(tmp_path / 'demo')
    (_, episode), = load_demonstrations([path], JOINTS, SHAPING, observation='cameras',
                                        image_size=POLICY, features=encoder)
    shapes = obs_shapes('cameras', POLICY, joints=len(JOINTS), image_features=encoder.size)
    first, second = episode.transitions[0], episode.transitions[1]
    assert {key: value.shape for key, value in first['obs'].items()} == shapes
    expected = encoder(tuple(images.resize(frame_rgb(view, KEPT[1]), POLICY) for view in VIEWS))
    np.testing.assert_allclose(second['obs']['image_features'], expected, atol=1e-6)
    assert not np.allclose(first['obs']['image_features'], expected, atol=1e-3)


def test_bad_observation_arguments_are_named(tmp_path):
    path = write_demo(tmp_path / 'demo')
    with pytest.raises(ValueError, match=r'observation cameras needs image_size \(width, '
                                         r'height\).*got None'):
        load_demonstrations([path], JOINTS, SHAPING, observation='cameras')
    with pytest.raises(ValueError, match='no object pose, but objects is 2'):
        load_demonstrations([path], JOINTS, SHAPING, 2, observation='cameras',
                            image_size=POLICY)
    with pytest.raises(ValueError, match=r"one of \('robot', 'cameras'\), got 'images'"):
        load_demonstrations([path], JOINTS, SHAPING, observation='images', image_size=POLICY)
    with pytest.raises(DemonstrationError, match='demo: the camera views were not decoded'):
        episode_from_recording(bags.read_episode(path, images=False), JOINTS, SHAPING,
                               source='demo', observation='cameras', image_size=POLICY)
    # the robot's observation of the same bag is today's: no image, robot/state.py's vector
    (_, episode), = load_demonstrations([path], JOINTS, SHAPING)
    assert list(episode.transitions[0]['obs']) == ['state']
    assert episode.transitions[0]['obs']['state'].shape == (16,)


# field case 13 (joint-states-order): the same arm and cameras, joints in two orders ---------
JOINT_ORDER = Path(__file__).resolve().parents[4] / 'shared' / 'field_cases' \
    / 'joint-states-order'


@pytest.mark.skipif(not JOINT_ORDER.is_dir(), reason=f'field cases not found at {JOINT_ORDER}')
def test_field_demonstrations_give_the_same_camera_observations_in_two_joint_orders():
    names = tuple(f'joint{i + 1}' for i in range(7))
    (_, a), (_, b) = load_demonstrations(
        [JOINT_ORDER / 'demo_urdf_order', JOINT_ORDER / 'demo_resorted_order'], names, SHAPING,
        observation='cameras', image_size=POLICY)
    assert len(a.transitions) == len(b.transitions) > 0
    for x, y in zip(a.transitions, b.transitions):
        assert x['obs']['images'].shape == (3, POLICY[1], POLICY[0], 3)
        np.testing.assert_array_equal(x['obs']['images'], y['obs']['images'])
        np.testing.assert_array_equal(x['obs']['state'], y['obs']['state'])
