# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Staleness watchdog and emergency-stop latch for the control loop, ROS-free.

Each watched stream (observations, rewards, the policy) has a timeout. ``Watchdog.faults(now)``
names every stream that is stale or never arrived; while any is, the agent must command zero
velocity / hold its pose (forward controllers otherwise repeat their last command forever).
The e-stop latches: once set, ``stopped`` stays true until ``clear_estop()`` is called, whatever
the streams do.

Time: staleness is measured on a monotonic clock (``time.monotonic`` unless another clock is
given), never on message stamps or the wall clock, which NTP/chrony can step back by seconds.
A message stamp is only used to refuse messages that are not fresh, by each stream's stamp
order (data/stamps.py, StampOrder): a small reordering and a stamp more than
``future_tolerance`` ahead of the receiver's clock are refused (the latter never becomes the
stream's newest stamp), a jump beyond ``jump_threshold`` in either direction re-bases the
stream and the verdict says so once. A clock that runs backward (a caller passing wall time)
counts as stale, never as fresh. A message the caller refuses for its content (a pose in
another frame, NaN values) faults its stream at once (``refuse``) until a good one arrives.
"""

import time

from robodopamine_ros.data.stamps import (FUTURE_TOLERANCE_S, JUMP_THRESHOLD_S, StampOrder,
                                          StampVerdict)


class Watchdog:

    def __init__(self, timeouts, clock=time.monotonic, jump_threshold=JUMP_THRESHOLD_S,
                 future_tolerance=FUTURE_TOLERANCE_S, names=None):
        """
        Watch streams: {name: timeout in seconds}; clock: a monotonic time source (s).

        jump_threshold, future_tolerance: each stream's stamp rule (s, data/stamps.py); names:
        {stream: what the notes call it (e.g. its topic)}. Raises ValueError for a timeout that
        is not > 0 or a threshold that is not >= 0.
        """
        bad = {k: v for k, v in timeouts.items() if not v > 0}
        if bad:
            raise ValueError(f'watchdog timeouts must be > 0 s, got {bad}')
        self.timeouts = dict(timeouts)
        self.clock = clock
        self.last = dict.fromkeys(timeouts)
        names = names or {}
        self.orders = {k: StampOrder(names.get(k, k), jump_threshold, future=future_tolerance)
                       for k in timeouts}
        self.refused = dict.fromkeys(timeouts, 0)  # messages refused as not fresh, per stream
        self.bad = dict.fromkeys(timeouts)         # why the newest message was refused
        self.estop_reason = None

    def feed(self, name, now=None, stamp=None, clock_stamp=None):
        """
        Record that a message of stream `name` arrived at `now` (monotonic s; default: clock).

        stamp: the message's own time (s), or None; clock_stamp: the receiver's clock in the
        stamps' time base (its ROS time, s), or None: no bound on stamps ahead. Returns the
        stamp rule's StampVerdict (true when the message counted; its ``note`` is what to log
        once); a refused one is counted in ``refused``.
        """
        if name not in self.timeouts:
            raise KeyError(f'watchdog does not watch {name!r} (watched: {sorted(self.timeouts)})')
        verdict = StampVerdict(True) if stamp is None else \
            self.orders[name].check(stamp, clock_stamp)
        if not verdict:
            self.refused[name] += 1
            return verdict
        self.last[name] = self.clock() if now is None else now
        self.bad[name] = None
        return verdict

    def refuse(self, name, why):
        """Fault stream `name` now: a message was refused for its content (a stop until fed)."""
        if name not in self.timeouts:
            raise KeyError(f'watchdog does not watch {name!r} (watched: {sorted(self.timeouts)})')
        self.refused[name] += 1
        self.bad[name] = why

    def faults(self, now=None):
        """Return the faulted streams with why: {name: 'never received' | 'stale for X s' ...}."""
        now = self.clock() if now is None else now
        out = {}
        for name, timeout in self.timeouts.items():
            last = self.last[name]
            if self.bad[name] is not None:
                out[name] = f'refused: {self.bad[name]}'
            elif last is None:
                out[name] = 'never received'
            elif now < last:
                out[name] = f'clock ran backward by {last - now:.2f} s (not monotonic)'
            elif now - last > timeout:
                out[name] = f'stale for {now - last:.2f} s (timeout {timeout} s)'
        return out

    def estop(self, reason='e-stop'):
        self.estop_reason = reason

    def clear_estop(self):
        self.estop_reason = None

    def stopped(self, now=None):
        """Return the reason the robot must hold still now, or None when it may move."""
        if self.estop_reason is not None:
            return f'latched e-stop: {self.estop_reason}'
        faults = self.faults(now)
        if faults:
            return '; '.join(f'{k} {v}' for k, v in sorted(faults.items()))
        return None
