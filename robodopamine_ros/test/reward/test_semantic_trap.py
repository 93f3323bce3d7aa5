# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The semantic trap, shown on a corridor solved exactly by value iteration.

States 0..N-1 on a line, the goal at N-1; actions left, stay, right. Entering the goal ends the
episode with success. Progress Phi(s) = s / (N - 1) is a perfect progress estimate, and the
state just before the goal has progress 0.9: a robot can hover there forever. Rewards:
(a) sparse success, (b) progress itself, (c) the project's shaped reward from that progress.
"""

import numpy as np
import pytest
from robodopamine_ros.reward.shaping import shape, ShapingConfig

N = 11
GOAL = N - 1
ACTIONS = (-1, 0, +1)
GAMMA = 0.98
PHI = np.arange(N) / (N - 1)


def step(s, a):
    return min(max(s + ACTIONS[a], 0), GOAL)


def solve(reward):
    """Value iteration; reward(s, s2) -> (r, terminal). Returns the greedy policy."""
    values = np.zeros(N)
    for _ in range(5000):
        q = np.zeros((N, len(ACTIONS)))
        for s in range(GOAL):
            for a in range(len(ACTIONS)):
                s2 = step(s, a)
                r, terminal = reward(s, s2)
                q[s, a] = r + (0.0 if terminal else GAMMA * values[s2])
        new = q.max(axis=1)
        if np.abs(new - values).max() < 1e-12:
            break
        values = new
    return q.argmax(axis=1)[:GOAL], q


def sparse(s, s2):
    return (1.0 if s2 == GOAL else 0.0), s2 == GOAL


def progress_as_reward(s, s2):
    return PHI[s2], s2 == GOAL


def shaped(s, s2):
    r = shape(float(PHI[s]), float(PHI[s2]), ShapingConfig(gamma=GAMMA, success_delta=0.05))
    return r.reward, r.terminal


def test_sparse_reward_goes_to_the_goal():
    policy, _ = solve(sparse)
    assert (policy == ACTIONS.index(+1)).all()


def test_progress_as_reward_hovers_next_to_the_goal():
    policy, q = solve(progress_as_reward)
    hover = GOAL - 1
    assert policy[hover] == ACTIONS.index(0), 'the trap: waiting beats finishing'
    assert q[hover, ACTIONS.index(0)] > q[hover, ACTIONS.index(+1)]
    assert q[hover].max() == pytest.approx(PHI[hover] / (1 - GAMMA), rel=1e-6)  # ~45 >> 1


def test_shaped_reward_keeps_the_sparse_optimal_policy():
    shaped_policy, q_shaped = solve(shaped)
    sparse_policy, q_sparse = solve(sparse)
    assert (shaped_policy == sparse_policy).all()
    # potential-based shaping: Q_shaped(s, a) = Q_sparse(s, a) - Phi(s)
    np.testing.assert_allclose(q_shaped[:GOAL], q_sparse[:GOAL] - PHI[:GOAL, None], atol=1e-9)
