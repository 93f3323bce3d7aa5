# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the learner's tests."""

import numpy as np
import pytest
from robodopamine_ros.grm.compact import CompactGRM


@pytest.fixture(scope='module')
def grm_dir(tmp_path_factory):
    """Write a compact GRM folder (random weights, black and grey references)."""
    folder = tmp_path_factory.mktemp('grm') / 'compact'
    refs = [np.zeros((48, 64, 3), np.uint8), np.full((48, 64, 3), 200, np.uint8)]
    CompactGRM.create(task='insert the peg').save(folder, refs)
    return folder
