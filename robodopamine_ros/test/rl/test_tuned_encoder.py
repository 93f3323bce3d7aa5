# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""image_encoder 'grm-tuned': the GRM's encoder and fusion, trained on as the policy's encoder."""

import numpy as np
import pytest
from robodopamine_ros.rl.acting import check_checkpoint_config, Learner
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.observations import (FrozenViewEncoder, obs_shapes, TrainedObservation,
                                              tuned_encoder_start)
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.sim_training import TrainConfig
import torch

SHAPES = obs_shapes('cameras', (64, 48))


def triplets(count, seed=0, size=(64, 48)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(count, 3, size[1], size[0], 3), dtype=np.uint8)


def tuned_learner(grm_dir):
    grm_config, net = tuned_encoder_start(grm_dir)
    learner = Learner(AgentConfig(grm_config=grm_config, batch_size=8), SHAPES, capacity=200)
    learner.agent.load_grm_encoder(net)
    return learner


def test_started_from_a_grm_it_computes_that_grms_frozen_features(grm_dir):
    learner = tuned_learner(grm_dir)
    encoder = learner.agent.encoder.eval()
    views = triplets(3)
    frozen = FrozenViewEncoder(grm_dir)
    with torch.no_grad():
        tuned = encoder.images(torch.from_numpy(views)).numpy()
    assert tuned.shape == (3, frozen.size)
    for row, triplet in zip(tuned, views):
        np.testing.assert_allclose(row, frozen(tuple(triplet)), atol=1e-5)
    # the target encoder starts from the GRM too
    target = learner.agent.target_encoder.images
    pairs = zip(target.parameters(), encoder.images.parameters())
    assert all(torch.equal(a, b) for a, b in pairs)
    # views at another size than the GRM's are refused (no resize inside the network)
    grm_config, _ = tuned_encoder_start(grm_dir)
    with pytest.raises(ValueError, match="'grm-tuned': the GRM encodes 3 views of 64x48, the "
                       'policy observes 3 of 32x24'):
        Learner(AgentConfig(grm_config=grm_config), obs_shapes('cameras', (32, 24)))


def test_the_critic_trains_it_and_a_checkpoint_brings_it_back(grm_dir, tmp_path):
    learner = tuned_learner(grm_dir)
    start = {k: v.clone() for k, v in learner.agent.encoder.state_dict().items()}
    rng = np.random.default_rng(0)
    views = triplets(13, seed=1)
    for demo, first in ((True, -1), (False, 1)):
        episode = Episode(first, demo=demo)
        for t in range(6):
            obs = {'state': rng.normal(size=16).astype(np.float32), 'images': views[t]}
            following = {'state': rng.normal(size=16).astype(np.float32),
                         'images': views[t + 1]}
            episode.add(obs, rng.uniform(-1, 1, 4), following, float(t == 5), terminal=t == 5,
                        truncated=False, success=t == 5)
        learner.add_episode(episode)
    learner.update(3)
    trained = learner.agent.encoder.state_dict()
    assert any(not torch.equal(start[k], trained[k]) for k in start)
    learner.save(tmp_path)
    resumed, _ = Learner.resume(tmp_path, SHAPES, capacity=200)
    assert resumed.config.grm_config == learner.config.grm_config
    for key, value in resumed.agent.encoder.state_dict().items():
        assert torch.equal(value, trained[key]), key


def test_a_checkpoints_grm_config_is_checked_before_a_network_is_built(grm_dir):
    grm_config, _ = tuned_encoder_start(grm_dir)
    config = AgentConfig(grm_config=grm_config).as_dict()
    check_checkpoint_config(config, 'ckpt')
    with pytest.raises(ValueError, match='ckpt: config field grm_config.*width'):
        check_checkpoint_config(dict(config, grm_config=dict(grm_config, width=10 ** 6)), 'ckpt')
    with pytest.raises(ValueError, match='ckpt: config field grm_config.*expected a JSON'):
        check_checkpoint_config(dict(config, grm_config=[1, 2]), 'ckpt')


def test_it_needs_a_compact_grm_folder(tmp_path):
    with pytest.raises(ValueError, match="image_encoder 'grm-tuned' starts from a GRM"):
        TrainConfig(observation='cameras', image_encoder='grm-tuned', reward='sparse')
    with pytest.raises(ValueError, match=f'{tmp_path}: image_encoder grm-tuned starts from a '
                       'compact GRM folder'):
        tuned_encoder_start(tmp_path)


def test_a_robot_trains_a_new_tuned_policy_from_the_launchs_grm(grm_dir):
    settings = RLAgentSettings(observation='cameras', image_encoder='grm-tuned',
                               grm_dir=str(grm_dir))
    trained = settings.policy_input(None)
    assert (trained.image_encoder, trained.encoder_dir) == ('grm-tuned', str(grm_dir))
    assert trained.encoder() is None   # the views themselves are observed, as for 'cnn'
    shapes = trained.shapes(joints=9)
    assert set(shapes) == {'state', 'images'}
    learner = settings.new_learner(trained, shapes)
    _, net = tuned_encoder_start(grm_dir)
    assert torch.equal(learner.agent.encoder.images.fuse[0].weight, net.fuse[0].weight)
    with pytest.raises(ValueError, match="image_encoder 'grm-tuned' encodes the views with a "
                       'GRM: set parameter grm_dir'):
        RLAgentSettings(observation='cameras', image_encoder='grm-tuned').policy_input(None)
    # a simulated training's record names it; the robot runs it on the views
    record = TrainedObservation.from_extra({'train_config': {
        'observation': 'cameras', 'image_size': [64, 48], 'image_encoder': 'grm-tuned',
        'grm_dir': str(grm_dir)}})
    assert record.image_encoder == 'grm-tuned' and record.encoder() is None
