# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The product's loop in simulation: what the policy sees, and where success comes from.

Nothing a real arm lacks may reach the learner: the 'cameras' observation holds no object
state, and with success 'detector' the simulator's flag decides no terminal flag and pays no
reward; the operator's labels and the detector's verdicts follow their stated rules.
"""

import numpy as np
import pytest
from robodopamine_ros.reward.success import SuccessConfig, SuccessDetector
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.outcomes import (detector_scores, make_judge, OperatorConfig,
                                          OutcomeJudge, ScriptedOperator)
from robodopamine_ros.rl.replay import Episode, ReplayBuffer, ReturnRule
from robodopamine_ros.rl.sim_episodes import GRMProgress, run_episode, sim_safety
from robodopamine_ros.rl.sim_training import config_shapes, TrainConfig
from robodopamine_ros.sim.peg_insertion import PegInsertionSim

TINY = {'hidden': (32, 32), 'batch_size': 16, 'cql_actions': 2, 'image_features': 16}


def test_cameras_hold_views_and_proprioception_and_no_object_state():
    shapes = config_shapes(TrainConfig(reward='sparse', observation='cameras'))
    assert shapes == {'state': (16,), 'images': (3, 48, 64, 3)}  # 9 joints + the hand pose
    sim = PegInsertionSim(max_steps=5, render_images=True)
    base = sim.layout_for_seed(3)
    moved = base.copy()
    moved[:2] += (0.05, -0.03)   # only the peg moves
    observed = {}
    try:
        for name, layout in (('base', base), ('moved', moved)):
            sim.layout_for_seed = lambda seed, layout=layout: layout
            obs, _ = sim.reset(seed=0)
            observed[name] = obs
    finally:
        sim.close()
    np.testing.assert_array_equal(observed['base']['proprioception'],
                                  observed['moved']['proprioception'])
    # the privileged observation does see it, and the cameras do
    assert not np.allclose(observed['base']['robot_state'], observed['moved']['robot_state'])
    assert (observed['base']['front'] != observed['moved']['front']).any()


class _SimulatorSaysSuccess(PegInsertionSim):
    """The real simulator, with a success flag that is always up (a lie the learner must miss)."""

    def step(self, action):
        obs, reward, _, truncated, info = super().step(action)
        return obs, reward, True, truncated, dict(info, success=True)


@pytest.mark.parametrize('source', ['detector', 'simulator'])
def test_the_terminal_flag_comes_from_the_success_setting(grm_dir, source):
    """With the detector, the simulator's flag decides nothing the learner receives."""
    config = TrainConfig(reward='grm', observation='cameras', success=source,
                         grm_dir=str(grm_dir), grm_every=2, max_steps=6, agent=TINY)
    shapes = config_shapes(config)
    actor = PolicyActor(config.agent_config(), shapes, sim_safety())
    sim = _SimulatorSaysSuccess(max_steps=6, render_images=True)
    try:
        judge = make_judge(source)
        episode, info = run_episode(sim, 1, actor, config, shapes,
                                    GRMProgress(grm_dir, 2), judge=judge)
    finally:
        sim.close()
    flags = [(t['terminal'], t['success']) for t in episode.transitions]
    if source == 'simulator':  # the privileged upper bound: ends at the flag
        assert flags == [(True, True)]
    else:  # an untrained GRM never reaches 0.95: no terminal, no success reward
        assert len(flags) == 6 and not any(t or s for t, s in flags)
        assert all(t['reward'] < 1.0 for t in episode.transitions)
        assert info['sim_success'] and not info['detector_success']  # logged, not learned


