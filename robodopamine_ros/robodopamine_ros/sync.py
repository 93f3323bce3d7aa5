# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Approximate time synchronization of several stamped streams (ROS-free).

The same object serves offline (bag reading) and online (grm_node): its API has the shape of
message_filters' ApproximateTimeSynchronizer (``registerCallback``, a slop, a queue size), but
items are added explicitly with ``add(stream, stamp_ns, item)``.

Rule: each emitted set holds one item per stream and spans at most ``slop`` (max stamp - min
stamp). The pivot is the latest head among the streams (no set can contain an earlier item of
the pivot's stream); every other stream contributes its item closest to the pivot, chosen once
that choice is final (the next item is known, or the item is not before the pivot). Items that
can no longer be part of any set are dropped and counted per stream; a queue over queue_size
drops its oldest item. With jitter well inside the slop and no drops, item k of every stream
lands in set k.
"""

from collections import deque
from dataclasses import dataclass, field


@dataclass
class SyncStats:
    """What the synchronizer did so far."""

    emitted: int = 0
    dropped: list = field(default_factory=list)   # per stream
    worst_skew_ns: int = 0                        # largest span of an emitted set

    def as_dict(self):
        return {'emitted': self.emitted, 'dropped': list(self.dropped),
                'worst_skew_ms': self.worst_skew_ns / 1e6}


class ApproximateTimeSynchronizer:
    """Group items of num_streams streams whose stamps lie within slop seconds."""

    def __init__(self, num_streams, slop, queue_size=30):
        if num_streams < 1:
            raise ValueError(f'num_streams must be >= 1, got {num_streams}')
        if not slop > 0:
            raise ValueError(f'slop must be > 0 seconds, got {slop!r}')
        if queue_size < 2:
            raise ValueError(f'queue_size must be >= 2, got {queue_size}')
        self.slop_ns = int(round(slop * 1e9))
        self.queue_size = queue_size
        self._queues = [deque() for _ in range(num_streams)]
        self._last_stamp = [None] * num_streams
        self._callbacks = []
        self.stats = SyncStats(dropped=[0] * num_streams)

    def registerCallback(self, callback):  # noqa: N802 - message_filters' name
        """Call callback(*items) for every synchronized set, in time order."""
        self._callbacks.append(callback)

    def add(self, stream, stamp_ns, item):
        """
        Add one item; returns the sets completed by it (also passed to the callbacks).

        Items of one stream must come in stamp order; an item not newer than the previous one
        of its stream is dropped (counted).
        """
        last = self._last_stamp[stream]
        if last is not None and stamp_ns <= last:
            self.stats.dropped[stream] += 1
            return []
        self._last_stamp[stream] = stamp_ns
        queue = self._queues[stream]
        queue.append((stamp_ns, item))
        if len(queue) > self.queue_size:
            queue.popleft()
            self.stats.dropped[stream] += 1
        return self._process(final=False)

    def flush(self):
        """End of input: match what can still be matched, drop the rest; return the sets."""
        sets = self._process(final=True)
        for stream, queue in enumerate(self._queues):
            self.stats.dropped[stream] += len(queue)
            queue.clear()
        return sets

    def reset(self):
        """Forget queued items and stamp order (e.g. after a camera restart)."""
        for queue in self._queues:
            queue.clear()
        self._last_stamp = [None] * len(self._queues)

    def _drop_head(self, stream):
        self._queues[stream].popleft()
        self.stats.dropped[stream] += 1

    def _process(self, final):
        sets = []
        queues = self._queues
        while all(queues):
            pivot_stream = max(range(len(queues)), key=lambda s: queues[s][0][0])
            pivot = queues[pivot_stream][0][0]
            changed = waiting = False
            for s, queue in enumerate(queues):
                if s == pivot_stream:
                    continue
                # advance to the item closest to the pivot (ties go to the earlier item)
                while len(queue) >= 2 and abs(queue[1][0] - pivot) < abs(queue[0][0] - pivot):
                    self._drop_head(s)
                    changed = True
                if not (final or len(queue) >= 2 or queue[0][0] >= pivot):
                    waiting = True
            if changed:
                continue  # heads moved: the pivot may have changed
            if waiting:
                break
            heads = [queue[0][0] for queue in queues]
            span = max(heads) - min(heads)
            if span > self.slop_ns:
                # the earliest head cannot join this pivot nor any later one
                self._drop_head(min(range(len(queues)), key=lambda s: queues[s][0][0]))
                continue
            items = tuple(queue.popleft() for queue in queues)
            self.stats.emitted += 1
            self.stats.worst_skew_ns = max(self.stats.worst_skew_ns, span)
            sets.append(items)
            for callback in self._callbacks:
                callback(*items)
        return sets


def synchronize(streams, slop, queue_size=None):
    """
    Offline synchronization of complete streams.

    streams: one sequence of (stamp_ns, item) per stream, each in stamp order. Returns (sets,
    stats) where each set is a tuple of (stamp_ns, item), one per stream.
    """
    longest = max((len(s) for s in streams), default=0)
    sync = ApproximateTimeSynchronizer(len(streams), slop, queue_size or max(longest + 1, 2))
    events = sorted((stamp, s, i) for s, stream in enumerate(streams)
                    for i, (stamp, _) in enumerate(stream))
    sets = []
    for stamp, s, i in events:
        sets.extend(sync.add(s, stamp, streams[s][i][1]))
    sets.extend(sync.flush())
    return sets, sync.stats
