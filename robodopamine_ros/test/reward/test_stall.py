# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The stall rule: its window, its gain, its refusals, and the scripted operator's use of it."""

import numpy as np
import pytest
from robodopamine_ros.reward.stall import StallConfig, StallDetector
from robodopamine_ros.rl.outcomes import OperatorConfig, ScriptedOperator


def test_stalled_once_the_window_passed_without_the_gain():
    stall = StallDetector(StallConfig(window=1.0, min_gain=0.1))
    times = [round(0.1 * k, 1) for k in range(25)]
    progress = [0.0] * 12 + [0.05 * k for k in range(1, 14)]   # still, then rising 0.5 / s
    flags = [stall.update(t, p) for t, p in zip(times, progress)]
    assert flags[:10] == [False] * 10          # t < 1.0 s: too early to tell
    assert flags[10:13] == [True] * 3          # 1.0-1.2 s: no gain over the last second
    # rising 0.05 per 0.1 s: over one second the gain passes 0.1 within two samples
    assert flags[14:] == [False] * len(flags[14:])
    assert stall.update(0.5, 0.0) is False     # a sample from the past changes nothing
    assert stall.update(2.5, float('nan')) is False   # NaN is not a sample
    stall.restart()
    assert stall.update(10.0, 0.9) is False and stall.update(11.0, 0.9) is True


@pytest.mark.parametrize('config, expected', [
    ({'window': 0}, 'stall window must be a number > 0'),
    ({'window': float('inf')}, 'stall window must be a number > 0'),
    ({'min_gain': float('nan')}, 'stall min_gain must be a finite'),
])
def test_a_bad_stall_setting_is_refused(config, expected):
    with pytest.raises(ValueError, match=expected):
        StallConfig(**config)


def old_operator_rule(progress, stall_steps, min_gain, takeover_steps):
    """Return the scripted operator's takeovers by its rule before it was shared."""
    history, remaining, acts = [], 0, []
    for p in progress:
        history.append(p)
        if remaining > 0:
            remaining -= 1
            acts.append(True)
        elif len(history) > stall_steps and p - history[-1 - stall_steps] < min_gain:
            remaining, history = takeover_steps - 1, []
            acts.append(True)
        else:
            acts.append(False)
    return acts


@pytest.mark.parametrize('seed', range(5))
def test_the_scripted_operator_takes_over_exactly_as_before_the_rule_was_shared(seed):
    rng = np.random.default_rng(seed)
    progress = np.clip(np.cumsum(rng.normal(0.004, 0.02, 300)), 0, 1).tolist()
    config = OperatorConfig(stall_steps=int(rng.integers(3, 30)), min_gain=0.05,
                            takeover_steps=int(rng.integers(1, 20)))
    operator = ScriptedOperator(config)
    acts = [operator.should_take_over(p) for p in progress]
    assert acts == old_operator_rule(progress, config.stall_steps, config.min_gain,
                                     config.takeover_steps)
    assert operator.takeovers > 0   # the comparison saw takeovers


def test_the_operator_hears_each_stall_once_and_its_end():
    from robodopamine_ros.reward.stall import StallEdges

    edges = StallEdges()
    heard = [edges.update(e, f) for e, f in [(1, False), (1, True), (1, True), (1, False),
                                             (1, True), (2, False), (3, True), (4, True)]]
    assert heard == [None, 'stuck', None, 'moving', 'stuck', 'moving', 'stuck', 'stuck']
