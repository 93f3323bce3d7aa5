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

LiveSynchronizer wraps it for live streams whose clocks can jump (grm_node): a simulator reset,
a bag played in a loop or a restarted camera driver sends stamps back in time, or one camera
comes back on another clock. It resets on such jumps and re-bases a camera whose clock stays
apart from the others', so synchronization never stalls for good.
"""

from collections import deque
from dataclasses import dataclass, field
import math

from robodopamine_ros.data.stamps import StampOrder

# the cameras' synchronization defaults (grm_node, rl_agent_node, reading bags)
CAMERA_SLOP_S = 0.02   # s: views further apart are not one triplet
CAMERA_JUMP_S = 1.0    # s: camera stamps jumping back further reset the synchronizer


@dataclass
class SyncStats:
    """What the synchronizer did so far."""

    emitted: int = 0
    dropped: list = field(default_factory=list)   # per stream
    worst_skew_ns: int = 0                        # largest span of an emitted set

    def as_dict(self):
        return {'emitted': self.emitted, 'dropped': list(self.dropped),
                'worst_skew_ms': self.worst_skew_ns / 1e6}


def check_settings(num_streams, slop, queue_size):
    """Raise ValueError naming the synchronizer setting that is out of range."""
    if num_streams < 1:
        raise ValueError(f'num_streams must be >= 1, got {num_streams}')
    if not slop > 0:
        raise ValueError(f'slop must be > 0 seconds, got {slop!r}')
    if queue_size < 2:
        raise ValueError(f'queue_size must be >= 2, got {queue_size}')


class ApproximateTimeSynchronizer:
    """Group items of num_streams streams whose stamps lie within slop seconds."""

    def __init__(self, num_streams, slop, queue_size=30):
        check_settings(num_streams, slop, queue_size)
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


class LiveSynchronizer:
    """
    Approximate time synchronization of live streams whose clocks can jump.

    Items are added with their stamp and their arrival time (ns on a monotonic clock). With J =
    jump_threshold seconds:

    - Jump back: an item more than J earlier than the newest item of its stream since the last
      reset, or the third item in a row earlier than it by more than the slop (a smaller jump
      back; a reordered item is followed by newer ones). The synchronizer forgets every queued
      item and the stamp order of every stream, and takes the item. A single item earlier than
      its stream's newest is reordering jitter: dropped and counted by the synchronizer, as
      always. A simulator reset or a looped bag, where every camera jumps, costs one reset and
      scoring goes on with the next complete set. (The rule of every live stream,
      data/stamps.py's StampOrder, with the slop as tolerance and three items in a row.)
    - Clock apart: each stream's clock is compared with the others' by stamp minus arrival time
      (the largest over the last J/2 seconds, i.e. the least delayed). Streams within J of each
      other share a clock; the reference clock is the one shared by the most streams (ties: the
      stream on its own stamps, then the lowest stream index). A stream apart from it by more
      than J for more than J seconds of
      arrival time (a camera restarted on another clock, ahead or behind) is re-based: from then
      on its stamps are shifted onto the reference clock by the measured difference, i.e. it is
      synchronized by arrival time, to within the difference of transport delays; the
      synchronizer resets. When its own stamps agree with the reference again (within the
      slop), the shift is dropped the same way. Images that arrive more than J late for more
      than J seconds look the same and are treated the same. A clock offset below J cannot be
      told from a transport delay and is left to the stamps. At least one stream stays on its
      own stamps: a re-basing that would shift every stream shifts all back by the smallest
      shift (a CPU-starved receiver once shifted all three cameras 1.43 s ahead for good).

    Every reset (not clear()) is counted in ``resets`` with ``last_reset`` (reason) and
    ``last_reset_ns`` (arrival clock); ``offsets_ns`` holds each stream's shift (0: its own
    stamps). Stamps passed on to the callbacks are the shifted ones. Not thread-safe: the caller
    serializes add(), clear() and reads.

    synchronizer: a callable (num_streams, slop, queue_size) returning the approximate-time
    synchronizer underneath (``add(stream, stamp_ns, item)`` returning the completed sets,
    ``reset()``, ``registerCallback``, ``stats``, ``slop_ns``); default this module's
    ApproximateTimeSynchronizer. grm_node passes an adapter over message_filters'
    (nodes/message_filters_sync.py), whose reset() builds a new one: message_filters keeps no
    stamp order, and its full queues would otherwise evict every item after a jump back.

    Raises ValueError when jump_threshold is not larger than slop (jitter within the slop is
    normal and must not reset anything).
    """

    WINDOW = 64        # at most this many items per stream in its clock estimate
    BEHIND_ITEMS = 3   # items in a row behind their stream's newest that make a jump back

    def __init__(self, num_streams, slop, queue_size=30, jump_threshold=1.0, names=None,
                 on_reset=None, synchronizer=ApproximateTimeSynchronizer):
        if not (isinstance(jump_threshold, (int, float)) and math.isfinite(jump_threshold)
                and jump_threshold > slop):
            raise ValueError(f'jump_threshold must be a number of seconds > slop ({slop} s), '
                             f'got {jump_threshold!r}')
        self.sync = synchronizer(num_streams, slop, queue_size)
        self.names = list(names) if names else [f'stream {k}' for k in range(num_streams)]
        self.jump_ns = int(round(jump_threshold * 1e9))
        self.offsets_ns = [0] * num_streams
        self.resets, self.last_reset, self.last_reset_ns = 0, '', None
        self._on_reset = on_reset
        # each stream's stamp order (data/stamps.py) on its shifted stamps, since the last reset
        self._orders = [StampOrder(name, self.sync.slop_ns, self.jump_ns, self.BEHIND_ITEMS,
                                   future=None, unit_s=1e-9) for name in self.names]
        self._skews = [deque(maxlen=self.WINDOW) for _ in range(num_streams)]
        self._heard_ns = [None] * num_streams        # arrival of the stream's latest item
        self._apart_since = [None] * num_streams     # arrival when it left the reference

    @property
    def stats(self):
        """Return the SyncStats of the wrapped synchronizer."""
        return self.sync.stats

    def registerCallback(self, callback):  # noqa: N802 - message_filters' name
        """Call callback(*items) for every synchronized set (stamps shifted by offsets_ns)."""
        self.sync.registerCallback(callback)

    def add(self, stream, stamp_ns, item, arrival_ns):
        """Add one item that arrived at arrival_ns; returns the sets it completed."""
        stamp = stamp_ns + self.offsets_ns[stream]
        jump = self._orders[stream].check(stamp).jump
        if jump < 0:  # reordered items go on: the synchronizer drops and counts them
            self._reset(arrival_ns, f'{self.names[stream]} stamps jumped back '
                                    f'{-jump / 1e9:.3f} s')
        self._watch_clock(stream, stamp - arrival_ns, arrival_ns)
        stamp = stamp_ns + self.offsets_ns[stream]
        self._orders[stream].note_fresh(stamp)
        return self.sync.add(stream, stamp, item)

    def clear(self):
        """Forget queued items and stamp order (a new episode); not counted as a reset."""
        self.sync.reset()
        for order in self._orders:
            order.reset()

    def _reset(self, arrival_ns, reason):
        self.clear()
        self.resets += 1
        self.last_reset, self.last_reset_ns = reason, arrival_ns
        if self._on_reset is not None:
            self._on_reset(reason)

    def _watch_clock(self, stream, skew, arrival_ns):
        window = self._skews[stream]   # (arrival, stamp - arrival)
        if window and abs(skew - window[-1][1]) > self.jump_ns:
            window.clear()  # a new clock: the older estimates describe the old one
        while window and window[0][0] < arrival_ns - self.jump_ns // 2:
            window.popleft()
        window.append((arrival_ns, skew))
        self._heard_ns[stream] = arrival_ns
        clocks = {s: max(k for _, k in w) for s, w in enumerate(self._skews)
                  if w and arrival_ns - self._heard_ns[s] <= 2 * self.jump_ns}

        def shared(s):
            return sum(abs(clocks[t] - clocks[s]) <= self.jump_ns for t in clocks)
        # ties go to a stream on its own stamps, then the lowest index
        reference = max(clocks, key=lambda s: (shared(s), self.offsets_ns[s] == 0, -s))
        apart = clocks[stream] - clocks[reference]
        if abs(apart) <= self.jump_ns:
            self._apart_since[stream] = None
            return
        since = self._apart_since[stream]
        if since is None:
            self._apart_since[stream] = arrival_ns
            return
        if arrival_ns - since <= self.jump_ns:
            return
        offset = self.offsets_ns[stream] - apart
        if abs(offset) <= self.sync.slop_ns:
            offset = 0  # its own stamps agree with the reference again: use them
        self._shift(stream, offset)
        self._apart_since[stream] = None
        name, other = self.names[stream], self.names[reference]
        if offset:
            reason = (f"{name} clock is {apart / 1e9:+.3f} s off {other}'s: synchronized by "
                      'arrival time')
        else:
            reason = f"{name} clock agrees with {other}'s again: synchronized by stamps"
        if all(self.offsets_ns):
            # no stream left on its own stamps (a silent stream counts: offset 0 until it is
            # heard apart): the shared clock would sit off every camera's (and the receiver's)
            # for good. Shift all back by the smallest shift, so the stream shifted least is on
            # its own stamps again; one far off (a camera on another clock) stays shifted, and
            # any left apart is re-based by the rule above
            base = min(self.offsets_ns, key=abs)
            anchor = self.names[self.offsets_ns.index(base)]
            for s in range(len(self.offsets_ns)):
                self._shift(s, self.offsets_ns[s] - base)
            reason += f"; every stream was shifted: all moved back onto {anchor}'s own stamps"
        self._reset(arrival_ns, reason)

    def _shift(self, stream, offset):
        """Set a stream's stamp shift (ns), moving its clock estimate with it."""
        shift = offset - self.offsets_ns[stream]
        self.offsets_ns[stream] = offset
        self._skews[stream] = deque(((a, k + shift) for a, k in self._skews[stream]),
                                    maxlen=self.WINDOW)
