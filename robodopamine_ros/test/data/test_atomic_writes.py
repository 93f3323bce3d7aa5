# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Atomic writes give files the mode of the user's umask, not mkstemp's 0600.

A GRM adapted on one machine is read by a GPU box running under another uid: model.safetensors,
the reference PNGs, checkpoint.pt and annotated_keyframes.json must be readable there whenever
the user's umask allows it (and stay private when it does not).
"""

from contextlib import contextmanager
import os
import stat

import numpy as np
import pytest
from robodopamine_ros.data.atomic import atomic_path, umask
from robodopamine_ros.data.keyframes import save_keyframes, Segment


@contextmanager
def process_umask(mask):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize('mask, expected', [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_an_atomic_write_has_the_mode_of_the_umask(tmp_path, mask, expected):
    with process_umask(mask):
        assert umask() == mask
        with atomic_path(tmp_path / 'file.bin') as tmp:
            tmp.write_bytes(b'data')
        plain = tmp_path / 'plain.bin'   # what open() gives under the same umask
        plain.write_bytes(b'data')
    assert mode(tmp_path / 'file.bin') == expected == mode(plain)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['file.bin', 'plain.bin']


def test_the_saved_model_checkpoint_and_keyframes_are_readable_by_others(tmp_path):
    from robodopamine_ros.grm.compact import CompactGRM, REFERENCE_FILES, WEIGHTS_FILE
    from robodopamine_ros.rl.acting import CHECKPOINT_FILE, Learner
    from robodopamine_ros.rl.agents import AgentConfig

    image = np.zeros((24, 32, 3), np.uint8)
    with process_umask(0o022):
        CompactGRM.create().save(tmp_path / 'grm', references=(image, image))
        Learner(AgentConfig(hidden=(8, 8), batch_size=4), {'state': (3,)}, capacity=10) \
            .save(tmp_path / 'ckpt')
        save_keyframes(tmp_path / 'annotated_keyframes.json',
                       [Segment(0, 5, 'reach'), Segment(5, 9, 'insert')])
    written = [tmp_path / 'grm' / WEIGHTS_FILE, *(tmp_path / 'grm' / n for n in REFERENCE_FILES),
               tmp_path / 'ckpt' / CHECKPOINT_FILE, tmp_path / 'annotated_keyframes.json']
    assert {p.name: oct(mode(p)) for p in written} == {p.name: '0o644' for p in written}
    assert mode(tmp_path / 'grm') == 0o755