def test_the_detector_hold_is_a_duration_of_the_run_and_its_reward_contract(grm_dir):
    config = TrainConfig(reward='grm', grm_dir=str(grm_dir), success='detector',
                         success_hold_s=0.4)
    progress = GRMProgress(grm_dir, 1, config.success_hold)
    assert progress.terms['progress']['success_hold'] == 4   # the contract names the ticks
    # the default 1 s: 10 ticks of a GRM ticking every control step (10 Hz), 5 at every 2nd
    # (a hold in ticks held 2 s there: longer than a true success reads >= 0.95)
    assert TrainConfig(reward='sparse').success_hold == SuccessConfig().hold_ticks == 10
    assert TrainConfig(reward='sparse', grm_every=2).success_hold == 5
    assert TrainConfig(reward='sparse', grm_every=3, success_hold_s=0.0).success_hold == 1
    with pytest.raises(ValueError, match='success_hold_s must be a finite number >= 0'):
        TrainConfig(reward='sparse', success_hold_s=-1.0)


def test_with_either_the_operator_waits_the_detectors_hold_in_control_steps():
    operator = ScriptedOperator(OperatorConfig(label_delay=5))
    judge = make_judge('either', operator, SuccessConfig(hold_ticks=5), grm_every=2)
    assert judge.label_after == 5 + 5 * 2   # 5 GRM ticks of 2 control steps, then the delay


def _detector(hold=1):
    return SuccessDetector(SuccessConfig(hold_ticks=hold))


def test_either_rejects_a_false_detector_success_as_a_failure():
    operator = ScriptedOperator(OperatorConfig(label_delay=2))
    judge = OutcomeJudge('either', operator, _detector())
    judge.reset()
    assert judge.step(True, 0.5, False) == (False, False)
    assert judge.step(True, 0.99, False) == (True, False)   # fired, the simulator denies
    assert judge.record == {'detector_success': True, 'sim_success': False, 'labels': 1,
                            'rejected': True, 'label': 'failure'}
    judge.reset()
    assert judge.step(True, 0.99, True) == (True, True)     # a true success: no press
    assert judge.record['labels'] == 0 and operator.labels == 1


def test_the_operator_marks_a_success_the_detector_missed_after_its_hold_and_delay():
    # 'either': the operator waits for the detector's hold (3 ticks), then its label delay (2)
    operator = ScriptedOperator(OperatorConfig(label_delay=2))
    judge = OutcomeJudge('either', operator, _detector(hold=3))
    judge.reset()
    assert judge.label_after == 5
    assert [judge.step(True, 0.2, True) for _ in range(6)] == [(False, False)] * 5 + \
        [(True, True)]
    assert judge.record['labels'] == 1 and judge.record['label'] == 'success'
    # a detector that fires within its hold of the simulator's success: no press at all
    judge = OutcomeJudge('either', ScriptedOperator(OperatorConfig(label_delay=2)),
                         _detector(hold=3))
    judge.reset()
    assert [judge.step(True, 0.99, True) for _ in range(3)] == [(False, False)] * 2 + \
        [(True, True)]
    assert judge.record['labels'] == 0 and judge.record['detector_success']
    # 'operator' alone: the detector is not even consulted
    judge = OutcomeJudge('operator', ScriptedOperator(OperatorConfig(label_delay=0)))
    judge.reset()
    assert judge.step(True, 1.0, False) == (False, False)
    assert judge.step(False, 0.0, True) == (True, True)


def test_a_wrong_label_ends_the_episode_as_a_failure():
    operator = ScriptedOperator(OperatorConfig(label_delay=0, label_accuracy=0.0))
    judge = OutcomeJudge('operator', operator)
    judge.reset()
    assert judge.step(False, 0.0, True) == (True, False)
    judge = OutcomeJudge('either', operator, _detector())
    judge.reset()
    assert judge.step(True, 0.99, False) == (True, True)   # a false success let through


def test_bad_success_settings_are_named(grm_dir):
    with pytest.raises(ValueError, match='success must be one of'):
        OutcomeJudge('oracle')
    with pytest.raises(ValueError, match="success 'either' needs the operator"):
        OutcomeJudge('either', None, _detector())
    with pytest.raises(ValueError, match="success 'detector' uses the GRM success detector"):
        TrainConfig(reward='sparse', success='detector')
    with pytest.raises(ValueError, match="success 'operator' needs the operator's labels"):
        TrainConfig(reward='sparse', success='operator')
    assert TrainConfig(reward='sparse').privileged == [
        "observation 'state' (object positions)", "the simulator's success flag"]
    assert TrainConfig(reward='grm', grm_dir=str(grm_dir), observation='cameras',
                       success='either', operator=True).privileged == []


