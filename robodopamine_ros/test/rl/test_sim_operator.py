# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The scripted operator's step loop on the ROS graph, without ROS (issue 28 item 7).

rl.sim_operator.SimOperator, what sim_operator_node does each control step: takeovers by
ScriptedOperator's stall rule (start, the expert's action for takeover_steps steps, hand back),
labels by OutcomeJudge (success label_delay steps after the simulator's success; with 'either'
a failure label when the detector's success ends an episode the simulator says did not
succeed), a new episode or the agent's end of one, the effort per episode, refused input.
"""

import pytest
from robodopamine_ros.reward.success import DEFAULT_HOLD_TICKS as HOLD
from robodopamine_ros.rl.outcomes import OperatorConfig
from robodopamine_ros.rl.sim_operator import effort_line, SimOperator

EXPERT = (0.5, -0.25, 0.0, 1.0)


def run(operator, steps, episode_id=1, progress=0.2, detector=False):
    """Feed `steps` control steps of one progress value; return their OperatorSteps."""
    out = []
    for _ in range(steps):
        operator.observe_progress(episode_id, progress, detector)
        out.append(operator.step())
    return out


def test_a_stall_starts_a_takeover_that_drives_the_expert_then_hands_back():
    operator = SimOperator(OperatorConfig(stall_steps=3, min_gain=0.05, takeover_steps=4))
    operator.observe_expert(EXPERT)
    # flat, then rising while the expert drives (steps 4-6), then flat again
    progress = [0.2] * 4 + [0.3, 0.4] + [0.5] * 6
    steps = []
    for value in progress:
        operator.observe_progress(1, value, False)
        steps.append(operator.step())
    starts = [k for k, s in enumerate(steps) if s.take_over is True]
    ends = [k for k, s in enumerate(steps) if s.take_over is False]
    # the history is longer than stall_steps at step 3: a takeover of 4 steps (3-6), handed
    # back at step 7 (gain 0.2 over the last 3 steps); flat again, the stall rule fires at 9
    assert starts == [3, 9] and ends == [7]
    assert [k for k, s in enumerate(steps) if s.action is not None] == [3, 4, 5, 6, 9, 10, 11]
    assert all(s.action == EXPERT for s in steps if s.action is not None)
    assert all(s.label is None for s in steps)
    assert operator.close()['takeovers'] == 2


def test_a_takeover_that_gains_nothing_goes_on():
    """The expert's steps gained nothing: the stall rule fires again at once (no hand back)."""
    operator = SimOperator(OperatorConfig(stall_steps=3, min_gain=0.05, takeover_steps=4))
    operator.observe_expert(EXPERT)
    steps = run(operator, 12)
    assert [s.take_over for s in steps if s.take_over is not None] == [True]
    assert all(s.action == EXPERT for s in steps[3:])
    assert operator.close()['takeovers'] == 3   # steps 3, 7 and 11: one takeover each


def test_progress_that_rises_is_no_stall():
    operator = SimOperator(OperatorConfig(stall_steps=3, min_gain=0.05, takeover_steps=4))
    operator.observe_expert(EXPERT)
    for k in range(20):
        operator.observe_progress(1, 0.02 * k, False)   # 0.06 per 3 steps
        assert operator.step().take_over is None


def test_a_takeover_without_an_expert_action_says_so():
    operator = SimOperator(OperatorConfig(stall_steps=1, takeover_steps=2))
    steps = run(operator, 3)
    assert steps[1].take_over is True and steps[1].action is None and steps[1].missing_action


@pytest.mark.parametrize('success, hold, after', [('operator', None, 2),
                                                  ('either', None, 2 + HOLD),
                                                  ('either', 4, 2 + 4)])
def test_a_success_label_comes_label_delay_steps_after_the_simulators_success(success, hold,
                                                                              after):
    # 'either': the operator first lets the detector's hold pass (OutcomeJudge.label_after), in
    # control steps (sim_operator_node: grm_node's success_hold_s at the control rate)
    operator = SimOperator(OperatorConfig(stall_steps=1000, label_delay=2), success=success,
                           hold_steps=hold)
    run(operator, 3)
    operator.observe_simulator(True)
    steps = run(operator, after + 3)
    assert [s.label for s in steps] == [None] * after + [True, None, None]   # once
    assert all(s.episode_id == 1 for s in steps)
    effort = operator.close()
    assert effort == {'episode_id': 1, 'steps': 3 + after + 1, 'takeovers': 0, 'labels': 1,
                      'label': 'success', 'simulator': True}
    assert operator.close() is None   # once
    assert effort_line(effort) == ('episode 1: operator effort 0 takeovers, 1 label (success) '
                                   f"in {3 + after + 1} control steps; the simulator's success "
                                   'seen')


