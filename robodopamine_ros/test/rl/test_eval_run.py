# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Mode eval on a robot is an evaluation: its episodes, its log, its rate (issue 30 item 6)."""

import time

import pytest
from robodopamine_ros.rl.eval_run import eval_folder, EvalRun


def summary(episode_id, success):
    return {'episode_id': episode_id, 'steps': 7, 'success': success, 'return': 0.5,
            'final_progress': 0.9, 'intervention_rate': 0.0}


def test_an_evaluation_counts_its_episodes_and_reports_both_verdicts():
    run = EvalRun(episodes=3)
    verdicts = [(True, [False, True, True]), (True, [False, False]), (False, [False])]
    for k, (detector, truths) in enumerate(verdicts):
        assert not run.done
        run.start_episode()
        for value in truths:
            run.observe_ground_truth(value)
        row = run.finished(summary(40 + k, detector))
        assert row['episode'] == k + 1 and row['episode_id'] == 40 + k
    assert run.done
    assert [r['ground_truth'] for r in run.rows] == [1.0, 0.0, 0.0]
    assert run.rates() == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert run.report() == ('eval: success rate 0.67 (2 of 3 episodes) by the success '
                            "detector; 0.33 (1 of 3) by the simulator's ground truth "
                            '(sim_robot/success)')


def test_without_a_ground_truth_only_the_detector_is_reported():
    run = EvalRun(episodes=1)
    run.start_episode()
    assert run.finished(summary(1, False))['ground_truth'] is None
    assert run.report() == 'eval: success rate 0.00 (0 of 1 episodes) by the success detector'
    with pytest.raises(ValueError, match='eval_episodes'):
        EvalRun(episodes=0)


def test_each_eval_run_logs_into_its_own_folder_never_the_training_log(tmp_path):
    folder = eval_folder(tmp_path, clock=lambda: time.gmtime(0))
    assert folder == tmp_path / 'eval_19700101_000000'
    assert folder.name != 'episodes.csv' and folder.parent == tmp_path


def test_an_episode_without_a_step_is_not_counted_and_runs_again():
    run = EvalRun(2)
    held = dict(summary(5, False), steps=0)   # cameras silent from the start: held throughout
    row = run.finished(held)
    assert row['aborted'] and row['episode'] == 1 and not run.done
    assert run.finished(summary(6, True))['episode'] == 1   # the same number, run again
    run.finished(summary(7, False))
    assert run.done and run.rates() == (0.5, None)
