# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by both tiers: the real example data beside the repository."""

import os
from pathlib import Path

import pytest

# Offscreen MuJoCo rendering for the simulated robot (Mesa's EGL runs without a GPU).
os.environ.setdefault('MUJOCO_GL', 'egl')

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


@pytest.fixture
def make_episode():
    """Return a factory of small synthetic episodes with distinct, moving views."""
    import numpy as np
    from robodopamine_ros.data.episode import Episode, Stream
    from robodopamine_ros.data.topics import VIEWS

    def factory(num_frames=12, size=(16, 12), period_ns=33_333_333, start_ns=1_700_000_000 * 10**9,
                streams=True, episode_id='synthetic'):
        rng = np.random.default_rng(0)
        width, height = size
        stamps = start_ns + np.arange(num_frames, dtype=np.int64) * period_ns
        views = {}
        for k, view in enumerate(VIEWS):
            frames = rng.integers(0, 256, size=(num_frames, height, width, 3), dtype=np.uint8)
            frames[:, :, :, k] = (np.arange(num_frames) * 20 % 256)[:, None, None]
            views[view] = frames
        extra = {}
        if streams:
            extra = {
                'joint_positions': Stream(stamps, rng.normal(size=(num_frames, 7))),
                'ee_pose': Stream(stamps, np.tile([0.4, 0.0, 0.3, 0, 0, 0, 1.0],
                                                  (num_frames, 1))),
                'action': Stream(stamps, rng.uniform(-1, 1, size=(num_frames, 4))),
                'intervention': Stream(stamps, np.arange(num_frames) % 3 == 0),
            }
        return Episode(episode_id=episode_id, stamps=stamps, views=views, streams=extra,
                       joint_names=tuple(f'fr3_joint{i + 1}' for i in range(7)) if streams
                       else ())
    return factory
