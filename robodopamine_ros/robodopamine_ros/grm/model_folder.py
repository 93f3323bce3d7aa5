# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A GRM model folder is replaced whole: the new one is written beside it, then swapped in.

``replace_folder(folder)`` yields an empty temporary folder next to ``folder``. When the block
ends without an exception, the entries of ``folder`` that the block did not write (reports,
plots) are carried over (hard links, else copies; ``keep_others=False`` drops them), everything
is flushed to disk, and the new folder takes the place of the old one in one rename(2) with
RENAME_EXCHANGE (Linux 3.15+): a reader, or a process killed at any moment (kill -9; after the
sync, a power loss too), sees the whole previous model or the whole new one, never config.json
of one and weights of the other. On an exception ``folder`` is untouched.

Where the exchange is not available (another OS, or a filesystem without it) the swap takes two
renames; a process killed between them leaves the previous model at ``.<name>.previous``, and
``interrupted_save_hint`` says so for the "no such model folder" error. Temporary folders of a
killed save (``.<name>.saving-*``) are removed by the next save into the same folder.
"""

from contextlib import contextmanager
import ctypes
import errno
import os
from pathlib import Path
import shutil
import tempfile

from robodopamine_ros.data.atomic import fsync_path, umask

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a, b):
    """Swap two paths atomically; False where the platform or filesystem cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, f'cannot swap {b} with its new version: {os.strerror(code)}')


def _sync_tree(folder):
    for root, _, files in os.walk(folder):
        for name in files:
            fsync_path(Path(root) / name)
        fsync_path(root)


def _umask_modes(folder):
    """Give every file written into folder the mode of the user's umask (data.atomic)."""
    for root, _, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                os.chmod(path, 0o666 & ~umask())


def _carry_over(old, new):
    """Link (else copy) the entries of old that new does not have into new."""
    for entry in old.iterdir():
        target = new / entry.name
        if target.exists() or target.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(entry, target)


def _link_or_copy(source, target):
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, target, follow_symlinks=False)
    return target


def interrupted_save_hint(folder):
    """Return a sentence naming the previous model left by an interrupted swap, or ''."""
    folder = Path(folder)
    previous = folder.with_name(f'.{folder.name}.previous')
    if not folder.exists() and previous.is_dir():
        return (f' (a save into it was interrupted; the previous model is at {previous}: '
                f'rename it to {folder.name})')
    return ''


@contextmanager
def replace_folder(folder, keep_others=True):
    """
    Yield an empty temporary folder (Path); on success it replaces `folder` atomically.

    folder may not exist yet. keep_others: carry over the entries of the old folder that the
    block did not write. Raises NotADirectoryError when folder exists and is not a folder.
    """
    folder = Path(folder).resolve()
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f'{folder}: exists and is not a folder')
    folder.parent.mkdir(parents=True, exist_ok=True)
    for stale in folder.parent.glob(f'.{folder.name}.saving-*'):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f'.{folder.name}.saving-', dir=folder.parent))
    try:
        yield tmp
        _umask_modes(tmp)   # safetensors writes 0600; others must read the model (data.atomic)
        if keep_others and folder.is_dir():
            _carry_over(folder, tmp)
        os.chmod(tmp, folder.stat().st_mode & 0o7777 if folder.is_dir() else 0o777 & ~umask())
        _sync_tree(tmp)
        if not folder.exists():
            os.replace(tmp, folder)
        elif not _exchange(tmp, folder):
            previous = folder.with_name(f'.{folder.name}.previous')
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(folder, previous)
            os.replace(tmp, folder)
            shutil.rmtree(previous, ignore_errors=True)
        fsync_path(folder.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)   # the old folder after a swap, or a failed one
