# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import math

from hypothesis import given, strategies as st
import pytest
from robodopamine_ros.reward.shaping import (discounted_sum, gamma_from_period, relabel, shape,
                                             shape_episode, ShapingConfig)

progress_values = st.floats(0.0, 1.0, allow_nan=False)
gammas = st.floats(0.5, 1.0, allow_nan=False)


def test_gamma_from_period():
    assert gamma_from_period(0.1, 0.2020270731751944) == pytest.approx(0.98)
    assert ShapingConfig.from_period(0.1, 0.0).gamma == 1.0
    with pytest.raises(ValueError, match='control period'):
        gamma_from_period(0.0, 1.0)
    with pytest.raises(ValueError, match='lambda'):
        gamma_from_period(0.1, -1.0)


@pytest.mark.parametrize('gamma', [0.0, -0.5, 1.01, math.nan, '0.9'])
def test_bad_gamma_rejected(gamma):
    with pytest.raises(ValueError, match='gamma must be in'):
        ShapingConfig(gamma=gamma)


def test_step_formula():
    config = ShapingConfig(gamma=0.9, success_delta=0.05)
    step = shape(0.2, 0.5, config)
    assert step.sparse_reward == 0.0
    assert step.reward == pytest.approx(0.9 * 0.5 - 0.2)
    assert not step.terminal
    # success: r_gold = 1, terminal, absorbing potential 0
    step = shape(0.9, 0.96, config)
    assert step.sparse_reward == 1.0 and step.terminal
    assert step.shaping == pytest.approx(-0.9)
    assert step.reward == pytest.approx(1.0 - 0.9)
    # keeping the potential at the terminal step
    keep = ShapingConfig(gamma=0.9, terminal_potential_zero=False)
    assert shape(0.9, 0.96, keep).shaping == pytest.approx(0.9 * 0.96 - 0.9)
    # a truncated step keeps Phi(s') and is never terminal
    step = shape(0.2, 0.97, config, truncated=True)
    assert step.truncated and not step.terminal
    assert step.shaping == pytest.approx(0.9 * 0.97 - 0.2)
    with pytest.raises(ValueError, match='progress_after must be a progress in'):
        shape(0.2, 1.2, config)


@given(st.lists(progress_values, min_size=2, max_size=80), gammas)
def test_shaping_telescopes_on_truncation(progress, gamma):
    # success never reached (delta = 0 and terminate only when Phi >= 1): clip below 1
    progress = [min(p, 0.999) for p in progress]
    config = ShapingConfig(gamma=gamma, success_delta=0.0)
    steps = shape_episode(progress, config, truncated_at_end=True)
    assert len(steps) == len(progress) - 1 and steps[-1].truncated
    total = discounted_sum([s.shaping for s in steps], gamma)
    expected = gamma ** len(steps) * progress[-1] - progress[0]
    assert total == pytest.approx(expected, abs=1e-9)


@given(st.lists(st.floats(0.0, 0.9, allow_nan=False), min_size=1, max_size=80),
       progress_values, gammas)
def test_shaping_sums_to_minus_phi0_with_terminal_potential(progress, final, gamma):
    progress = progress + [0.96 + 0.04 * final]  # ends in success
    config = ShapingConfig(gamma=gamma)
    steps = shape_episode(progress, config)
    assert steps[-1].terminal and len(steps) == len(progress) - 1
    total = discounted_sum([s.shaping for s in steps], gamma)
    assert total == pytest.approx(-progress[0], abs=1e-9)


def test_episode_ends_at_first_success():
    steps = shape_episode([0.0, 0.5, 0.97, 0.4, 0.99], ShapingConfig())
    assert len(steps) == 2 and steps[-1].terminal
    no_stop = ShapingConfig(terminate_on_success=False)
    steps = shape_episode([0.0, 0.5, 0.97, 0.4, 0.99], no_stop)
    assert [s.sparse_reward for s in steps] == [0.0, 1.0, 0.0, 1.0]
    assert steps[-1].truncated and not any(s.terminal for s in steps)


