# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Automatic success with hysteresis, where it is used, and the outcome-ranking metrics."""

import math

from hypothesis import given, strategies as st
import pytest
from robodopamine_ros.reward.metrics import classify_completion, FAIL, outcome_ranking, PARTIAL, \
    SUCCESS
from robodopamine_ros.reward.progress import ProgressConfig, ProgressTracker
from robodopamine_ros.reward.shaping import RewardStepper, ShapingConfig
from robodopamine_ros.reward.success import first_success, SuccessConfig, SuccessDetector, \
    ticks_for_hold


@pytest.mark.parametrize('rate, seconds, ticks', [(10.0, 1.0, 10), (5.0, 1.0, 5), (5.0, 0.6, 3),
                                                  (10.0, 0.25, 3), (10.0, 0.35, 4),
                                                  (30.0, 0.0, 1), (0.5, 1.0, 1)])
def test_the_hold_in_ticks_is_never_shorter_than_its_seconds(rate, seconds, ticks):
    assert ticks_for_hold(rate, seconds) == ticks


@pytest.mark.parametrize('rate, seconds, message', [
    (0.0, 1.0, 'GRM tick rate'), (math.nan, 1.0, 'GRM tick rate'), (10.0, -0.1, 'success_hold_s'),
    (10.0, math.inf, 'success_hold_s'), (10.0, True, 'success_hold_s')])
def test_a_hold_or_rate_that_cannot_work_is_refused(rate, seconds, message):
    with pytest.raises(ValueError, match=message):
        ticks_for_hold(rate, seconds)


def test_the_threshold_must_hold_for_k_ticks_then_success_latches():
    detector = SuccessDetector(SuccessConfig(delta=0.05, hold_ticks=3))
    seen = [detector.update(p) for p in (0.5, 0.96, 0.97, 0.9, 0.95, 0.99, 0.96, 0.2, 0.1)]
    assert seen == [False, False, False, False, False, False, True, True, True]
    detector.reset()
    assert not detector.update(0.99) and not detector.detected


def test_one_tick_is_the_papers_instant_rule_and_nan_counts_as_below():
    assert first_success([0.1, 0.95, 0.2], SuccessConfig(hold_ticks=1)) == 1
    assert first_success([0.96, math.nan, 0.96, 0.96], SuccessConfig(hold_ticks=2)) == 3
    assert first_success([0.9] * 20, SuccessConfig()) is None


@given(st.lists(st.floats(0.0, 1.0), max_size=40), st.integers(1, 5))
def test_detection_means_a_run_of_k_ticks_above_the_threshold(curve, k):
    config = SuccessConfig(delta=0.05, hold_ticks=k)
    index = first_success(curve, config)
    runs = [all(v >= 0.95 for v in curve[i - k + 1:i + 1]) for i in range(k - 1, len(curve))]
    assert (index is None) == (not any(runs))
    if index is not None:
        assert all(v >= 0.95 for v in curve[index - k + 1:index + 1])


@pytest.mark.parametrize('settings', [{'delta': 1.0}, {'hold_ticks': 0}, {'hold_ticks': 2.5}])
def test_bad_settings_are_named(settings):
    with pytest.raises(ValueError, match='success'):
        SuccessConfig(**settings)


def test_the_tracker_publishes_detected_success_and_shaping_pays_it_once_detected():
    tracker = ProgressTracker(ProgressConfig(success_hold=2))
    first = tracker.update(0.97, 0.97, -0.03)      # one optimistic tick: not yet
    second = tracker.update(0.0, 0.98, -0.02)
    assert first.progress >= 0.95 and not first.success and second.success
    stepper = RewardStepper(ShapingConfig(gamma=0.98), max_steps=10)
    stepper.observe(first.progress, first.success)
    _, step = stepper.tick()
    assert step.sparse_reward == 0.0 and not step.terminal   # the instant rule would end it
    stepper.observe(second.progress, second.success)
    _, step = stepper.tick()
    assert step.sparse_reward == 1.0 and step.terminal


def test_completion_with_the_detector_and_with_the_papers_rule():
    spike = [0.1, 0.3, 0.96, 0.4, 0.85, 0.82, 0.84]    # one spike, ends high: the paper's SUCCESS
    held = [0.1, 0.5, 0.96, 0.97, 0.98, 0.6, 0.5]      # held at the goal, then knocked back
    assert classify_completion(spike) == SUCCESS
    assert classify_completion(spike, success=SuccessConfig(hold_ticks=3)) == PARTIAL
    assert classify_completion(held, success=SuccessConfig(hold_ticks=3)) == SUCCESS
    assert classify_completion([0.1] * 5, success=SuccessConfig()) == FAIL


