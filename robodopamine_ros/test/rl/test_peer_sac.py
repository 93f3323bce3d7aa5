# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The peer baseline's environment is the product's loop, and its demonstrations reach SB3's SAC.

rl/sim_gym.InsertionEnv, stepped with the same policy, gives run_episode's transitions (the
same observations, executed actions, rewards, terminal / truncated flags, takeovers) and
outcome; bench/peer_sac.py puts the demonstrations into SAC's replay buffer with those flags
and stores the executed action of every online step. The SB3 part needs stable-baselines3 (a
benchmark extra: requirements/bench.txt) and is skipped without it.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.reward.success import SuccessConfig
from robodopamine_ros.rl.outcomes import make_judge, OperatorConfig, ScriptedOperator
from robodopamine_ros.rl.sim_episodes import GRMProgress, run_episode
from robodopamine_ros.rl.sim_gym import flat_observation, FunctionActor, InsertionEnv
from robodopamine_ros.rl.sim_training import TrainConfig
from robodopamine_ros.sim.peg_insertion import PegInsertionSim

PEER_SAC = Path(__file__).resolve().parents[3] / 'bench' / 'peer_sac.py'
LAYOUT = 7


class _SimulatorSaysSuccess(PegInsertionSim):
    """The real simulator with its success flag always up: the operator labels a success."""

    def step(self, action):
        obs, reward, _, truncated, info = super().step(action)
        return obs, reward, True, truncated, dict(info, success=True)


def _config(grm_dir, max_steps, **kw):
    return TrainConfig(reward='grm', observation='cameras', image_encoder='grm',
                       success='either', operator=True, grm_dir=str(grm_dir), grm_every=2,
                       max_steps=max_steps, **kw)


def _policy(size):
    """Return a fixed policy of the flat observation (the same actions in both loops)."""
    weights = np.random.default_rng(0).normal(scale=3.0 / np.sqrt(size), size=(4, size))
    return lambda x, deterministic=False: np.tanh(weights @ x)


@pytest.mark.parametrize('sim_class, max_steps', [(_SimulatorSaysSuccess, 20),
                                                  (PegInsertionSim, 20)],
                         ids=['operator-labels-success', 'stall-takeover-time-limit'])
def test_env_steps_give_run_episodes_transitions(grm_dir, sim_class, max_steps):
    config = _config(grm_dir, max_steps)
    env = InsertionEnv(config, sim=sim_class(max_steps=max_steps, render_images=True))
    # an impatient operator: takes over whenever progress gained < 1 over 5 steps
    impatient = OperatorConfig(stall_steps=5, min_gain=1.0, takeover_steps=3)
    env.operator.config = impatient
    policy = _policy(env.observation_space.shape[0])
    sim = sim_class(max_steps=max_steps, render_images=True)
    try:
        operator = ScriptedOperator(impatient, seed=config.seed)
        judge = make_judge('either', operator, SuccessConfig(hold_ticks=config.success_hold),
                           config.grm_every)
        expected, info = run_episode(sim, LAYOUT, FunctionActor(policy), config, env.shapes,
                                     GRMProgress(grm_dir, 2, config.success_hold),
                                     operator=operator, judge=judge, features=env.features)
        obs, _ = env.reset(options={'layout_seed': LAYOUT})
        steps, done = [], False
        while not done:
            obs, reward, terminated, truncated, step_info = env.step(policy(obs))
            steps.append((reward, terminated, truncated, step_info['action'],
                          step_info['intervention']))
            done = terminated or truncated
    finally:
        sim.close()
        env.close()
    got = env.episode.transitions
    assert len(steps) == len(got) == len(expected.transitions) == info['length']
    for (reward, terminated, truncated, action, intervention), mine, theirs in zip(
            steps, got, expected.transitions):
        assert reward == theirs['reward'] and terminated == theirs['terminal']
        assert truncated == theirs['truncated']
        assert intervention == theirs['intervention']
        np.testing.assert_allclose(action, theirs['action'], atol=1e-6)
        for key in ('obs', 'next_obs'):
            np.testing.assert_array_equal(flat_observation(mine[key]),
                                          flat_observation(theirs[key]))
    final = step_info['episode_info']
    for key in ('success', 'length', 'intervention_rate', 'detector_success', 'sim_success',
                'labels', 'takeovers'):
        assert final[key] == info[key], key
    assert final['return'] == pytest.approx(info['return'])
    if sim_class is _SimulatorSaysSuccess:   # the label after the detector's hold and
        # label_delay ('either': OutcomeJudge.label_after): a success reward
        # 1 s of the 5 Hz GRM (5 ticks of 2 steps) and 5 steps: the label at step 16
        assert judge.label_after == 15
        assert info['success'] and len(steps) == judge.label_after + 1
        # the success reward, and the shaping with Phi = 0 at the terminal state
        assert steps[-1][1]
        assert steps[-1][0] == pytest.approx(1.0 - got[-1]['progress_before'])
    else:   # the operator took over (at steps 6, 11, 16, 3 steps each) and gave control back
        assert info['takeovers'] == 3 and [s[4] for s in steps].count(True) == 9
        assert steps[-1][2] and not steps[-1][1]   # the time limit: truncated, not terminal


