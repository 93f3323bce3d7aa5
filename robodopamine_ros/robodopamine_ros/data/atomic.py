# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Write-then-rename: a file appears under its final name complete, or not at all.

``atomic_path(path)`` yields a temporary path in the same folder; when the block ends without
an exception the temporary file is flushed to disk (fsync), renamed over ``path`` and the
folder entry is synced, so neither a crash (kill -9) nor a power loss can leave a truncated or
empty file under the final name: the previous file stays readable until the rename. On an
exception the temporary file is removed and ``path`` is untouched.

The file gets the mode an ordinary ``open(path, 'w')`` would give it (0666 less the process's
umask, typically 0644), not mkstemp's 0600: a model or checkpoint written here is readable by
another user (a GPU box running under another uid) whenever the user's umask allows it.

A writer killed mid-write (kill -9, out of memory) cannot remove its temporary file; the next
write of the same path does (``remove_stale``): the temporary name carries the writer's process
id (``.<name>.<pid>.<random>.tmp``), and files of a process that no longer runs go, as do those
of the older naming (no process id) that are over STALE_AGE_S old.
"""

from contextlib import contextmanager
import os
from pathlib import Path
import tempfile
import time

STALE_AGE_S = 3600.0   # s: a temporary file without a process id is stale after this long


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True   # another user's process
    return True


def remove_stale(path):
    """Remove the temporary files that killed writers of `path` left; return their paths."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f'.{path.name}.*.tmp'):
        middle = tmp.name[len(path.name) + 2:-len('.tmp')]
        pid = middle.split('.', 1)[0]
        try:
            stale = not _running(int(pid)) if '.' in middle and pid.isdigit() \
                else time.time() - tmp.stat().st_mtime > STALE_AGE_S
            if stale:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            continue   # gone meanwhile, or not ours to remove
    return removed


def umask():
    """Return the umask of this process (from /proc where possible: no change, thread-safe)."""
    try:
        with open('/proc/self/status') as stream:
            for line in stream:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)   # elsewhere: the only portable way is to set it and restore it
    os.umask(current)
    return current


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
    remove_stale(path)
    handle, tmp = tempfile.mkstemp(prefix=f'.{path.name}.{os.getpid()}.', suffix='.tmp',
                                   dir=path.parent)
    os.close(handle)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~umask())   # what the writer made of mkstemp's 0600 file
        fsync_path(tmp)
        os.replace(tmp, path)
        fsync_path(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
