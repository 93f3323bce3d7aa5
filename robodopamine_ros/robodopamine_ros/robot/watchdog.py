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
A message stamp is only used to refuse messages that are not fresh: a stamp earlier than the
last accepted one on that stream does not feed the watchdog. A clock that runs backward (a
caller passing wall time) counts as stale, never as fresh.
"""

import time


class Watchdog:

    def __init__(self, timeouts, clock=time.monotonic):
        """
        Watch streams: {name: timeout in seconds}; clock: a monotonic time source (s).

        Raises ValueError for a timeout that is not > 0.
        """
        bad = {k: v for k, v in timeouts.items() if not v > 0}
        if bad:
            raise ValueError(f'watchdog timeouts must be > 0 s, got {bad}')
        self.timeouts = dict(timeouts)
        self.clock = clock
        self.last = dict.fromkeys(timeouts)
        self.last_stamp = dict.fromkeys(timeouts)
        self.refused = dict.fromkeys(timeouts, 0)  # messages refused as not fresh, per stream
        self.estop_reason = None

    def feed(self, name, now=None, stamp=None):
        """
        Record that a message of stream `name` arrived at `now` (monotonic s; default: clock).

        stamp: the message's own time (any clock, s), or None. A stamp earlier than the last
        accepted one is refused (counted in ``refused``). Returns whether the message counted.
        """
        if name not in self.timeouts:
            raise KeyError(f'watchdog does not watch {name!r} (watched: {sorted(self.timeouts)})')
        if stamp is not None:
            if self.last_stamp[name] is not None and stamp < self.last_stamp[name]:
                self.refused[name] += 1
                return False
            self.last_stamp[name] = stamp
        self.last[name] = self.clock() if now is None else now
        return True

    def faults(self, now=None):
        """Return the stale streams, with why: {name: 'never received' | 'stale for X s'}."""
        now = self.clock() if now is None else now
        out = {}
        for name, timeout in self.timeouts.items():
            last = self.last[name]
            if last is None:
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
