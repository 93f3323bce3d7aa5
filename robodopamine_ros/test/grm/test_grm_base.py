# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import math

import numpy as np
import pytest
from robodopamine_ros.grm.base import as_triplet, GRM, ProgressEstimator
from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
from robodopamine_ros.reward.evaluation import evaluate_episode, incremental_chain


class RecordingGRM(GRM):
    """Answers fixed hops and records the queries it was asked."""

    def __init__(self, answers):
        self.answers, self.calls = list(answers), []

    def hops(self, queries):
        self.calls.append(queries)
        return self.sanitize(self.answers.pop(0))


def image(value):
    return np.full((6, 8, 3), value, np.uint8)


def test_a_tick_asks_three_queries_in_one_batch():
    start_ref, end_ref = image(0), image(250)
    model = RecordingGRM([[0.5, 0.5, -0.5], [math.nan, 0.7, -0.3]])
    estimator = ProgressEstimator(model, 'insert the peg', start_ref, end_ref)
    s0, s1, s2 = (image(10), image(11), image(12)), (image(20),) * 3, (image(30), image(31))
    estimator.start(s0)
    tick = estimator.tick(s1)
    assert len(model.calls) == 1 and len(model.calls[0]) == 3
    incremental, forward, backward = model.calls[0]
    assert incremental.before == s0 and incremental.after == s1
    assert forward.before == s0
    assert all(v is end_ref for v in backward.before)  # goal image in the three BEFORE slots
    assert tick.estimate.progress == pytest.approx(0.5)
    tick = estimator.tick(s2)  # single wrist camera: duplicated into both wrist slots
    assert model.calls[1][0].before == s1
    assert model.calls[1][0].after == (s2[0], s2[1], s2[1])
    assert math.isnan(tick.hops[0]) and tick.estimate.progress == pytest.approx(0.7)


def test_sanitize_turns_bad_outputs_into_no_answer():
    hops = GRM.sanitize([0.3, 2.0, -7, math.nan, math.inf])
    assert hops[:3].tolist() == [0.3, 1.0, -1.0] and np.isnan(hops[3:]).all()
    with pytest.raises(ValueError, match='expected 2 or 3 views'):
        as_triplet([image(0)])
    with pytest.raises(RuntimeError, match='before start'):
        ProgressEstimator(RecordingGRM([]), '', image(0), image(1)).tick((image(0),) * 3)


def test_incremental_chain_skips_missing_hops():
    np.testing.assert_allclose(incremental_chain([0.5, math.nan, -0.5], start=0.0),
                               [0, 0.5, 0.5, 0.25])


def test_pixel_baseline_on_a_fading_episode(make_episode):
    episode = make_episode(num_frames=20, streams=False)
    for view in episode.views:
        episode.views[view] = np.stack([np.full((12, 16, 3), 12 * k, np.uint8)
                                        for k in range(20)])
    metrics, curves = evaluate_episode(PixelBaselineGRM(size=(8, 6)), episode, every=2)
    assert metrics['voc_fused'] > 0.99 and metrics['voc_minus'] < -0.99
    assert curves['fused'][-1] == pytest.approx(1.0)
    assert metrics['completion'] == 'success'


def test_evaluation_rejects_one_frame(make_episode):
    with pytest.raises(ValueError, match='at least two are needed'):
        evaluate_episode(PixelBaselineGRM(), make_episode(num_frames=1))
