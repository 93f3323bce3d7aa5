# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Replay: Monte-Carlo returns, buffers, intervention storage, 50/50 mixing, relabelling."""

import numpy as np
import pytest
from robodopamine_ros.rl.replay import (Episode, mc_returns, mixed_batch, relabel, ReplayBuffer,
                                        ReturnRule, store_episode)
from robodopamine_ros.rl.rewards import transition_reward

SHAPES = {'state': (2,)}


def obs(value):
    return {'state': np.array([value, -value], dtype=np.float32)}


def episode(rewards, episode_id=0, demo=False, success_at_end=False, truncated=False,
            interventions=()):
    e = Episode(episode_id, demo=demo)
    for t, r in enumerate(rewards):
        last = t == len(rewards) - 1
        e.add(obs(t), [t, 0, 0, 1], obs(t + 1), r, terminal=last and success_at_end,
              truncated=last and truncated, success=last and success_at_end,
              intervention=t in interventions, progress_before=t / 10,
              progress_after=(t + 1) / 10, sparse_reward=float(last and success_at_end))
    return e


def test_mc_return_of_a_success():
    # rewards 0, 0, 1 with gamma 0.9: returns 0.81, 0.9, 1
    np.testing.assert_allclose(mc_returns([0, 0, 1], 0.9), [0.81, 0.9, 1.0])


def test_mc_return_of_a_failure_and_a_truncation():
    np.testing.assert_allclose(mc_returns([-1, -1], 0.5), [-1.5, -1.0])
    # a truncated episode: the unknown tail counts as 0 (the discounted sum as observed)
    rule = ReturnRule(gamma=0.5)
    np.testing.assert_allclose(rule.returns([0.2, 0.2, 0.2], succeeded=False),
                               [0.2 + 0.1 + 0.05, 0.3, 0.2])


def test_sparse_episode_that_never_succeeds_gets_the_constant():
    rule = ReturnRule(gamma=0.9, sparse=True, sparse_negative=-1.0)
    np.testing.assert_allclose(rule.returns([-1, -1, -1], succeeded=False), [-10.0] * 3)
    # a successful sparse episode keeps its discounted sum
    np.testing.assert_allclose(rule.returns([-1, 0], succeeded=True), [-1.0, 0.0])
    # our 0/1 sparse reward: the constant is 0
    assert ReturnRule(gamma=0.99, sparse=True).returns([0, 0], False).tolist() == [0, 0]


def test_closed_episode_carries_returns_flags_and_logged_progress():
    rule = ReturnRule(gamma=0.5)
    online, demo = ReplayBuffer(100, SHAPES, 4), ReplayBuffer(100, SHAPES, 4)
    store_episode(episode([0.0, 0.0, 1.0], success_at_end=True), rule, online, demo)
    assert len(online) == 3 and len(demo) == 0
    np.testing.assert_allclose(online.scalars['mc_return'][:3], [0.25, 0.5, 1.0])
    assert online.flags['terminal'][:3].tolist() == [False, False, True]
    assert online.flags['success'][2] and not online.flags['truncated'][:3].any()
    np.testing.assert_allclose(online.scalars['progress_after'][:3], [0.1, 0.2, 0.3])


def test_intervention_transitions_go_to_both_buffers_with_the_human_action():
    rule = ReturnRule(gamma=0.9)
    online, demo = ReplayBuffer(100, SHAPES, 4), ReplayBuffer(100, SHAPES, 4)
    store_episode(episode([0.0] * 5, interventions=(1, 2)), rule, online, demo)
    assert len(online) == 5 and len(demo) == 2
    np.testing.assert_array_equal(demo.action[:2, 0], [1, 2])  # the actions executed at 1, 2
    assert demo.flags['intervention'][:2].all()
    assert online.flags['intervention'][:5].tolist() == [False, True, True, False, False]
    # demonstrations go to the demo buffer only
    store_episode(episode([0.0] * 3, episode_id=7, demo=True), rule, online, demo)
    assert len(online) == 5 and len(demo) == 5 and demo.flags['demo'][2:5].all()


