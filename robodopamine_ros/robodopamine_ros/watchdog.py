# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Staleness watchdog and emergency-stop latch for the control loop, ROS-free.

Each watched stream (observations, rewards, the policy) has a timeout. ``Watchdog.faults(now)``
names every stream that is stale or never arrived; while any is, the agent must command zero
velocity / hold its pose (forward controllers otherwise repeat their last command forever).
The e-stop latches: once set, ``stopped`` stays true until ``clear_estop()`` is called, whatever
the streams do.
"""


class Watchdog:

    def __init__(self, timeouts):
        """Watch streams: {name: timeout in seconds}."""
        bad = {k: v for k, v in timeouts.items() if not v > 0}
        if bad:
            raise ValueError(f'watchdog timeouts must be > 0 s, got {bad}')
        self.timeouts = dict(timeouts)
        self.last = dict.fromkeys(timeouts)
        self.estop_reason = None

    def feed(self, name, now):
        if name not in self.timeouts:
            raise KeyError(f'watchdog does not watch {name!r} (watched: {sorted(self.timeouts)})')
        self.last[name] = now

    def faults(self, now):
        """Return the stale streams, with why: {name: 'never received' | 'stale for X s'}."""
        out = {}
        for name, timeout in self.timeouts.items():
            last = self.last[name]
            if last is None:
                out[name] = 'never received'
            elif now - last > timeout:
                out[name] = f'stale for {now - last:.2f} s (timeout {timeout} s)'
        return out

    def estop(self, reason='e-stop'):
        self.estop_reason = reason

    def clear_estop(self):
        self.estop_reason = None

    def stopped(self, now):
        """Return the reason the robot must hold still now, or None when it may move."""
        if self.estop_reason is not None:
            return f'latched e-stop: {self.estop_reason}'
        faults = self.faults(now)
        if faults:
            return '; '.join(f'{k} {v}' for k, v in sorted(faults.items()))
        return None
