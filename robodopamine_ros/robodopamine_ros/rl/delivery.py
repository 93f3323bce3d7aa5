# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Episodes from actors to a learner, none lost and none stored twice.

The actor sends at least once, the learner stores at most once:

- ``Outbox`` (the actor's side): each finished episode, packed (rl/wire.py), is written to a
  folder before it is sent and removed when the learner acknowledges it; unacknowledged ones
  are sent again, oldest first, when the learner answers again (after a restart of either). It
  holds at most ``capacity`` episodes: a full outbox refuses another (``OutboxFull``), and the
  actor then holds instead of starting an episode whose data would have nowhere to go.
- ``Inbox`` (the learner's side): an episode is journaled (written to a folder) before it is
  acknowledged, so an acknowledged episode survives kill -9. Its uid is looked up first: one
  already journaled, or already folded into the checkpoint (``ledger``, the uids the
  checkpoint's buffers hold, saved with them), is a duplicate, acknowledged and not stored
  again. At start the journal's episodes that the checkpoint does not hold are replayed into
  the buffers; after a checkpoint the journal entries it holds are removed.

Every file is written beside its place and renamed in (data/atomic.py).
"""

from pathlib import Path
import re

from robodopamine_ros.data.atomic import atomic_path

SUFFIX = '.episode'
REFUSED = 'refused'   # the outbox's sub-folder of episodes the learner refused
_NAME = re.compile(r'^(\d{10})_([0-9a-f]{32})\.episode$')


class OutboxFull(RuntimeError):
    """The outbox holds `capacity` unacknowledged episodes."""


def _entries(folder):
    """Return {uid: path} of a folder's episode files, oldest (lowest number) first."""
    found = []
    for path in Path(folder).iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), match.group(2), path))
    return {uid: path for _, uid, path in sorted(found)}


class _Folder:
    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.entries = _entries(self.folder)
        numbers = [int(p.name[:10]) for p in self.entries.values()]
        self._next = max(numbers, default=0) + 1

    def _write(self, uid, data):
        if not re.fullmatch(r'[0-9a-f]{32}', uid):
            raise ValueError(f'episode uid {uid!r} is not 32 hex digits')
        path = self.folder / f'{self._next:010d}_{uid}{SUFFIX}'
        with atomic_path(path) as tmp:
            tmp.write_bytes(bytes(data))
        self._next += 1
        self.entries[uid] = path
        return path

    def _remove(self, uid):
        path = self.entries.pop(uid, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def __len__(self):
        return len(self.entries)


class Outbox(_Folder):
    """An actor's unacknowledged episodes on disk (module docstring); at most `capacity`."""

    def __init__(self, folder, capacity=100):
        if capacity < 1:
            raise ValueError(f'outbox capacity must be >= 1 episode, got {capacity}')
        super().__init__(folder)
        self.capacity = capacity

    @property
    def full(self):
        return len(self) >= self.capacity

    def put(self, uid, data):
        """Keep an episode until it is acknowledged; OutboxFull when `capacity` are waiting."""
        if self.full:
            raise OutboxFull(f'{self.folder}: {len(self)} episodes wait for the learner '
                             f'(capacity {self.capacity})')
        return self._write(uid, data)

    def pending(self):
        """Return [(uid, bytes)] of the waiting episodes, oldest first."""
        return [(uid, path.read_bytes()) for uid, path in self.entries.items()]

    def acknowledge(self, uid):
        """Forget an episode the learner has (an unknown uid is ignored: a late second ack)."""
        self._remove(uid)

    def set_aside(self, uid):
        """Move an episode the learner refused to <folder>/refused: kept, never sent again."""
        path = self.entries.pop(uid, None)
        if path is not None and path.exists():
            (self.folder / REFUSED).mkdir(exist_ok=True)
            path.replace(self.folder / REFUSED / path.name)


class Inbox(_Folder):
    """
    A learner's journal of received episodes (module docstring).

    ledger: the uids its checkpoint's buffers already hold (an iterable; empty at a first
    start). Journal entries the ledger names are removed at once: the checkpoint has them.
    """

    def __init__(self, folder, ledger=()):
        super().__init__(folder)
        self.ledger = set(ledger)
        for uid in [u for u in self.entries if u in self.ledger]:
            self._remove(uid)

    def receive(self, uid, data):
        """Journal an episode; returns False for a duplicate (journaled or checkpointed)."""
        if uid in self.ledger or uid in self.entries:
            return False
        self._write(uid, data)
        return True

    def unsaved(self):
        """Return [(uid, bytes)] of the journaled episodes no checkpoint holds, in order."""
        return [(uid, path.read_bytes()) for uid, path in self.entries.items()]

    def saved(self, uids):
        """Move uids a checkpoint now holds into the ledger, out of the journal."""
        for uid in uids:
            self.ledger.add(uid)
            self._remove(uid)
