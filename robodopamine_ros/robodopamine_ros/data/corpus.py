# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The GRM pre-training corpus on disk: one folder per task, one compressed .npz per episode.

sim/corpus.py writes it (from the simulator), grm/pretrain.py reads it; this module is the
format between them. A task folder holds references.npz (start, end: H x W x 3 uint8), one
``layout<k>_<behaviour>.npz`` per episode (views: T x 3 x H x W x 3 uint8, progress: T float,
success: bool) and done.json once finished; the corpus folder holds manifest.json.
"""

from pathlib import Path

import numpy as np

from robodopamine_ros.data.atomic import atomic_path

FORMAT = 'robodopamine-grm-corpus'
FORMAT_VERSION = 1


def task_folder(corpus, name, source='corpus.json'):
    """
    Return the folder of task `name` inside the corpus folder.

    A task name is one folder name: a name that is not a non-empty string, holds a path
    separator or a NUL, or is '.' or '..' is refused (ValueError naming `source`): a manifest
    never points outside its corpus.
    """
    if not isinstance(name, str) or not name or name in ('.', '..') \
            or any(c in name for c in ('/', '\\', '\0')):
        raise ValueError(f'{source}: task name {name!r} is not a folder name (no path '
                         'separators, not . or ..)')
    return Path(corpus) / name


def save_arrays(path, **arrays):
    """Write arrays as one compressed .npz file, atomically (data.atomic)."""
    with atomic_path(path) as tmp:
        with open(tmp, 'wb') as stream:
            np.savez_compressed(stream, **arrays)


def load_task(folder):
    """
    Return (references (2, H, W, 3) uint8, [(views, progress, success), ...]) of a task folder.

    Raises ValueError naming the folder when it is incomplete (no done.json) or a file lacks
    a field.
    """
    folder = Path(folder)
    if not (folder / 'done.json').is_file():
        raise ValueError(f'{folder}: not a finished corpus task (no done.json)')
    with np.load(folder / 'references.npz') as refs:
        references = np.stack([refs['start'], refs['end']])
    episodes = []
    for path in sorted(folder.glob('layout*_*.npz')):
        with np.load(path) as data:
            missing = [k for k in ('views', 'progress', 'success') if k not in data.files]
            if missing:
                raise ValueError(f'{path}: missing {", ".join(missing)}')
            episodes.append((data['views'], data['progress'], bool(data['success'])))
    return references, episodes
