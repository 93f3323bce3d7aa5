# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import math

from hypothesis import given, strategies as st
import pytest
from robodopamine_ros.reward.progress import (consistency_weight, incremental_update,
                                              ProgressConfig, ProgressTracker)

hops = st.floats(-1.0, 1.0, allow_nan=False)
maybe_hops = st.one_of(hops, st.none(), st.just(math.nan))


@given(st.lists(hops, max_size=200))
def test_incremental_chain_stays_in_unit_interval(sequence):
    progress = 0.0
    for hop in sequence:
        progress = incremental_update(progress, hop)
        assert 0.0 <= progress <= 1.0


@given(st.lists(st.tuples(maybe_hops, maybe_hops, maybe_hops), max_size=60),
       st.sampled_from(['mean', 'consistency']))
def test_fused_progress_and_confidence_stay_in_range(ticks, fusion):
    tracker = ProgressTracker(ProgressConfig(fusion=fusion))
    for h_i, h_f, h_b in ticks:
        estimate = tracker.update(h_i, h_f, h_b)
        assert 0.0 <= estimate.progress <= 1.0
        assert 0.0 <= estimate.confidence <= 1.0


def test_three_perspectives_by_hand():
    tracker = ProgressTracker()
    e = tracker.update(0.5, 0.4, -0.3)
    assert (e.incremental, e.forward, e.backward) == (0.5, 0.4, 0.7)
    assert e.progress == pytest.approx((0.5 + 0.4 + 0.7) / 3)
    previous = e.progress
    e = tracker.update(-0.5, 1.7, -1.4)  # anchored views clamp to [0, 1]
    assert e.incremental == pytest.approx(previous * 0.5)  # chained from the fused value
    assert (e.forward, e.backward) == (1.0, 0.0)
    assert e.tick == 2 and len(tracker.history) == 3


def test_missing_hop_is_no_update_not_a_zero_hop():
    tracker = ProgressTracker()
    tracker.update(0.6, 0.6, -0.4)
    assert tracker.progress == pytest.approx(0.6)
    e = tracker.update(None, 0.9, -0.1)
    # without the incremental view the tick fuses the two anchored ones only
    assert math.isnan(e.incremental) and math.isnan(e.hop)
    assert e.progress == pytest.approx(0.9)
    # a zero hop would have pulled progress back to (0.6 + 0.9 + 0.9) / 3
    e = tracker.update(math.nan, math.nan, float('inf'))
    assert e.progress == pytest.approx(0.9) and e.tick == 3


def test_reset_starts_a_new_episode():
    tracker = ProgressTracker()
    tracker.update(0.9, 0.9, -0.1)
    tracker.reset()
    assert tracker.progress == 0.0 and tracker.estimate.tick == 0 and len(tracker.history) == 1


def test_progress_holds_between_ticks_and_records_scored_frames():
    tracker = ProgressTracker()
    tracker.update(0.2, 0.2, -0.8, frame=30)
    held = tracker.estimate
    assert tracker.estimate is held and tracker.progress == held.progress
    tracker.update(0.1, 0.3, -0.7, frame=33)
    assert [e.frame for e in tracker.history] == [None, 30, 33]


def test_consistency_weight_agreeing_views_near_one():
    assert consistency_weight(0.5, 0.5, alpha=20, eps=1e-3) == 1.0
    assert consistency_weight(0.50, 0.52, alpha=20, eps=1e-3) > 0.95


def test_consistency_update_agreeing_views_weights_0_5_0_25_0_25():
    tracker = ProgressTracker(ProgressConfig(fusion='consistency'))
    e = tracker.update(0.4, 0.6, -0.4)  # F = B = 0.6, I = 0.4
    assert e.confidence == 1.0
    assert e.progress == pytest.approx(0.5 * 0.4 + 0.25 * 0.6 + 0.25 * 0.6)


def test_consistency_update_strong_disagreement_barely_moves():
    tracker = ProgressTracker(ProgressConfig(fusion='consistency'))
    tracker.update(0.3, 0.3, -0.7)
    before = tracker.progress
    e = tracker.update(0.9, 0.95, -0.95)  # forward says done, backward says at the start
    assert e.confidence < 1e-10
    assert abs(e.progress - before) < 1e-9
    # the mean fusion would have jumped
    mean = ProgressTracker()
    mean.update(0.3, 0.3, -0.7)
    assert mean.update(0.9, 0.95, -0.95).progress - before > 0.2


def test_consistency_without_both_anchored_views_holds():
    tracker = ProgressTracker(ProgressConfig(fusion='consistency'))
    tracker.update(0.3, 0.3, -0.7)
    e = tracker.update(0.9, None, -0.1)
    assert e.confidence == 0.0 and e.progress == pytest.approx(0.3)


def test_success_flag_and_deadband():
    tracker = ProgressTracker(ProgressConfig(success_delta=0.05, hop_deadband=0.02,
                                             success_hold=2))
    e = tracker.update(0.01, 0.0, -1.0)
    assert e.hop == 0.0 and e.incremental == 0.0
    assert not e.success
    assert not tracker.update(1.0, 1.0, 0.0).success   # the threshold must hold 2 ticks
    assert tracker.update(0.0, 1.0, 0.0).success


@pytest.mark.parametrize('kwargs, message', [
    ({'fusion': 'median'}, 'fusion must be one of'),
    ({'alpha': -1.0}, 'alpha must be'),
    ({'alpha': math.inf}, 'alpha must be'),
    ({'eps': 0.0}, 'eps must be'),
    ({'success_delta': 1.0}, 'success_delta'),
    ({'success_hold': 0}, 'success_hold'),
])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProgressConfig(**kwargs)
