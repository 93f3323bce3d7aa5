# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by both tiers: the real example data beside the repository."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DATA = REPO.parent / 'shared' / 'data' / 'robo_dopamine_example'


@pytest.fixture(scope='session')
def example_task():
    """Return the real three-camera demonstration (task folder) from ../shared/data."""
    if not (EXAMPLE_DATA / 'episode_001' / 'annotated_keyframes.json').is_file():
        pytest.skip(f'real example data not found at {EXAMPLE_DATA} (it lives in shared/ '
                    'beside the repository and is never copied into it)')
    return EXAMPLE_DATA


@pytest.fixture(scope='session')
def example_episode(example_task):
    return example_task / 'episode_001'
