# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The training loop on the simulated robot: GRM rewards, the operator, images, resume, logs."""

import csv

import numpy as np
import pytest
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.logs import read_log
from robodopamine_ros.rl.outcomes import OperatorConfig, ScriptedOperator
from robodopamine_ros.rl.rewards import transition_reward
from robodopamine_ros.rl.sim_training import config_shapes, train, TrainConfig

# online_actor_delay 0: these runs make 24 online updates, and the actor must move in them
TINY = {'hidden': (32, 32), 'batch_size': 16, 'cql_actions': 2, 'image_features': 16,
        'online_actor_delay': 0}


def config(grm_dir, **changes):
    values = {'algorithm': 'calql', 'reward': 'grm', 'episodes': 2, 'policy_demos': 1,
              'successful_demos_only': False, 'pretrain_updates': 3, 'offline_updates': 4,
              'final_eval_episodes': 1, 'max_steps': 12, 'grm_dir': str(grm_dir), 'grm_every': 2,
              'eval_every': 2, 'eval_episodes': 1, 'checkpoint_every': 1, 'agent': TINY}
    values.update(changes)
    return TrainConfig(**values)


def test_rewards_in_the_buffer_follow_the_grm_shaping(grm_dir, tmp_path):
    summary = train(config(grm_dir), tmp_path / 'run')
    state = Learner.read(tmp_path / 'run')
    online = state['online']
    n = online['size']
    s, f = online['scalars'], online['flags']
    assert n == 2 * 12 and summary['env_steps'] == n  # two truncated episodes
    for i in range(n):
        expected = transition_reward('grm', float(s['progress_before'][i]),
                                     float(s['progress_after'][i]), bool(f['success'][i]),
                                     bool(f['terminal'][i]), bool(f['truncated'][i]), 0.0, 0.99)
        assert s['reward'][i] == pytest.approx(expected, abs=1e-6)
    # progress chains from step to step within an episode, and holds between GRM ticks
    for i in range(n - 1):
        if online['episode'][i] == online['episode'][i + 1]:
            assert s['progress_before'][i + 1] == s['progress_after'][i]
    assert f['truncated'][11] and f['truncated'][23] and not f['terminal'][:n].any()
    rows = read_log(tmp_path / 'run')
    assert [r['episode'] for r in rows] == [1.0, 2.0]
    for key in ('success', 'return', 'intervention_rate', 'td_loss', 'q_data', 'actor_loss',
                'cql_bound_rate', 'cql_gap'):
        assert key in rows[0], key
    assert list((tmp_path / 'run' / 'tensorboard').glob('events.out.tfevents.*'))
    with open(tmp_path / 'run' / 'eval.csv') as f:
        assert [int(r['episode']) for r in csv.DictReader(f)] == [0, 2]


def test_resume_continues_the_same_run(grm_dir, tmp_path):
    first = train(config(grm_dir, reward='sparse', episodes=1), tmp_path / 'run')
    assert first['env_steps'] == 12
    second = train(config(grm_dir, reward='sparse', episodes=3), tmp_path / 'run')
    assert second['env_steps'] == 36 and [e for e, *_ in second['eval']] == [0, 1, 2, 3]
    assert [r['episode'] for r in read_log(tmp_path / 'run')] == [1.0, 2.0, 3.0]


def test_resume_with_other_settings_is_refused_unless_forced(grm_dir, tmp_path):
    train(config(grm_dir, reward='sparse', episodes=1), tmp_path / 'run')
    other = config(grm_dir, reward='sparse', episodes=2, agent=dict(TINY, bc_weight=1.0))
    with pytest.raises(ValueError, match=r"other settings \(agent: .*'bc_weight': 1.0"):
        train(other, tmp_path / 'run')
    summary = train(other, tmp_path / 'run', force=True)
    assert summary['env_steps'] == 24 and summary['resumed_with_changes'][0].startswith('agent')
    assert summary['agent_config']['bc_weight'] == 4.0  # the checkpoint's learner went on


def test_operator_interventions_are_flagged_and_reach_the_demo_buffer(grm_dir, tmp_path):
    cfg = config(grm_dir, algorithm='conrft', reward='sparse', operator=True, episodes=1,
                 max_steps=40)
    train(cfg, tmp_path / 'run')
    state = Learner.read(tmp_path / 'run')
    online, demo = state['online'], state['demo']
    flagged = online['flags']['intervention'][:online['size']]
    assert flagged.any() and not flagged.all()  # the GRM is untrained: progress stalls
    taken_over = online['action'][:online['size']][flagged]
    from_demo = demo['action'][demo['size'] - len(taken_over):demo['size']]
    np.testing.assert_allclose(from_demo, taken_over)  # the executed (operator) actions
    assert demo['flags']['intervention'][demo['size'] - len(taken_over):].all()
    rows = read_log(tmp_path / 'run')
    assert rows[0]['intervention_rate'] == pytest.approx(flagged.mean())


def test_image_observations_train(grm_dir, tmp_path):
    cfg = config(grm_dir, reward='dense', observation='both', episodes=1, max_steps=6,
                 eval_episodes=1)
    assert config_shapes(cfg) == {'state': (39,), 'images': (3, 48, 64, 3)}
    summary = train(cfg, tmp_path / 'run')
    state = Learner.read(tmp_path / 'run')
    frames = state['online']['frames']
    images = frames['frames']   # each step's views once: 6 steps, 7 frames
    assert images.shape == (7, 3, 48, 64, 3) and images.dtype == np.uint8 and images.any()
    np.testing.assert_array_equal(frames['next_frame'][:5], frames['obs_frame'][1:6])
    assert summary['updates'] == 3 + 4 + 6
    assert np.isfinite(read_log(tmp_path / 'run')[0]['td_loss'])


