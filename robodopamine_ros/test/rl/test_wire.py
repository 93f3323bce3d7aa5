# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Episodes and weights as bytes between actor and learner (rl/wire.py), and their checks."""

import json

import numpy as np
import pytest
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.wire import (pack_episode, pack_weights, unpack_episode,
                                      unpack_weights, weights_spec)
import torch

SHAPES = {'state': (5,), 'images': (3, 12, 16, 3)}


def episode(steps=4, chained=True, seed=0):
    rng = np.random.default_rng(seed)
    obs = [{'state': rng.normal(size=5).astype(np.float32),
            'images': rng.integers(0, 256, (3, 12, 16, 3), dtype=np.uint8)}
           for _ in range(steps + 1)]
    out = Episode(7)
    for t in range(steps):
        after = obs[t + 1] if chained else {k: v.copy() + (k == 'state') for k, v in
                                            obs[t + 1].items()}
        out.add(obs[t], rng.uniform(-1, 1, 4), after, 0.1 * t, t == steps - 1, False,
                success=t == steps - 1, intervention=t == 1, progress_before=0.2 * t,
                progress_after=0.2 * t + 0.2, sparse_reward=float(t == steps - 1))
    return out


@pytest.mark.parametrize('chained', [True, False])
def test_an_episode_crosses_as_bytes_and_comes_back_the_same(chained):
    sent = episode(chained=chained)
    uid, data = pack_episode(sent, 'arm2')
    metadata, got = unpack_episode(data, SHAPES, 4)
    assert metadata['robot_id'] == 'arm2' and metadata['uid'] == uid and len(uid) == 32
    assert got.episode_id == 7 and len(got.transitions) == 4
    for a, b in zip(sent.transitions, got.transitions):
        for key in ('obs', 'next_obs'):
            assert all(np.array_equal(a[key][k], b[key][k]) for k in SHAPES)
        assert np.array_equal(a['action'], b['action'])
        for key in ('reward', 'progress_before', 'progress_after', 'sparse_reward',
                    'terminal', 'truncated', 'success', 'intervention'):
            assert a[key] == pytest.approx(b[key]), key
    # the chained form sends each step's views once
    other = pack_episode(episode(chained=not chained), 'arm2')[1]
    assert (len(data) < len(other)) == chained
    assert pack_episode(sent, 'arm2')[0] != uid          # a new uid per packing


def broken(mutate):
    """Packed bytes of an episode whose arrays `mutate` changed."""
    from safetensors.numpy import load, save

    uid, data = pack_episode(episode(), 'arm1')
    arrays = load(data)
    header = json.loads(data[8:8 + int.from_bytes(data[:8], 'little')])
    mutate(arrays)
    return save(arrays, header['__metadata__'])


@pytest.mark.parametrize('mutate, message', [
    (lambda a: a.__setitem__('obs/state', a['obs/state'][:, :4].copy()),
     r'field obs/state is float32 \(5, 4\), expected float32 \(5, 5\)'),
    (lambda a: a['obs/state'].__setitem__((1, 2), np.nan), 'field obs/state holds non-finite'),
    (lambda a: a.__setitem__('action', a['action'].astype(np.float64)), 'field action is'),
    (lambda a: a.pop('reward'), 'field reward is missing'),
    (lambda a: a.__setitem__('extra', np.zeros(3, np.float32)), r"fields \['extra'\]"),
    (lambda a: a['progress_after'].__setitem__(0, np.inf),
     'field progress_after holds non-finite'),
])
def test_an_episode_that_does_not_fit_is_refused_naming_it(mutate, message):
    with pytest.raises(ValueError, match=f'arm1 episode 7: {message}'):
        unpack_episode(broken(mutate), SHAPES, 4)


def test_bytes_that_are_not_an_episode_are_refused():
    for data in (b'', b'\x00' * 16, b'garbage that is not safetensors at all',
                 pack_weights({'actor': {'w': torch.zeros(2)}}, 1, {})):
        with pytest.raises(ValueError, match='not a packed episode'):
            unpack_episode(data, SHAPES, 4)
    with pytest.raises(ValueError, match=r'arm1 episode 7: field obs/images is uint8 '
                                         r'\(5, 3, 12, 16, 3\), expected uint8 \(5, 3, 24'):
        unpack_episode(pack_episode(episode(), 'arm1')[1], {**SHAPES, 'images': (3, 24, 32, 3)},
                       4)


def test_weights_cross_with_their_version_and_are_refused_for_another_spec():
    spec = weights_spec('calql', 'cameras', SHAPES, 4)
    state = {'actor': {'w': torch.randn(3, 2), 'b': torch.zeros(3)},
             'encoder': {'c': torch.ones(1)}}
    got, version = unpack_weights(pack_weights(state, 42, spec), spec)
    assert version == 42 and set(got) == {'actor', 'encoder'}
    assert torch.equal(got['actor']['w'], state['actor']['w'])
    other = weights_spec('conrft', 'cameras', SHAPES, 4)
    with pytest.raises(ValueError, match=r'policy weights for \{"action_dim": 4, '
                                         r'"algorithm": "conrft".*this actor is .*"calql"'):
        unpack_weights(pack_weights(state, 1, other), spec)
    state['actor']['b'][1] = float('nan')
    with pytest.raises(ValueError, match='version 3: actor/b holds non-finite values'):
        unpack_weights(pack_weights(state, 3, spec), spec)
    with pytest.raises(ValueError, match='not policy weights'):
        unpack_weights(pack_episode(episode(), 'arm1')[1], spec)


def test_a_learners_weights_drive_an_actor_after_the_trip():
    """Every part crosses, an empty one too (the frozen encoder's): the actor loads and acts."""
    from robodopamine_ros.rl.acting import Learner, PolicyActor
    from robodopamine_ros.rl.agents import AgentConfig
    from robodopamine_ros.robot.safety import SafetyConfig

    shapes = {'state': (5,)}
    learner = Learner(AgentConfig(hidden=(8, 8)), shapes, capacity=10)
    state = learner.actor_state()
    assert any(not part for part in state.values())   # the case that once failed to load
    spec = weights_spec('calql', 'robot', shapes, 4)
    got, version = unpack_weights(pack_weights(state, 7, spec), spec)
    assert set(got) == set(state) and version == 7
    actor = PolicyActor(learner.config, shapes, SafetyConfig())
    actor.load(got, version)
    action, _, _ = actor.act({'state': np.zeros(5, np.float32)}, np.zeros(3), True)
    assert actor.version == 7 and np.all(np.isfinite(action))