def test_outcome_ranking_tau_gap_and_distribution():
    final = [0.9, 0.95, 0.5, 0.6, 0.1, 0.2]
    labels = [SUCCESS, SUCCESS, PARTIAL, PARTIAL, FAIL, FAIL]
    result = outcome_ranking(final, labels)
    # perfectly ordered; tau-b counts the 3 pairs tied in outcome: 12 / sqrt(12 x 15)
    assert result['kendall_tau'] == pytest.approx(12 / math.sqrt(180))
    # ... which is the best any progress can do for this label mix, all 12 pairs in order
    assert result['kendall_tau_max'] == pytest.approx(result['kendall_tau'])
    assert result['pairs_ordered'] == 1.0
    assert result['success_fail_gap'] == pytest.approx(0.775)
    assert result['final_progress'][FAIL] == {'n': 2, 'mean': pytest.approx(0.15), 'min': 0.1,
                                              'median': pytest.approx(0.15), 'max': 0.2}
    flipped = outcome_ranking(final[::-1], labels)    # failures credited with the most progress
    assert flipped['kendall_tau'] == pytest.approx(-12 / math.sqrt(180))
    assert flipped['success_fail_gap'] < 0 and flipped['pairs_ordered'] == 0.0
    # one failure tied with a partial rollout, one success below a partial one: 10.5 of 12
    mixed = outcome_ranking([0.9, 0.55, 0.5, 0.6, 0.5, 0.2], labels)
    assert mixed['pairs_ordered'] == pytest.approx(10.5 / 12)
    assert mixed['kendall_tau'] < mixed['kendall_tau_max']
    one_outcome = outcome_ranking([0.2, 0.3], [FAIL, FAIL])
    assert all(math.isnan(one_outcome[k]) for k in ('kendall_tau', 'kendall_tau_max',
                                                    'pairs_ordered', 'success_fail_gap'))
    empty = outcome_ranking([], [])
    assert math.isnan(empty['kendall_tau_max']) and math.isnan(empty['pairs_ordered'])
    with pytest.raises(ValueError, match="labels must be in.*'won'"):
        outcome_ranking([0.2], ['won'])


def test_the_familiarity_gate_drops_ticks_whose_views_disagree_from_the_hold():
    gated = SuccessDetector(SuccessConfig(delta=0.05, hold_ticks=3, min_agreement=0.5))
    ticks = [(0.97, 0.9), (0.97, 0.2), (0.98, 0.9), (0.98, 0.9), (0.99, math.nan), (0.99, 0.6)]
    assert [gated.update(p, a) for p, a in ticks] == [False] * 6   # never 3 agreeing in a row
    assert first_success([p for p, _ in ticks], SuccessConfig(delta=0.05, hold_ticks=3)) == 2
    assert first_success([0.97] * 4, SuccessConfig(hold_ticks=3, min_agreement=0.5),
                         agreement=[0.9, 0.6, 0.51, 0.4]) == 2
    with pytest.raises(ValueError, match='agreement has 2 values for 4 ticks'):
        first_success([0.97] * 4, SuccessConfig(hold_ticks=3), agreement=[1, 1])
    for bad in (-0.1, 1.5, True, math.nan):
        with pytest.raises(ValueError, match='min_agreement'):
            SuccessConfig(min_agreement=bad)


def test_the_tracker_measures_agreement_whatever_the_fusion_and_gates_success_with_it():
    config = ProgressConfig(success_hold=2, success_min_agreement=0.5)
    agreeing, disagreeing = ProgressTracker(config), ProgressTracker(config)
    for _ in range(3):
        near = agreeing.update(0.9, 0.97, -0.02)        # forward 0.97, backward 0.98
        far = disagreeing.update(0.9, 0.99, -0.3)       # forward 0.99, backward 0.70
    assert near.confidence == 1.0 and near.agreement > 0.9 and near.success
    assert far.agreement < 0.5 and not far.success
    assert disagreeing.update(0.0, 0.99, None).agreement == 0.0   # one view did not answer
