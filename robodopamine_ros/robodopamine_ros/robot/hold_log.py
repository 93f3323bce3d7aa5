# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What to log about a hold, ROS-free: once when it starts, once when it ends, rarely between.

A hold's reason carries changing numbers ('reward stale for 0.62 s'), so a log that repeats on
every new text floods (one line per control tick). ``HoldLog.update(reason, now)`` returns the
lines to log at this tick: one when a hold starts (or its kind changes: the reason with its
numbers masked), one when it ends with its duration, and in between at most one every
``repeat_s`` seconds (monotonic clock). Reasons that are not holds are passed as None.
"""

import re
from typing import Optional

_NUMBER = re.compile(r'[-+]?\d+(\.\d+)?(e[-+]?\d+)?')
REPEAT_S = 5.0   # s between two "still holding" lines of one hold


def hold_kind(reason: str) -> str:
    """Return the reason with its numbers masked: two reasons of one kind compare equal."""
    return _NUMBER.sub('#', reason)


class HoldLog:
    """
    Turn a hold reason per tick into the few lines worth logging.

    what: the subject of the lines ('holding the arm'); repeat_s: s between reminders (> 0).
    ``update`` returns a list of (level, text) with level 'warn' (a hold starts, changes or
    goes on) or 'info' (it ended).
    """

    def __init__(self, what: str = 'holding the arm', repeat_s: float = REPEAT_S) -> None:
        if not repeat_s > 0:
            raise ValueError(f'repeat_s must be > 0 s, got {repeat_s!r}')
        self.what, self.repeat_s = what, repeat_s
        self.started = None      # monotonic start of the current hold, None when not held
        self.kind = None
        self.logged = None       # when the last line about it was returned

    def update(self, reason: Optional[str], now: float) -> list:
        """Return the lines to log now for `reason` (None: not held)."""
        if reason is None:
            if self.started is None:
                return []
            lines = [('info', f'{self.what} ended after {now - self.started:.1f} s')]
            self.started = self.kind = self.logged = None
            return lines
        kind = hold_kind(reason)
        if self.started is None:
            self.started, self.kind, self.logged = now, kind, now
            return [('warn', f'{self.what}: {reason}')]
        if kind != self.kind:
            self.kind, self.logged = kind, now
            return [('warn', f'{self.what}: {reason}')]
        if now - self.logged >= self.repeat_s:
            self.logged = now
            return [('warn', f'still {self.what} ({now - self.started:.1f} s): {reason}')]
        return []