def test_either_rejects_a_detector_success_the_simulator_denies_and_lets_a_true_one_be():
    operator = SimOperator(OperatorConfig(stall_steps=1000, label_delay=2), success='either')
    run(operator, 2)
    steps = run(operator, 3, detector=True)           # the simulator says no
    assert [s.label for s in steps] == [False, None, None]   # at once, once
    operator.observe_progress(2, 0.0, False)          # the next episode
    operator.observe_simulator(True)
    steps = run(operator, 4, episode_id=2, detector=True)
    assert [s.label for s in steps] == [None] * 4     # a true success: nothing to press
    assert operator.close()['labels'] == 0


@pytest.mark.parametrize('success', ['detector', 'operator'])
def test_no_failure_label_where_the_detector_does_not_end_episodes_or_labels_do_not_count(
        success):
    operator = SimOperator(OperatorConfig(stall_steps=1000), success=success)
    steps = run(operator, 5, detector=True)
    assert all(s.label is None for s in steps)


def test_a_wrong_label_with_label_accuracy_zero():
    operator = SimOperator(OperatorConfig(stall_steps=1000, label_delay=0,
                                          label_accuracy=0.0), success='operator')
    operator.observe_simulator(True)   # before any progress: no episode yet, ignored
    run(operator, 1)
    operator.observe_simulator(True)
    assert [s.label for s in run(operator, 2)] == [False, None]


def test_a_new_episode_hands_back_and_reports_the_last_ones_effort():
    operator = SimOperator(OperatorConfig(stall_steps=2, takeover_steps=10))
    operator.observe_expert(EXPERT)
    steps = run(operator, 4)
    assert steps[2].take_over is True and operator.taking_over
    operator.observe_simulator(True)
    effort = operator.observe_progress(2, 0.0, False)
    assert effort['episode_id'] == 1 and effort['takeovers'] == 1
    step = operator.step()
    assert step.take_over is False and step.action is None and step.episode_id == 2
    assert not operator.simulator   # the new episode's flag starts false


def test_the_agents_end_of_the_episode_stops_the_operator():
    operator = SimOperator(OperatorConfig(stall_steps=2, takeover_steps=10), success='operator')
    operator.observe_expert(EXPERT)
    run(operator, 4)
    assert operator.episode_ended(7) == (None, False)   # another episode's end
    effort, hand_back = operator.episode_ended(1)
    assert effort['episode_id'] == 1 and hand_back     # it was taking over: at once
    assert operator.episode_ended(1) == (None, False)
    operator.observe_simulator(True)
    steps = run(operator, 4)
    assert all(s.take_over is None and s.action is None and s.label is None for s in steps)


def test_the_last_reward_ends_takeovers_but_a_label_still_comes():
    """A time-limit end: the arm stops; the simulator's success seen on the last step."""
    operator = SimOperator(OperatorConfig(stall_steps=2, takeover_steps=10, label_delay=1),
                           success='either')
    operator.observe_expert(EXPERT)
    run(operator, 4)
    assert operator.last_reward(5) is False            # another episode's
    assert operator.last_reward(1) is True             # hand back at once
    operator.observe_simulator(True)
    steps = run(operator, HOLD + 4)
    assert all(s.take_over is None and s.action is None for s in steps)
    # in the label window, after the detector's hold and label_delay
    assert [s.label for s in steps] == [None] * (HOLD + 1) + [True, None, None]
    assert operator.last_reward(1) is False            # nothing to hand back twice


def test_nothing_happens_before_the_first_progress():
    operator = SimOperator()
    step = operator.step()
    assert step.episode_id == 0 and step.take_over is None and step.label is None


@pytest.mark.parametrize('values', [(0.1, 0.2, 0.3), (0.1, float('nan'), 0.0, 1.0),
                                    (2.0, 0.0, 0.0, 0.0)])
def test_a_malformed_expert_action_is_refused(values):
    operator = SimOperator()
    operator.observe_expert(EXPERT)
    with pytest.raises(ValueError, match='expected 4 finite values in'):
        operator.observe_expert(values)
    assert operator.expert == EXPERT


@pytest.mark.parametrize('fields, message', [
    ({'stall_steps': 0}, 'stall_steps must be an integer >= 1'),
    ({'takeover_steps': 0}, 'takeover_steps must be an integer >= 1'),
    ({'min_gain': float('nan')}, 'min_gain must be a finite'),
])
def test_a_config_that_cannot_work_is_refused_naming_the_parameter(fields, message):
    with pytest.raises(ValueError, match=message):
        OperatorConfig(**fields)


def test_an_unknown_success_source_is_refused():
    with pytest.raises(ValueError, match='parameter success must be one of'):
        SimOperator(success='human')
