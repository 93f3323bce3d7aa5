# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import math

import numpy as np
import pytest
from robodopamine_ros.reward.metrics import (classify_completion, completion_accuracy, FAIL,
                                             PARTIAL, spearman, SUCCESS, voc)


def test_voc_orders():
    rising = np.linspace(0, 1, 20)
    assert voc(rising) == pytest.approx(1.0)
    assert voc(rising[::-1]) == pytest.approx(-1.0)
    assert voc(np.full(10, 0.5)) == 0.0  # constant: NaN counts as 0
    assert voc([0.0, math.nan, 1.0]) == 0.0
    assert voc([0.1, 0.3, 0.2, 0.4]) == pytest.approx(0.8)
    assert voc([0.1, 0.2, 0.3], frame_ids=[30, 10, 20]) == pytest.approx(-0.5)
    with pytest.raises(ValueError, match='at least two'):
        voc([0.3])


def test_spearman_with_ties_matches_pearson_of_average_ranks():
    x = [1, 2, 2, 3, 4]
    y = [0.1, 0.5, 0.5, 0.2, 0.9]
    rx = np.array([0, 1.5, 1.5, 3, 4])
    ry = np.array([0, 2.5, 2.5, 1, 4])
    assert spearman(x, y) == pytest.approx(np.corrcoef(rx, ry)[0, 1])


def test_completion_classes():
    assert classify_completion([0.1, 0.5, 0.7, 0.85, 0.9, 0.95]) == SUCCESS
    # final value high but the last third low on average: not a success
    assert classify_completion([0.5, 0.5, 0.5, 0.4, 0.3, 0.81]) == PARTIAL
    assert classify_completion([0.3, 0.4, 0.5, 0.5, 0.45, 0.5]) == PARTIAL
    assert classify_completion([0.0, 0.1, 0.2, 0.1, 0.1, 0.2]) == FAIL
    with pytest.raises(ValueError, match='empty'):
        classify_completion([])


def test_completion_accuracy():
    rollouts = [[0.2, 0.9, 0.95], [0.1, 0.1, 0.1], [0.5, 0.5, 0.5]]
    accuracy, confusion = completion_accuracy(rollouts, [SUCCESS, FAIL, FAIL])
    assert accuracy == pytest.approx(2 / 3)
    assert confusion[FAIL][PARTIAL] == 1 and confusion[SUCCESS][SUCCESS] == 1
    with pytest.raises(ValueError, match="rollout 0: label 'ok'"):
        completion_accuracy(rollouts[:1], ['ok'])