def _peer_sac():
    pytest.importorskip('stable_baselines3',
                        reason='stable-baselines3 is a benchmark extra (requirements/bench.txt)')
    if not PEER_SAC.is_file():
        pytest.skip(f'{PEER_SAC} is absent (bench/ is not beside this checkout)')
    spec = importlib.util.spec_from_file_location('peer_sac', PEER_SAC)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demonstrations_and_executed_actions_land_in_sacs_replay(grm_dir, tmp_path):
    peer = _peer_sac()
    # two short expert attempts, kept though they do not reach the hole in 8 steps
    config = _config(grm_dir, 8, policy_demos=2, successful_demos_only=False, episodes=1,
                     agent={'batch_size': 4})
    env = InsertionEnv(config)
    try:
        demos = env.record_demos(log=lambda _: None)
        n = sum(len(e.transitions) for e in demos)
        model = peer.make_sac(env, config, n)
        assert peer.fill_replay(model.replay_buffer, demos) == n == 16
        buffer = model.replay_buffer
        rows = [t for e in demos for t in e.transitions]
        assert buffer.pos == n
        for i, t in enumerate(rows):
            np.testing.assert_array_equal(buffer.observations[i, 0], flat_observation(t['obs']))
            np.testing.assert_array_equal(buffer.next_observations[i, 0],
                                          flat_observation(t['next_obs']))
            np.testing.assert_array_equal(buffer.actions[i, 0], t['action'])
            assert buffer.rewards[i, 0] == np.float32(t['reward'])
            # the last step of each: a time-limit end, bootstrapped; no step is terminal
            assert buffer.dones[i, 0] == (t['step'] == 7)
            assert buffer.timeouts[i, 0] == (t['step'] == 7)
        ended = []
        model.episode_end = lambda info: (ended.append(info), setattr(model, 'stop', True))
        model.learn(total_timesteps=20, callback=peer.StopWhenAsked())
        assert len(ended) == 1 and buffer.pos == n + 8   # one online episode, then stopped
        online = ended[0]['episode_record'].transitions
        np.testing.assert_allclose(buffer.actions[n:n + 8, 0],
                                   np.stack([t['action'] for t in online]), atol=1e-6)
        assert model._n_updates == 8   # one gradient step per env step from the first
        # a checkpoint (the hook, a closure over the run, is not pickled) reloads both
        peer.save_checkpoint(tmp_path, model, {'episodes': 1})
        folder = peer.read_checkpoint(tmp_path)
        loaded = peer.PeerSAC.load(folder / peer.MODEL_FILE, env=model.env)
        loaded.load_replay_buffer(folder / peer.REPLAY_FILE)
        assert loaded.episode_end is None and loaded.replay_buffer.pos == n + 8
        np.testing.assert_array_equal(loaded.replay_buffer.actions, buffer.actions)
        for mine, theirs in zip(loaded.policy.parameters(), model.policy.parameters()):
            np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy())
        # a longer resumed run: the buffer grows, its rows kept in place
        peer.grow_replay(loaded, buffer.buffer_size + 100)
        assert loaded.replay_buffer.buffer_size == buffer.buffer_size + 100
        np.testing.assert_array_equal(loaded.replay_buffer.observations[:n + 8],
                                      buffer.observations[:n + 8])
    finally:
        env.close()