def test_detector_precision_and_recall():
    rows = [{'detector_success': d, 'sim_success': s}
            for d, s in ((True, True), (True, False), (False, True), (False, False))]
    scores = detector_scores(rows)
    assert scores['precision'] == 0.5 and scores['recall'] == 0.5
    assert np.isnan(detector_scores([])['precision'])


def test_replay_stores_each_steps_views_once():
    shapes = {'state': (2,), 'images': (3, 4, 5, 3)}
    rng = np.random.default_rng(0)
    views = [rng.integers(0, 255, shapes['images'], dtype=np.uint8) for _ in range(5)]
    observations = [{'state': np.full(2, k, np.float32), 'images': views[k]} for k in range(5)]
    episode = Episode(1)
    for k in range(4):
        episode.add(observations[k], np.zeros(4), observations[k + 1], 0.0, False, k == 3)
    buffer = ReplayBuffer(10, shapes, 4)
    buffer.add_episode(episode.close(ReturnRule()))
    assert buffer.frames_written == 5   # 4 transitions, 5 distinct views
    batch = buffer.gather(np.arange(4))
    for k in range(4):
        np.testing.assert_array_equal(batch['obs']['images'][k], views[k])
        np.testing.assert_array_equal(batch['next_obs']['images'][k], views[k + 1])
    frame_bytes = views[0].nbytes
    assert frame_bytes * 5 / 4 < buffer.bytes_per_transition() < frame_bytes * 5 / 4 + 200
    copy = ReplayBuffer(10, shapes, 4)
    copy.load_state_dict(buffer.state_dict())
    np.testing.assert_array_equal(copy.gather(np.arange(4))['next_obs']['images'],
                                  batch['next_obs']['images'])


def test_a_product_run_logs_what_the_learner_could_not_see(grm_dir, tmp_path):
    """Cameras through the GRM's frozen encoder, detector + operator, the user's 1 demo."""
    from robodopamine_ros.rl.acting import Learner
    from robodopamine_ros.rl.logs import read_log
    from robodopamine_ros.rl.sim_training import train

    config = TrainConfig(reward='grm', observation='cameras', image_encoder='grm',
                         success='either', operator=True, grm_dir=str(grm_dir), grm_every=2,
                         episodes=2, policy_demos=1, successful_demos_only=False,
                         pretrain_updates=2, offline_updates=2, max_steps=8, eval_every=2,
                         eval_episodes=1, final_eval_episodes=1,
                         agent=dict(TINY, online_actor_delay=0))
    summary = train(config, tmp_path / 'run')
    assert summary['privileged'] == []
    assert set(summary['detector']) >= {'precision', 'recall'}
    assert len(summary['operator_effort']['takeovers']) == 2
    state = Learner.read(tmp_path / 'run')
    assert set(state['online']['obs']) == {'state', 'image_features'}  # no images, no objects
    assert state['online']['obs']['image_features'].shape[1] == 4 * 128
    assert state['extra']['joint_names'][-2:] == ['r_close', 'l_close']
    for row in read_log(tmp_path / 'run'):
        assert {'detector_success', 'sim_success', 'labels', 'takeovers'} <= set(row)


def test_a_non_finite_observation_is_never_stored():
    episode = Episode(3)
    good, bad = {'state': np.zeros(2, np.float32)}, {'state': np.array([0.0, np.nan])}
    with pytest.raises(ValueError, match="episode 3 step 0: next observation 'state' must be"):
        episode.add(good, np.zeros(4), bad, 0.0, False, False)
    assert episode.transitions == []
