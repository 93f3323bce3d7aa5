# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Reward sources the learner can train on (docs/method.md#shaping).

- 'grm': Dopamine-RL, the policy-invariant shaping of GRM progress:
  r = r_gold + gamma * Phi(s') - Phi(s), Phi(s') = 0 at a terminal transition;
- 'sparse': r_gold only;
- 'progress': the naive progress reward r = Phi(s') (the semantic-trap ablation);
- 'dense': the simulator's own hand-made reward, divided by 10 (Meta-World's is in [0, 10]);
- 'oracle': the same shaping as 'grm' with Phi computed from the simulator's state (a
  benchmark control: it separates the learner's quality from the GRM's).

r_gold, the success bonus, is 1 on the transition that succeeds. Where success comes from is
the caller's choice: the simulator's success signal in the benchmark [ours: the same signal the
sparse baseline gets, so Dopamine-RL differs from sparse only by the shaping], or the GRM's
automatic success (Phi >= 1 - delta) on a robot without a success detector.
"""

from robodopamine_ros.reward.shaping import shaping_term

SOURCES = ('grm', 'sparse', 'progress', 'dense', 'oracle')
DENSE_SCALE = 0.1


def transition_reward(source, progress_before, progress_after, success, terminal, truncated,
                      env_reward, gamma):
    """Return the reward of one transition for the selected source."""
    if source in ('grm', 'oracle'):
        return (1.0 if success else 0.0) + shaping_term(
            progress_before, progress_after, gamma, terminal and not truncated)
    if source == 'sparse':
        return 1.0 if success else 0.0
    if source == 'progress':
        return float(progress_after)
    if source == 'dense':
        return DENSE_SCALE * float(env_reward)
    raise ValueError(f'reward source must be one of {SOURCES}, got {source!r}')
