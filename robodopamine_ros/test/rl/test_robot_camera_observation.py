# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The 'cameras' observation on a robot (issue 28): rl.observations and rl_agent_node's settings.

What a checkpoint records of its policy's observation, which checkpoints a robot refuses, the
observation built from a decoded camera triplet as the simulator's training builds it, the
resize rule (one for demonstrations and live views) and the camera size a policy was trained
on, the settings of a policy trained from scratch, and the newest synchronized triplet.
"""

from dataclasses import replace
import re
from types import SimpleNamespace

import numpy as np
import pytest
from robodopamine_ros.data.images import decode_image, encode_image, resize
from robodopamine_ros.data.topics import IMAGE_SIZE
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.data.view_slots import ViewSlots
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.live_cameras import (CameraTriplets, check_camera_size, LiveViews,
                                              robot_camera_observation)
from robodopamine_ros.rl.observations import (obs_shapes, policy_observation, policy_view,
                                              read_checkpoint_extra, robot_observation_problem,
                                              TrainedObservation)
from robodopamine_ros.robot.state import robot_state
import torch

torch.set_num_threads(1)
SIZE = (16, 12)   # width, height of the policy's views
SMALL = AgentConfig(hidden=(16, 16), batch_size=4)


def views(seed=0, size=SIZE):
    rng = np.random.default_rng(seed)
    return tuple(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8) for _ in VIEWS)


def bgr8_msg(rgb):
    height, width, encoding, bigendian, step, data = encode_image(rgb, 'bgr8')
    return SimpleNamespace(encoding=encoding, width=width, height=height, step=step,
                           data=data, is_bigendian=bigendian)


def test_the_record_is_read_from_the_simulated_trainings_config_and_from_its_own_key():
    trained = TrainedObservation.from_extra({'train_config': {
        'observation': 'cameras', 'image_size': [16, 12], 'image_encoder': 'grm',
        'encoder_dir': '', 'grm_dir': '/runs/grm'}})
    assert trained == TrainedObservation('cameras', (16, 12), 'grm', '/runs/grm')
    # the encoder counts only with cameras (the simulated training's rule)
    assert TrainedObservation.from_extra({'train_config': {
        'observation': 'state', 'image_size': [64, 48], 'image_encoder': 'grm',
        'grm_dir': '/g'}}) == TrainedObservation('state', (64, 48), 'cnn', '')
    # what rl_agent_node writes reads back as it was, before any train_config
    written = trained.as_extra()
    assert TrainedObservation.from_extra(dict(written, train_config={
        'observation': 'state'})) == trained
    assert TrainedObservation.from_extra({'joint_names': ['a']}) is None   # an older robot's


def test_a_robot_refuses_a_state_checkpoint_and_one_of_another_observation():
    state = robot_observation_problem(TrainedObservation('state'), 'cameras', '/ckpt')
    assert "'state'" in state and "'cameras'" in state and '/ckpt' in state
    other = robot_observation_problem(TrainedObservation('cameras'), 'robot', '/ckpt')
    assert "trained with observation 'cameras'" in other and "rl_agent_node is 'robot'" in other
    # a checkpoint from before the record is the robot's state
    assert "'robot'" in robot_observation_problem(None, 'cameras', '/ckpt')
    assert robot_observation_problem(None, 'robot', '/ckpt') is None
    assert robot_observation_problem(TrainedObservation('cameras'), 'cameras', '/c') is None


def test_a_bgr8_triplet_becomes_the_observation_the_simulated_training_builds():
    rgb = views(1)
    decoded = tuple(decode_image(bgr8_msg(v), where='cam') for v in rgb)
    joints, pose = np.linspace(0.0, 0.8, 9), np.array([0.1, 0.6, 0.2, 0, 0, 0, 1.0])
    shapes = obs_shapes('cameras', SIZE)
    obs = robot_camera_observation(decoded, joints, pose, shapes)
    # RGB in VIEWS order: never the channels swapped
    assert obs['images'].shape == (3, 12, 16, 3) and obs['images'].dtype == np.uint8
    np.testing.assert_array_equal(obs['images'], np.stack(rgb))
    # the simulator's keys through the same policy_observation
    sim = policy_observation(dict(zip(VIEWS, rgb), proprioception=robot_state(joints, pose)),
                             shapes, 'cameras')
    assert sim.keys() == obs.keys()
    for key in sim:
        np.testing.assert_array_equal(sim[key], obs[key])
    with pytest.raises(ValueError, match='parameter joints says 9'):
        robot_camera_observation(decoded, joints[:7], pose, shapes)


def test_with_a_frozen_encoder_the_views_become_its_features():
    shapes = obs_shapes('cameras', SIZE, image_features=5)
    seen = []

    def encoder(triplet):
        seen.append(triplet)
        return np.full(5, 0.5, np.float32)
    obs = robot_camera_observation(views(), np.zeros(9), np.r_[np.zeros(6), 1.0], shapes,
                                   encoder)
    assert set(obs) == {'state', 'image_features'} and len(seen[0]) == 3
    np.testing.assert_array_equal(obs['image_features'], np.full(5, 0.5, np.float32))


def test_a_camera_at_another_size_is_refused_naming_the_topic_and_both_sizes():
    check_camera_size((32, 24), (32, 24), SIZE, 'cameras/front/image_raw')
    with pytest.raises(ValueError) as error:
        check_camera_size((64, 48), (32, 24), SIZE, '/ns/cameras/left_wrist/image_raw')
    assert '/ns/cameras/left_wrist/image_raw: 64x48 image' in str(error.value)
    assert 'trained on 32x24 camera images (seen as 16x12 views)' in str(error.value)


def test_live_views_are_resized_by_the_demonstrations_rule_at_the_recorded_camera_size():
    rng = np.random.default_rng(3)
    camera = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)   # 32x24, textured
    live = LiveViews(SIZE, [(32, 24)] * 3)
    view, first = live.view('front', camera, 'cam')
    # area interpolation (data.images.resize), not nearest or linear: a 2x2 block's mean
    assert view.shape == (12, 16, 3) and not first
    np.testing.assert_array_equal(view, resize(camera, SIZE))
    np.testing.assert_array_equal(view, policy_view(camera, SIZE))
    block = camera[:2, :2].astype(float).mean(axis=(0, 1))
    assert np.abs(view[0, 0] - block).max() <= 1
    assert (view[0, 0] != camera[0, 0]).any()
    np.testing.assert_array_equal(policy_view(view, SIZE), view)   # the identity at its size
    with pytest.raises(ValueError, match='cam2: 16x12 image.*trained on 32x24'):
        live.view('left_wrist', view, 'cam2')
    # not known yet (training from scratch): each view's first image sets its size, the
    # view's next images must match; a rig's cameras may differ from each other
    fresh = LiveViews(SIZE)
    assert fresh.camera_sizes == [None] * 3
    assert fresh.view('front', camera, 'a')[1] is True
    assert fresh.view('left_wrist', view, 'b')[1] is True          # 16x12: another camera
    assert fresh.camera_sizes == [(32, 24), (16, 12), None]
    assert fresh.view('front', camera, 'a')[1] is False
    with pytest.raises(ValueError, match='c: 32x24 image.*trained on 16x12'):
        fresh.view('left_wrist', camera, 'c')
    with pytest.raises(ValueError, match='one per view'):
        LiveViews(SIZE, [(32, 24)])


def test_the_camera_sizes_are_recorded_per_view_and_older_records_are_read():
    sizes = ((640, 480), (424, 240), (424, 240))   # a third-person camera and two wrist ones
    recorded = TrainedObservation('cameras', SIZE, 'cnn', '', sizes)
    extra = recorded.as_extra()
    assert extra['policy_observation']['camera_size'] == [[640, 480], [424, 240], [424, 240]]
    assert TrainedObservation.from_extra(extra) == recorded
    assert recorded.recorded_camera_sizes == sizes
    # a record of one size for the three cameras (written before 2026-12-08)
    one = {'policy_observation': dict(extra['policy_observation'], camera_size=[640, 480])}
    assert TrainedObservation.from_extra(one).recorded_camera_sizes == ((640, 480),) * 3
    # an older record (no camera_size) and a simulated training's: the rendered image_size
    older = {'policy_observation': {k: v for k, v in extra['policy_observation'].items()
                                    if k != 'camera_size'}}
    assert TrainedObservation.from_extra(older).recorded_camera_sizes == (SIZE,) * 3
    assert TrainedObservation.from_extra({'train_config': {
        'observation': 'cameras', 'image_size': [16, 12]}}).recorded_camera_sizes == (SIZE,) * 3
    # a node's training that saw one camera so far: the others not known
    partial = TrainedObservation('cameras', SIZE, camera_size=((640, 480), None, None))
    assert partial.as_extra()['policy_observation']['camera_size'] == [[640, 480], None, None]
    assert TrainedObservation.from_extra(partial.as_extra()) == partial
    # none yet, and the null an older node wrote for it
    unknown = TrainedObservation('cameras', SIZE, camera_size=TrainedObservation.UNKNOWN)
    assert TrainedObservation.from_extra(unknown.as_extra()).recorded_camera_sizes == \
        (None,) * 3
    null = {'policy_observation': dict(extra['policy_observation'], camera_size=None)}
    assert TrainedObservation.from_extra(null).camera_size == TrainedObservation.UNKNOWN
    # a malformed record (a checkpoint is untrusted input) is refused naming the field
    for bad in ([[640, 480]], [[640, 480], None, 'x'], [640, -1], 'big'):
        broken = {'policy_observation': dict(extra['policy_observation'], camera_size=bad)}
        with pytest.raises(ValueError, match='policy_observation.camera_size must be'):
            TrainedObservation.from_extra(broken)


def test_cameras_without_a_checkpoint_train_a_new_policy_of_the_parameters(tmp_path):
    grm = str(tmp_path / 'grm')
    new = RLAgentSettings(observation='cameras', grm_dir=grm).policy_input(None)
    assert new == TrainedObservation('cameras', IMAGE_SIZE, 'grm', grm,
                                     TrainedObservation.UNKNOWN)
    assert new.recorded_camera_sizes == (None,) * 3
    cnn = RLAgentSettings(observation='cameras', image_size=[32, 24],
                          image_encoder='cnn').policy_input(None)
    assert (cnn.image_size, cnn.image_encoder, cnn.encoder_dir) == ((32, 24), 'cnn', '')
    with pytest.raises(ValueError, match="image_encoder 'grm'.*set parameter grm_dir"):
        RLAgentSettings(observation='cameras').policy_input(None)
    with pytest.raises(ValueError, match='parameter image_size must be'):
        RLAgentSettings(image_size=[64, 0])
    with pytest.raises(ValueError, match='parameter image_encoder must be one of'):
        RLAgentSettings(image_encoder='vit')
    # with a checkpoint its record wins; a differing explicit value is refused naming both
    extra = TrainedObservation('cameras', SIZE, 'cnn').as_extra()
    for given, names in (({'image_size': [64, 48]}, ('image_size', '[64, 48]', '[16, 12]')),
                         ({'image_encoder': 'grm'}, ('image_encoder', "'grm'", "'cnn'"))):
        with pytest.raises(ValueError) as error:
            RLAgentSettings(observation='cameras', checkpoint_dir='/c', grm_dir=grm,
                            **given).policy_input(extra)
        assert all(name in str(error.value) for name in names + ('/c',)), str(error.value)
    assert RLAgentSettings(observation='cameras', checkpoint_dir='/c', image_size=[16, 12],
                           image_encoder='cnn').policy_input(extra).image_size == SIZE


def test_the_newest_synchronized_triplet_is_kept_and_a_clock_jump_forgets_it():
    triplets = CameraTriplets(slop=0.02, jump_threshold=1.0)
    ms = 1_000_000
    done = []
    for k in range(3):   # 30 Hz: three triplets, views arriving in any order
        for view in reversed(VIEWS):
            done += triplets.add(view, 10_000 * ms + 33 * ms * k, (view, k), k * 33 * ms)
    assert [stamp for stamp, _ in done] == [10_000 * ms + 33 * ms * k for k in range(3)]
    assert triplets.newest is None   # nothing accepted yet: the caller's stamp rule decides
    for triplet in done[:2]:
        triplets.accept(triplet)
    assert triplets.newest == (done[1][0], (('front', 1), ('left_wrist', 1), ('right_wrist', 1)))
    triplets.add('front', 5_000 * ms, ('front', 9), 200 * ms)   # a simulator reset: 5 s back
    assert triplets.newest is None and triplets.resets[0] == 1


def test_a_rig_without_a_view_synchronizes_its_cameras_and_fills_the_empty_slot():
    """Two wrist cameras, no third-person one: the front slot repeats the left wrist."""
    rig = ViewSlots.without({view: f'/cam/{view}' for view in VIEWS}, ['front'],
                            'repeat:left_wrist')
    triplets = CameraTriplets(slop=0.02, jump_threshold=1.0, slots=rig)
    ms = 1_000_000
    done = []
    for k in range(3):
        for view in ('right_wrist', 'left_wrist'):
            done += triplets.add(view, 10_000 * ms + 33 * ms * k, (view, k), k * 33 * ms)
    assert [views for _, views in done] == [
        (('left_wrist', k), ('left_wrist', k), ('right_wrist', k)) for k in range(3)]
    assert [stamp for stamp, _ in done] == [10_000 * ms + 33 * ms * k for k in range(3)]
    with pytest.raises(ValueError, match='front: no camera fills this view'):
        triplets.add('front', 10_100 * ms, ('front', 3), 100 * ms)
    blank = CameraTriplets(slop=0.02, jump_threshold=1.0, slots=ViewSlots.without(
        {view: view for view in VIEWS}, ['right_wrist'], 'blank'))
    image = np.full((12, 16, 3), 7, np.uint8)
    blank.add('front', 0, image, 0)
    (_, views), = blank.add('left_wrist', 0, image + 1, 1)
    assert views[2].shape == image.shape and not views[2].any() and views[1][0, 0, 0] == 8


def test_a_policy_records_its_rig_and_runs_only_on_it():
    rig = {'observation': 'cameras', 'image_encoder': 'cnn', 'empty_views': ['front'],
           'fill': 'repeat:left_wrist'}
    new = RLAgentSettings(**rig).policy_input(None)
    assert (new.empty_views, new.fill) == (('front',), 'repeat:left_wrist')
    extra = replace(new, camera_size=(None, (64, 48), (64, 48))).as_extra()
    assert extra['policy_observation']['empty_views'] == ['front']
    assert TrainedObservation.from_extra(extra).rig() == 'no front camera (fill repeat:left_wrist)'
    assert RLAgentSettings(checkpoint_dir='/c', **rig).policy_input(extra).fill == \
        'repeat:left_wrist'
    for bad in ('front', ['top'], ['front', 7]):   # a checkpoint is untrusted input
        broken = {'policy_observation': dict(extra['policy_observation'], empty_views=bad)}
        with pytest.raises(ValueError, match='policy_observation.empty_views'):
            TrainedObservation.from_extra(broken)
    # all three views (a simulated training) on the two-camera rig, and the other way round
    for settings, record in ((rig, TrainedObservation('cameras', SIZE, 'cnn').as_extra()),
                             ({'observation': 'cameras'}, extra)):
        with pytest.raises(ValueError) as error:
            RLAgentSettings(checkpoint_dir='/c', **settings).policy_input(record)
        text = str(error.value)
        assert 'all three views' in text and 'no front camera (fill repeat:left_wrist)' in text \
            and '/c' in text, text
    for bad, named in (({'empty_views': ['top']}, "unknown views ['top']"),
                       ({'empty_views': ['front']}, 'has no camera: set the fill rule'),
                       ({'empty_views': ['front'], 'fill': 'repeat:front'},
                        'no camera either')):
        with pytest.raises(ValueError, match=r'parameters empty_views / fill: .*' + re.escape(
                named)):
            RLAgentSettings(observation='cameras', **bad)


def test_read_checkpoint_extra_reads_the_record_without_the_buffers(tmp_path):
    assert read_checkpoint_extra(tmp_path) is None
    shapes = obs_shapes('cameras', SIZE)
    learner = Learner(SMALL, shapes, capacity=8)
    record = TrainedObservation('cameras', SIZE).as_extra()
    learner.save(tmp_path, extra=dict(record, joint_names=['j']))
    assert TrainedObservation.from_extra(read_checkpoint_extra(tmp_path)) == \
        TrainedObservation('cameras', SIZE)
    (tmp_path / 'checkpoint.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='not a readable checkpoint'):
        read_checkpoint_extra(tmp_path)


def test_settings_observation_default_cameras_watchdog_and_refusals():
    assert RLAgentSettings().observation == 'robot'
    assert 'cameras' not in RLAgentSettings().watchdog_timeouts()
    cameras = RLAgentSettings(observation='cameras', mode='eval', checkpoint_dir='/c',
                              observation_timeout=0.3)
    assert cameras.watchdog_timeouts()['cameras'] == 0.3
    # collect: teleop drives, the recorder records the cameras; the node reads no camera
    assert not RLAgentSettings(observation='cameras', mode='collect').watches_cameras
    with pytest.raises(ValueError, match='parameter observation must be one of'):
        RLAgentSettings(observation='state')
    with pytest.raises(ValueError, match='parameter objects must be 0 with observation'):
        RLAgentSettings(observation='cameras', objects=2)
    with pytest.raises(ValueError, match='holds no checkpoint'):
        cameras.policy_input(None)
    with pytest.raises(ValueError, match="observation 'state'.*'cameras'"):
        cameras.policy_input({'train_config': {'observation': 'state'}})
    with pytest.raises(ValueError, match="observation 'cameras'.*rl_agent_node is 'robot'"):
        RLAgentSettings(mode='eval').policy_input(TrainedObservation('cameras').as_extra())
    trained = cameras.policy_input(TrainedObservation('cameras', SIZE).as_extra())
    assert cameras.observation_shapes(trained) == obs_shapes('cameras', SIZE)
    # a checkpoint the node writes keeps the record (the simulated training's config is gone)
    assert cameras.policy_input(cameras.checkpoint_extra(trained)) == trained
    assert RLAgentSettings().policy_input(None) == TrainedObservation('robot')


def test_a_missing_grm_folder_is_refused_naming_it_and_the_parameter(tmp_path, grm_dir):
    trained = TrainedObservation('cameras', (64, 48), 'grm', str(tmp_path / 'gone'))
    with pytest.raises(ValueError, match=r"gone'.*set parameter grm_dir"):
        trained.encoder()
    with pytest.raises(ValueError, match='parameter grm_dir names'):
        trained.encoder(str(tmp_path / 'also_gone'))
    encoder = trained.encoder(str(grm_dir))   # the override: the same GRM copied here
    assert encoder.grm_dir == str(grm_dir)
    assert trained.shapes(9, encoder) == {'state': (16,), 'image_features': (encoder.size,)}
    assert TrainedObservation('cameras').encoder() is None   # the policy's own CNN


def test_another_grm_than_the_recorded_one_is_refused_naming_both(tmp_path, grm_dir):
    import shutil

    from robodopamine_ros.grm.compact import CompactGRM

    digest = TrainedObservation('cameras', (64, 48), 'grm', str(grm_dir)).encoder().digest
    trained = TrainedObservation('cameras', (64, 48), 'grm', str(grm_dir),
                                 encoder_digest=digest)
    assert TrainedObservation.from_extra(trained.as_extra()) == trained
    copy = shutil.copytree(grm_dir, tmp_path / 'copied')   # the same GRM elsewhere: taken
    assert trained.encoder(str(copy)).digest == digest
    other = tmp_path / 'other'
    CompactGRM.create(task='insert the peg').save(other, [np.zeros((48, 64, 3), np.uint8)] * 2)
    with pytest.raises(ValueError) as error:
        trained.encoder(str(other))
    assert str(other) in str(error.value) and str(grm_dir) in str(error.value)
    assert 'another GRM' in str(error.value)
    # a simulated training records the fingerprint beside its train_config: checked the same
    simulated = TrainedObservation.from_extra({'encoder_digest': digest, 'train_config': {
        'observation': 'cameras', 'image_size': [64, 48], 'image_encoder': 'grm',
        'grm_dir': str(grm_dir)}})
    assert simulated.encoder_digest == digest
    with pytest.raises(ValueError, match='another GRM'):
        simulated.encoder(str(other))


def test_the_frozen_encoder_encodes_a_triplet_once_however_often_a_tick_acts_on_it(grm_dir):
    encoder = TrainedObservation('cameras', (64, 48), 'grm', str(grm_dir)).encoder()
    rng = np.random.default_rng(0)
    views = tuple(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8) for _ in range(3))
    first = encoder(views)
    assert encoder(views) is first   # the same triplet again (the next tick): kept
    again = encoder(tuple(v.copy() for v in views))   # another triplet object: encoded
    assert again is not first and np.allclose(again, first)
    other = encoder(tuple(255 - v for v in views))
    assert other.shape == first.shape and not np.allclose(other, first)
    # the robot's path: each tick builds its observation anew from the newest triplet
    shapes = obs_shapes('cameras', (64, 48), image_features=encoder.size)
    ticks = [robot_camera_observation(views, np.zeros(9), np.r_[np.zeros(6), 1.0], shapes,
                                      encoder)['image_features'] for _ in range(3)]
    assert ticks[1] is ticks[0] and ticks[2] is ticks[0]   # encoded once for three ticks