def test_relabel_with_new_settings():
    logged = shape_episode([0.0, 0.3, 0.6, 0.93, 0.97], ShapingConfig(gamma=0.98))
    assert len(logged) == 4 and logged[-1].terminal
    # stricter success: the episode no longer succeeds, its last step becomes a truncation
    strict = relabel(logged, ShapingConfig(gamma=0.98, success_delta=0.01))
    assert len(strict) == 4 and strict[-1].truncated and not strict[-1].terminal
    assert strict[-1].sparse_reward == 0.0
    # looser success: it ends one step earlier
    loose = relabel(logged, ShapingConfig(gamma=0.9, success_delta=0.1))
    assert len(loose) == 3 and loose[-1].terminal and loose[-1].gamma == 0.9
    assert loose[0].reward == pytest.approx(0.9 * 0.3 - 0.0)
    broken = [logged[0], logged[2]]
    with pytest.raises(ValueError, match='logged step 1: progress_before'):
        relabel(broken, ShapingConfig())
    with pytest.raises(ValueError, match='empty'):
        relabel([], ShapingConfig())


def test_reward_stepper_chains_progress_at_control_rate():
    from robodopamine_ros.reward.shaping import RewardStepper
    stepper = RewardStepper(ShapingConfig(gamma=0.9))
    stepper.start_episode(4)
    observed = [None, 0.2, None, None, 0.5, float('nan'), 0.97]  # GRM slower than control
    steps = []
    for value in observed:
        if value is not None:
            stepper.observe(value)
        result = stepper.tick()
        if result is None:
            break
        steps.append(result)
    assert [i for i, _ in steps] == list(range(len(steps)))
    rewards = [r for _, r in steps]
    assert rewards[0].progress_before == 0.0 and rewards[0].progress_after == 0.0
    for a, b in zip(rewards, rewards[1:]):
        assert b.progress_before == a.progress_after       # the chain never breaks
    assert rewards[-1].terminal and rewards[-1].progress_after == 0.97
    assert stepper.tick() is None                          # episode over until restarted
    total = discounted_sum([r.shaping for r in rewards], 0.9)
    assert total == pytest.approx(0.0 - 0.0)               # -Phi(s_0) with Phi(s_0) = 0
    stepper.start_episode(5)
    assert stepper.tick()[1].progress_before == 0.0


def test_reward_stepper_truncates_at_max_steps():
    from robodopamine_ros.reward.shaping import RewardStepper
    stepper = RewardStepper(ShapingConfig(), max_steps=3)
    stepper.observe(0.4)
    results = [stepper.tick() for _ in range(4)]
    assert results[3] is None and results[2][1].truncated and not results[2][1].terminal
    with pytest.raises(ValueError, match='max_steps'):
        RewardStepper(ShapingConfig(), max_steps=-1)


def test_config_from_node_settings():
    assert ShapingConfig.from_settings(0.1, gamma=0.9).gamma == 0.9
    derived = ShapingConfig.from_settings(0.1, gamma=0.9, discount_rate=0.2020270731751944)
    assert derived.gamma == pytest.approx(0.98)
    with pytest.raises(ValueError, match='control_period must be > 0'):
        ShapingConfig.from_settings(-0.1)


def test_no_fresh_progress_no_reward():
    """Issue 29 item 6: no reward while the newest progress is older than progress_timeout."""
    from robodopamine_ros.reward.shaping import RewardStepper
    stepper = RewardStepper(ShapingConfig(gamma=0.9), max_steps=0, progress_timeout=0.3)
    stepper.start_episode(4)
    assert stepper.tick(0.0) is None                      # no progress yet in this episode
    assert stepper.paused(0.0) is None        # no episode runs yet: nothing to report
    stepper.observe(0.2, now=0.0, stamp='t0')
    first = stepper.tick(0.1)
    assert first[0] == 0 and stepper.progress_stamp == 't0'
    assert stepper.tick(0.3)[0] == 1                      # 0.3 s old: still fresh
    for now in (0.4, 0.5, 3.0):                            # a wrist camera went silent
        assert stepper.tick(now) is None
    assert stepper.paused(3.0).startswith('progress stale for 3.00 s')
    stepper.observe(0.6, now=3.05, stamp='t1')
    index, step = stepper.tick(3.1)
    assert index == 2 and stepper.paused(3.1) is None     # no step was counted in the gap
    assert step.progress_before == pytest.approx(0.2) and step.progress_after == \
        pytest.approx(0.6)
    assert stepper.tick(2.0) is None                       # a clock that ran backward: stale
    with pytest.raises(ValueError, match='progress_timeout'):
        RewardStepper(progress_timeout=0.0)
    assert RewardStepper().tick(100.0) is not None         # no timeout: as before
