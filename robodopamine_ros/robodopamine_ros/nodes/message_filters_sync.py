# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
message_filters.ApproximateTimeSynchronizer behind sync.ApproximateTimeSynchronizer's interface.

grm_node synchronizes its cameras with message_filters (every ROS installation has it) and
falls back to the ROS-free robodopamine_ros.data.sync only where it cannot be imported. Either one
sits under sync.LiveSynchronizer, which handles the stamp jumps: on a jump back it calls
reset(), which here builds a new message_filters synchronizer. (message_filters keeps no stamp
order: after a jump back its full queues evict every new item, the oldest stamp going first,
and nothing would ever synchronize again.)

Items are handed over with ``add(stream, stamp_ns, item)`` through message_filters.SimpleFilter
inputs, wrapped in a minimal message with ``header.stamp``. Dropped items per stream are counted
as added minus synchronized minus still queued.
"""

from robodopamine_ros.data.sync import check_settings, SyncStats

try:
    import message_filters
    from rclpy.time import Time
except ImportError:  # pragma: no cover - depends on the installation
    message_filters = None

AVAILABLE = message_filters is not None
NAME = 'message_filters' if AVAILABLE else 'robodopamine_ros.data.sync'


class _Header:
    __slots__ = ('stamp',)

    def __init__(self, stamp):
        self.stamp = stamp


class _Stamped:
    """An item with the header.stamp message_filters reads."""

    __slots__ = ('header', 'item', 'stamp_ns')

    def __init__(self, stamp_ns, item):
        self.header = _Header(Time(nanoseconds=stamp_ns))
        self.item, self.stamp_ns = item, stamp_ns


class MessageFiltersSynchronizer:
    """sync.ApproximateTimeSynchronizer's interface over message_filters'."""

    def __init__(self, num_streams, slop, queue_size=30):
        if not AVAILABLE:
            raise ImportError('message_filters is not importable')
        check_settings(num_streams, slop, queue_size)
        self.slop, self.queue_size = slop, queue_size
        self.slop_ns = int(round(slop * 1e9))
        self._callbacks, self._completed = [], []
        self._added = [0] * num_streams
        self._stats = SyncStats(dropped=[0] * num_streams)
        self._build()

    def _build(self):
        self._inputs = [message_filters.SimpleFilter() for _ in self._added]
        self._filter = message_filters.ApproximateTimeSynchronizer(
            self._inputs, self.queue_size, self.slop)
        self._filter.registerCallback(self._on_set)

    def registerCallback(self, callback):  # noqa: N802 - message_filters' name
        """Call callback(*items) for every synchronized set; items are (stamp_ns, item)."""
        self._callbacks.append(callback)

    def add(self, stream, stamp_ns, item):
        """Add one item; returns the sets completed by it (also passed to the callbacks)."""
        self._added[stream] += 1
        if stamp_ns < 0:
            return []  # not a ROS time; counted as dropped
        self._completed = []
        self._inputs[stream].signalMessage(_Stamped(stamp_ns, item))
        return self._completed

    def reset(self):
        """Forget every queued item (counted as dropped): a new message_filters synchronizer."""
        self._build()

    @property
    def stats(self):
        """Return SyncStats (emitted sets, dropped items per stream, worst span)."""
        emitted = self._stats.emitted
        self._stats.dropped = [added - emitted - len(queue) for added, queue in
                               zip(self._added, self._filter.queues)]
        return self._stats

    def _on_set(self, *messages):
        items = tuple((m.stamp_ns, m.item) for m in messages)
        stamps = [stamp for stamp, _ in items]
        self._stats.emitted += 1
        self._stats.worst_skew_ns = max(self._stats.worst_skew_ns, max(stamps) - min(stamps))
        self._completed.append(items)
        for callback in self._callbacks:
            callback(*items)


def camera_synchronizer():
    """Return (synchronizer class for grm.online, its name): message_filters' when importable."""
    return (MessageFiltersSynchronizer, NAME) if AVAILABLE else (None, NAME)
