# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The safety layer: no action leaves it outside its limits, whatever goes in."""

from hypothesis import given, settings, strategies as st
import numpy as np
import pytest
from robodopamine_ros.robot.safety import SafetyConfig, SafetyLayer

CONFIG = SafetyConfig(action_scale=(2.0, 1.0, 0.5), max_velocity=(0.05, 0.1, 0.2),
                      control_period=0.1, meters_per_unit=0.01,
                      workspace_low=(-0.2, 0.4, 0.05), workspace_high=(0.2, 0.8, 0.3))
LIMIT = np.array([0.5, 1.0, 1.0])  # velocity * period / meters_per_unit, capped at 1
LOW, HIGH = np.array(CONFIG.workspace_low), np.array(CONFIG.workspace_high)

anything = st.floats(allow_nan=True, allow_infinity=True, width=64)
positions = st.tuples(*(st.floats(-1.0, 1.5) for _ in range(3)))


def check(action, position, safe):
    assert safe.shape == (4,) and np.all(np.isfinite(safe))
    assert np.all(np.abs(safe[:3]) <= LIMIT + 1e-12)
    assert -1.0 <= safe[3] <= 1.0
    position = np.asarray(position)
    after = position + safe[:3] * CONFIG.meters_per_unit
    inside = (position >= LOW) & (position <= HIGH)
    # inside the box: the step ends inside; outside: it never moves further out
    assert np.all(~inside | ((after >= LOW - 1e-12) & (after <= HIGH + 1e-12)))
    assert np.all(inside | (np.abs(np.clip(after, LOW, HIGH) - after)
                            <= np.abs(np.clip(position, LOW, HIGH) - position) + 1e-12))


@settings(max_examples=400, deadline=None)
@given(st.tuples(anything, anything, anything, anything), positions)
def test_random_and_adversarial_actions_never_exceed_limits(action, position):
    layer = SafetyLayer(CONFIG)
    safe, _ = layer(np.array(action), position)
    check(action, position, safe)


def test_non_finite_action_is_a_stop_that_holds_the_gripper():
    layer = SafetyLayer(CONFIG)
    layer([0.1, 0.1, 0.1, 0.7], [0.0, 0.6, 0.1])
    safe, changed = layer([np.nan, 0.0, 0.0, -1.0], [0.0, 0.6, 0.1])
    assert safe.tolist() == [0.0, 0.0, 0.0, 0.7] and changed == ['non-finite: stop']
    safe, _ = layer([0.0, np.inf, 0.0, 0.0], None)
    assert safe.tolist() == [0.0, 0.0, 0.0, 0.7]


def test_scaling_velocity_and_workspace_each_apply():
    layer = SafetyLayer(CONFIG)
    safe, changed = layer([0.2, 0.3, 0.9, 0.0], [0.0, 0.6, 0.1])
    np.testing.assert_allclose(safe, [0.4, 0.3, 0.45, 0.0])  # scaled, inside every limit
    assert changed == []
    safe, changed = layer([0.9, 0.0, 0.0, 0.0], [0.0, 0.6, 0.1])
    assert safe[0] == pytest.approx(0.5) and 'velocity' in changed  # 2 x 0.9 -> 1 -> 0.5
    safe, changed = layer([0.0, 1.0, 0.0, 0.0], [0.0, 0.795, 0.1])  # 5 mm from the wall
    assert safe[1] == pytest.approx(0.5) and 'workspace' in changed
    safe, changed = layer([0.0, 1.0, -1.0, 0.0], [0.0, 0.9, 0.1])  # outside: only back in
    assert safe[1] == 0.0 and safe[2] == pytest.approx(-0.5)
    safe, _ = layer([0.0, -1.0, 0.0, 0.0], [0.0, 0.9, 0.1])
    assert safe[1] == pytest.approx(-1.0)


@pytest.mark.parametrize('field, value, message', [
    ('max_velocity', (0.1, 0.0, 0.1), 'max_velocity must be > 0'),
    ('workspace_low', (0.0, 0.9, 0.0), 'must be below workspace_high'),
    ('action_scale', (1.0, float('nan'), 1.0), 'action_scale must be 3 finite numbers'),
])
def test_bad_configuration_is_rejected(field, value, message):
    with pytest.raises(ValueError, match=message):
        SafetyConfig(**{field: value})