def test_self_imitation_copies_only_successes_the_policy_finished_alone():
    rule = ReturnRule(gamma=0.9)
    online, demo = ReplayBuffer(100, SHAPES, 4), ReplayBuffer(100, SHAPES, 4)
    store_episode(episode([0.0] * 4, success_at_end=True), rule, online, demo,
                  successes_to_demo=True)
    assert len(online) == 4 and len(demo) == 4  # finished alone: the whole episode
    # rescued by a takeover at steps 1-2: the policy's steps (its stall) stay out of the demo
    # buffer, the takeover goes in
    store_episode(episode([0.0] * 5, episode_id=1, success_at_end=True, interventions=(1, 2)),
                  rule, online, demo, successes_to_demo=True)
    assert len(online) == 9 and len(demo) == 6
    np.testing.assert_array_equal(demo.action[4:6, 0], [1, 2])
    assert demo.flags['intervention'][4:6].all()


def test_mixed_batch_is_half_demo_half_online():
    rng = np.random.default_rng(0)
    rule = ReturnRule(gamma=0.9)
    online, demo = ReplayBuffer(100, SHAPES, 4), ReplayBuffer(100, SHAPES, 4)
    store_episode(episode([0.0] * 10, demo=True), rule, online, demo)
    batch = mixed_batch(online, demo, 8, rng)  # online empty: all demo
    assert batch['from_demo_buffer'].all() and batch['demo'].all()
    store_episode(episode([0.0] * 10, episode_id=1), rule, online, demo)
    batch = mixed_batch(online, demo, 64, rng)
    assert batch['from_demo_buffer'].sum() == 32 and batch['demo'].sum() == 32
    assert batch['obs']['state'].shape == (64, 2) and batch['action'].shape == (64, 4)


def test_ring_buffer_overwrites_oldest_and_refuses_empty_sampling():
    buffer = ReplayBuffer(4, SHAPES, 4)
    with pytest.raises(ValueError, match='empty'):
        buffer.sample_indices(1, np.random.default_rng(0))
    buffer.add_episode(episode([0.0] * 6).close(ReturnRule()))
    assert len(buffer) == 4
    assert sorted(buffer.step[:4].tolist()) == [2, 3, 4, 5]


def test_relabel_recomputes_rewards_and_returns_from_logged_progress():
    gamma = 0.9
    rule = ReturnRule(gamma=gamma)
    online, demo = ReplayBuffer(100, SHAPES, 4), ReplayBuffer(100, SHAPES, 4)
    store_episode(episode([5.0, 5.0, 5.0], success_at_end=True), rule, online, demo)

    def shaped(before, after, sparse, terminal, truncated, env_reward):
        return transition_reward('grm', before, after, bool(sparse), terminal, truncated,
                                 env_reward, gamma)
    relabel(online, shaped, rule)
    expected = [gamma * 0.1 - 0.0, gamma * 0.2 - 0.1, 1.0 + gamma * 0.0 - 0.2]  # terminal: 0
    np.testing.assert_allclose(online.scalars['reward'][:3], expected, atol=1e-6)
    np.testing.assert_allclose(online.scalars['mc_return'][:3],
                               mc_returns(expected, gamma), atol=1e-6)


def test_non_finite_action_is_refused():
    with pytest.raises(ValueError, match='episode 3 step 0: stored action must be finite'):
        Episode(3).add(obs(0), [np.nan, 0, 0, 0], obs(1), 0.0, False, False)


def test_without_demonstrations_the_batch_is_all_online_and_not_flagged_demo():
    rng = np.random.default_rng(0)
    online, demo = ReplayBuffer(100, SHAPES, 4), ReplayBuffer(100, SHAPES, 4)
    store_episode(episode([0.0] * 10), ReturnRule(), online, demo)
    batch = mixed_batch(online, demo, 16, rng)
    assert not batch['from_demo_buffer'].any() and len(batch['action']) == 16