def test_scripted_operator_takes_over_on_stall_for_takeover_steps():
    operator = ScriptedOperator(OperatorConfig(stall_steps=3, min_gain=0.05, takeover_steps=2))
    decisions = [operator.should_take_over(p) for p in (0.0, 0.1, 0.2, 0.3, 0.3, 0.3)]
    assert decisions == [False] * 6  # progressing; the stall window is not yet stalled
    assert operator.should_take_over(0.31)  # 3 steps without +0.05
    assert operator.should_take_over(0.31) and not operator.should_take_over(0.9)
    assert operator.takeovers == 1


def test_scripted_operator_leaves_a_competent_actor_alone():
    """
    The scripted expert acting on a layout it solves quickly: no takeover.

    The old box rule took over at every grasp, the peg lying at the workspace's floor.
    """
    from robodopamine_ros.rl.sim_episodes import OracleProgress
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim

    sim = PegInsertionSim(max_steps=200, render_images=False)
    operator = ScriptedOperator()
    try:
        obs, _ = sim.reset(seed=2000)
        phi, lowest, success = OracleProgress.start(sim), 1.0, False
        for _ in range(200):
            assert not operator.should_take_over(phi), f'took over at progress {phi:.2f}'
            obs, _, success, truncated, _ = sim.step(np.clip(sim.expert_action(obs), -1, 1))
            phi, lowest = OracleProgress.step(sim), min(lowest, sim.ee_pose()[2])
            if success or truncated:
                break
    finally:
        sim.close()
    assert success and lowest < 0.06  # it went down to the floor to grasp, and finished


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="reward 'grm' needs grm_dir"):
        TrainConfig(reward='grm')
    with pytest.raises(ValueError, match='observation must be one of'):
        TrainConfig(reward='sparse', observation='depth')
    with pytest.raises(ValueError, match='reward must be one of'):
        TrainConfig(reward='shaped')


def test_train_command_runs_and_resumes(tmp_path, capsys):
    from robodopamine_ros.commands import cli

    out = tmp_path / 'train'
    args = ['train', '-o', str(out), '--reward', 'sparse', '--algorithm', 'calql',
            '--episodes', '1', '--max-steps', '8', '--policy-demos', '1', '--keep-failed-demos',
            '--pretrain-updates', '2', '--offline-updates', '2', '--eval-every', '1',
            '--eval-episodes', '1', '--final-eval-episodes', '1', '--batch', '16']
    assert cli.main(args) == 0
    assert 'done:' in capsys.readouterr().out
    assert (out / 'success.png').is_file() and '| calql, sparse reward | 1 |' in \
        (out / 'report.md').read_text()
    args[args.index('--episodes') + 1] = '2'
    assert cli.main(args) == 0  # resumes: one more episode
    assert [r['episode'] for r in read_log(out)] == [1.0, 2.0]


def test_the_robot_observation_checkpoint_after_the_offline_stage_evaluates_the_same(
        grm_dir, tmp_path):
    """Observation 'robot' (rl_agent_node's state); the offline checkpoint starts the node."""
    from robodopamine_ros.rl.sim_training import evaluate_checkpoint

    cfg = config(grm_dir, reward='sparse', observation='robot', episodes=0, eval_episodes=3)
    assert config_shapes(cfg) == {'state': (30,)}
    summary = train(cfg, tmp_path / 'run')
    state = Learner.read(tmp_path / 'run')   # written right after the offline stage
    assert state['counters'] == {**state['counters'], 'episodes': 0, 'updates': 3 + 4}
    demo = state['demo']['obs']['state'][:state['demo']['size']]
    assert demo.shape[1] == 30 and demo[:, 16:].any()   # the peg and hole poses are in it
    rate, counters = evaluate_checkpoint(tmp_path / 'run', cfg, 3)
    assert rate == summary['eval'][0][1] and counters['updates'] == 7  # same actor, layouts
    with pytest.raises(ValueError, match=r"made for observations \{'state': \(30,\)\}"):
        evaluate_checkpoint(tmp_path / 'run', config(grm_dir, reward='sparse'), 1)
    with pytest.raises(FileNotFoundError, match='no checkpoint to evaluate'):
        evaluate_checkpoint(tmp_path / 'none', cfg, 1)


def test_a_run_names_its_reward_contract_and_refuses_to_resume_under_another(grm_dir, tmp_path):
    import shutil

    from robodopamine_ros.reward.contract import grm_content_hash
    from robodopamine_ros.rl.logs import read_contracts

    grm = tmp_path / 'grm'
    shutil.copytree(grm_dir, grm)
    train(config(grm, episodes=1), tmp_path / 'run')
    (digest, contract), = read_contracts(tmp_path / 'run').items()
    assert [r['reward_contract'] for r in read_log(tmp_path / 'run')] == [digest]
    assert contract.grm == grm_content_hash(grm) and contract.grm_every == 2
    assert contract.shaping['reward'] == 'grm' and contract.shaping['gamma'] == 0.99
    assert Learner.read(tmp_path / 'run')['extra']['reward_contract'] == contract.to_dict()
    # the GRM adapted again into the same folder: the buffer's rewards are the old model's
    weights = bytearray((grm / 'model.safetensors').read_bytes())
    weights[-1] ^= 1
    (grm / 'model.safetensors').write_bytes(bytes(weights))
    with pytest.raises(ValueError, match=rf'reward_contract: {digest} -> \w+ \(differ in grm:'):
        train(config(grm, episodes=2), tmp_path / 'run')
