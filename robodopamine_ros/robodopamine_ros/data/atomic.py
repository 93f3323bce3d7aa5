# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Write-then-rename: a file appears under its final name complete, or not at all.

``atomic_path(path)`` yields a temporary path in the same folder; when the block ends without
an exception the temporary file is flushed to disk (fsync), renamed over ``path`` and the
folder entry is synced, so neither a crash (kill -9) nor a power loss can leave a truncated or
empty file under the final name: the previous file stays readable until the rename. On an
exception the temporary file is removed and ``path`` is untouched.
"""

from contextlib import contextmanager
import os
from pathlib import Path
import tempfile


def fsync_path(path):
    """Flush a file's (or a folder's) contents and metadata to disk."""
    flags = os.O_RDONLY | (os.O_DIRECTORY if Path(path).is_dir() else 0)
    handle = os.open(path, flags)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


@contextmanager
def atomic_path(path):
    """Yield a temporary Path next to `path`; on success it is synced and renamed to `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix='.tmp', dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
