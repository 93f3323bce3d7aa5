# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The learner's contract.

The vectorized critics, imitation first, NaN updates skipped, bad input named, and
checkpoints that are data (never code) and survive a kill -9 mid-write.
"""

import os
import pickle
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from robodopamine_ros.rl import losses
from robodopamine_ros.rl.acting import CHECKPOINT_FORMAT, Learner
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.networks import CriticEnsemble, TanhGaussianActor
from robodopamine_ros.rl.replay import Episode
import torch

SHAPES = {'state': (4,)}
SMALL = {'hidden': (32, 32), 'batch_size': 16}


def demo_learner(algorithm='calql', **config):
    learner = Learner(AgentConfig(algorithm=algorithm, **dict(SMALL, **config)), SHAPES,
                      capacity=200, seed=1)
    rng = np.random.default_rng(0)
    for k in range(3):
        episode = Episode(-1 - k, demo=True)
        for t in range(10):  # an expert whose action is a function of the state
            state = rng.normal(size=4).astype(np.float32)
            episode.add({'state': state}, np.clip(1.5 * state[::-1], -1, 1),
                        {'state': rng.normal(size=4).astype(np.float32)}, float(t == 9),
                        terminal=t == 9, truncated=False, success=t == 9)
        learner.add_episode(episode)
    return learner


def test_the_vectorized_ensemble_equals_its_members_one_by_one():
    critic = CriticEnsemble(5, 2, hidden=(8, 8), critics=3)
    features, action = torch.randn(7, 5), torch.randn(7, 2)
    q = critic(features, action)
    assert q.shape == (3, 7)
    x = torch.cat([features, action], dim=-1)
    for member in range(3):
        h = x
        for layer in critic.net:
            if hasattr(layer, 'weight') and layer.weight.dim() == 3:
                h = h @ layer.weight[member] + layer.bias[member]
            else:
                h = layer(h)
        torch.testing.assert_close(q[member], h.squeeze(-1))


def test_several_actions_per_state_give_the_q_and_gradients_of_repeated_states():
    critic = CriticEnsemble(5, 2, hidden=(8, 8), critics=2)
    features = torch.randn(4, 5, requires_grad=True)
    actions = torch.randn(3, 4, 6, 2)    # 3 sources x 4 states x 6 actions
    q = critic(features, actions)
    assert q.shape == (2, 3, 4, 6)
    repeated = features.unsqueeze(1).expand(-1, 6, -1).reshape(-1, 5).repeat(3, 1)
    reference = critic(repeated, actions.reshape(-1, 2)).view(2, 3, 4, 6)
    torch.testing.assert_close(q, reference)
    grad, = torch.autograd.grad(q.sum(), features)
    grad_reference, = torch.autograd.grad(reference.sum(), features)
    torch.testing.assert_close(grad, grad_reference)


def test_k_samples_per_state_are_the_draws_of_the_repeated_states():
    actor = TanhGaussianActor(5, 2, hidden=(8, 8))
    features = torch.randn(4, 5)
    torch.manual_seed(3)
    actions, log_pi = actor.sample(features, 6)
    torch.manual_seed(3)
    reference, reference_log_pi = actor(features.unsqueeze(1).expand(-1, 6, -1).reshape(-1, 5))
    assert actions.shape == (4, 6, 2) and log_pi.shape == (4, 6)
    torch.testing.assert_close(actions.reshape(-1, 2), reference)
    torch.testing.assert_close(log_pi.reshape(-1), reference_log_pi)


def test_bc_in_pre_squash_space_keeps_its_gradient_at_saturated_actions():
    mean = torch.full((1, 1), 3.0, requires_grad=True)  # tanh(3) = 0.995
    losses.bc_mse_loss(mean, torch.ones(1, 1)).backward()
    on_tanh = torch.full((1, 1), 3.0, requires_grad=True)
    torch.nn.functional.mse_loss(torch.tanh(on_tanh), torch.ones(1, 1)).backward()
    assert abs(mean.grad.item()) > 100 * abs(on_tanh.grad.item())


def test_mc_lower_bound_raises_targets_to_the_return_only():
    target = losses.td_target(torch.zeros(2), torch.zeros(2), torch.full((2, 2), 0.1), 0.9,
                              mc_return=torch.tensor([0.5, 0.0]))
    torch.testing.assert_close(target, torch.tensor([0.5, 0.09]))


@pytest.mark.parametrize('algorithm', ['calql', 'conrft'])
def test_imitation_stage_fits_the_demo_actions_before_any_rl(algorithm):
    learner = demo_learner(algorithm)
    before = learner.diagnostics()['demo/bc_error']
    plan = list(learner.offline_plan(300, 0, chunk=100))
    assert plan == [('pretrain', 100)] * 3
    for stage, n in plan:
        learner.set_stage(stage)
        stats = learner.update(n)
    assert 'temperature' not in stats  # imitation alone: no SAC actor term yet
    after = learner.diagnostics()['demo/bc_error']
    assert after < 0.5 * before, (before, after)


def test_a_non_finite_loss_skips_the_update_and_keeps_the_weights():
    learner = demo_learner()
    learner.set_stage('online')
    learner.demo.scalars['reward'][:] = np.nan
    before = {k: v.clone() for k, v in learner.agent.critic.state_dict().items()}
    stats = learner.update(3)
    assert stats['skipped_updates'] >= 1 and learner.agent.skipped >= 3
    for key, value in learner.agent.critic.state_dict().items():
        torch.testing.assert_close(value, before[key])


def test_no_demonstrations_is_a_clear_error_not_a_sampling_crash():
    learner = Learner(AgentConfig(**SMALL), SHAPES, capacity=100)
    with pytest.raises(ValueError, match='the offline stage needs demonstrations, but the '
                                         'demo buffer is empty'):
        list(learner.offline_plan(10, 10))
    with pytest.raises(ValueError, match='both buffers are empty'):
        learner.update(1)


def test_a_checkpoint_of_other_observations_or_algorithm_is_named(tmp_path):
    demo_learner().save(tmp_path)
    with pytest.raises(ValueError, match=r"made for observations \{'state': \(4,\)\}, this "
                                         r"run has \{'state': \(5,\)\}"):
        Learner.resume(tmp_path, {'state': (5,)}, capacity=200)
    with pytest.raises(ValueError, match='a calql checkpoint, this run uses conrft'):
        Learner.resume(tmp_path, SHAPES, capacity=200, algorithm='conrft')
    torch.save({'format': 'robodopamine-learner/1'}, tmp_path / 'checkpoint.pt')
    with pytest.raises(ValueError, match=f"format 'robodopamine-learner/1', this version "
                                         f"reads '{CHECKPOINT_FORMAT}'"):
        Learner.read(tmp_path)


class RunsCode:
    """What a malicious checkpoint holds: unpickling it runs a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_loading_a_checkpoint_never_runs_code(tmp_path):
    marker = tmp_path / 'pwned'
    with open(tmp_path / 'checkpoint.pt', 'wb') as f:
        pickle.dump({'format': CHECKPOINT_FORMAT, 'payload': RunsCode(marker)}, f)
    with pytest.raises(ValueError, match='never code'):
        Learner.read(tmp_path)
    assert not marker.exists()


CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    from test_rl_learner import demo_learner
    learner = demo_learner()
    learner.save(sys.argv[1], extra={'round': 0})
    print('SAVED', flush=True)
    for k in range(1, 10 ** 6):
        learner.counters['episodes'] = k
        learner.save(sys.argv[1], extra={'round': k})
""")


def test_kill_9_in_the_middle_of_checkpoint_writes_leaves_a_loadable_checkpoint(tmp_path):
    """A real process saving in a loop, killed with SIGKILL: the last good file loads."""
    child = subprocess.Popen([sys.executable, '-c', CHILD, str(tmp_path),
                              os.path.dirname(__file__)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == 'SAVED'
        # kill while saves are in flight: wait until a few rounds have been renamed in
        while Learner.read(tmp_path)['extra']['round'] < 3:
            pass
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    learner, extra = Learner.resume(tmp_path, SHAPES, capacity=200)
    assert learner.counters['episodes'] == extra['round'] >= 3
    assert len(learner.demo) == 30


def test_a_resumed_log_drops_the_episodes_after_the_checkpoint(tmp_path):
    from robodopamine_ros.rl.logs import read_log, TrainingLog

    log = TrainingLog(tmp_path, tensorboard=False)
    for episode in range(1, 6):
        log.episode({'episode': episode, 'success': False})
    log.close()
    resumed = TrainingLog(tmp_path, tensorboard=False)
    resumed.truncate_after(3)  # the checkpoint holds 3 episodes: 4 and 5 run again
    resumed.episode({'episode': 4, 'success': True})
    resumed.close()
    assert [r['episode'] for r in read_log(tmp_path)] == [1.0, 2.0, 3.0, 4.0]


def test_closing_the_log_is_bounded_when_the_tensorboard_writer_hangs(tmp_path):
    """A node's shutdown must not wait on TensorBoard's writer thread (seen to hang)."""
    import threading
    import time

    from robodopamine_ros.rl.logs import read_log, TrainingLog

    log = TrainingLog(tmp_path)              # the real TensorBoard writer, then a stuck close
    log.episode({'episode': 1, 'success': True})
    release = threading.Event()
    real_close = log.tensorboard.close

    def stuck_close():
        release.wait(30)
        real_close()
    log.tensorboard.close = stuck_close
    started = time.monotonic()
    log.close(timeout_s=0.2)
    assert time.monotonic() - started < 5.0
    release.set()
    assert read_log(tmp_path)[0]['success'] == 1.0   # the CSV was closed complete
