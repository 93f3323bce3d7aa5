# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The stamp order of one live stream: reordering, clock jumps and stamps from the future (ROS-free).

A live stream's header stamps can jump: a clock stepped by NTP or libfaketime, a restarted
driver, a simulator reset or a looped bag, one message stamped in 2096. A receiver that only
accepts stamps later than the newest one it saw would then refuse every later message as "not
fresh" until the stamps catch up (a jump back) or for good (a stamp from the future). The rule,
per stream, with stamps and thresholds in one unit (s, or ns for the camera synchronizer):

- a stamp more than ``future`` ahead of the receiver's clock (its ROS time: the same clock as
  the stamps) is refused and never becomes the stream's newest stamp;
- a stamp not earlier than the newest is fresh, however much later (a clock stepped forward
  looks like a pause of the stream, and is one for the watchdog: nothing to re-base);
- a stamp more than ``jump`` earlier than the newest re-bases the stream: it is fresh and becomes
  the newest (reported once);
- a stamp at most ``tolerance`` earlier is a reordering: refused;
- in between, ``behind_items`` such stamps in a row re-base the stream (a smaller jump back),
  the ones before are refused.

Staleness itself is never measured on stamps (robot/watchdog.py uses a monotonic clock): the
rule only decides which messages count. Robot streams (``joint_states``, the hand pose,
``reward``, ``joy``) use ``tolerance = jump = JUMP_THRESHOLD_S``: only a reordering within 50 ms
is refused, and after a step back of any size the deadman or the watchdog sees the next message
at the latest 50 ms of stamps later (one Joy message at 20 Hz). The camera synchronizer
(data/sync.py, LiveSynchronizer) uses its slop as the tolerance and three items in a row.
"""

from dataclasses import dataclass
import math

JUMP_THRESHOLD_S = 0.05     # s: robot streams, a step back further than this re-bases
FUTURE_TOLERANCE_S = 1.0    # s: a stamp further ahead of the receiver's clock is refused


@dataclass(frozen=True)
class StampVerdict:
    """What the rule made of one stamp; true when the message counts (is fresh)."""

    fresh: bool
    jump: float = 0.0       # how far the stamps jumped back (< 0) when re-based, else 0
    refused: str = ''       # why not fresh: 'reordered' or 'future'
    note: str = ''          # one line naming the stream and what happened ('' for nothing new)

    def __bool__(self):
        return self.fresh


class StampOrder:
    """
    The stamp rule (module docstring) of one stream.

    name: the stream's name in the notes (e.g. the topic); unit_s: seconds per stamp unit (1e-9
    for ns), for the notes. Raises ValueError for thresholds that are not numbers >= 0, a jump
    below the tolerance or behind_items < 1.
    """

    def __init__(self, name, tolerance=JUMP_THRESHOLD_S, jump=None, behind_items=1,
                 future=FUTURE_TOLERANCE_S, unit_s=1.0):
        jump = tolerance if jump is None else jump
        for what, value in (('tolerance', tolerance), ('jump', jump), ('future', future)):
            if value is not None and not (isinstance(value, (int, float))
                                          and math.isfinite(value) and value >= 0):
                raise ValueError(f'{name}: stamp {what} must be a number >= 0, got {value!r}')
        if jump < tolerance or behind_items < 1:
            raise ValueError(f'{name}: stamp jump ({jump}) must be >= tolerance ({tolerance}) '
                             f'and behind_items ({behind_items}) >= 1')
        self.name, self.unit_s = name, unit_s
        self.tolerance, self.jump, self.future = tolerance, jump, future
        self.behind_items = behind_items
        self.newest = None      # the newest fresh stamp since the last reset
        self.behind = 0         # stamps in a row more than tolerance behind it
        self.refused = {'reordered': 0, 'future': 0}
        self.jumps = 0          # re-bases so far

    def reset(self):
        """Forget the stamp order (the next stamp is fresh)."""
        self.newest, self.behind = None, 0

    def note_fresh(self, stamp):
        """Make stamp the newest when it is later (a caller that re-stamps after a reset)."""
        self.newest = stamp if self.newest is None else max(self.newest, stamp)

    def check(self, stamp, clock=None):
        """
        Judge one stamp; return its StampVerdict (the order is updated when it is fresh).

        clock: the receiver's clock now, in the stamps' time base (the node's ROS time), or None
        (no bound on stamps ahead of it).
        """
        if clock is not None and self.future is not None and stamp > clock + self.future:
            self.refused['future'] += 1
            return StampVerdict(False, refused='future', note=(
                f'{self.name}: stamp {stamp * self.unit_s:.3f} s is '
                f"{(stamp - clock) * self.unit_s:.3f} s ahead of this node's clock (more than "
                f"{self.future * self.unit_s:g} s): refused; check the sender's clock"))
        newest = self.newest
        if newest is None or stamp >= newest:
            self.newest, self.behind = stamp, 0
            return StampVerdict(True)
        back = newest - stamp
        self.behind = self.behind + 1 if back > self.tolerance else 0
        if back > self.jump or (back > self.tolerance and self.behind >= self.behind_items):
            self.newest, self.behind = stamp, 0
            self.jumps += 1
            return StampVerdict(True, -back, note=(
                f'{self.name}: stamps jumped back {back * self.unit_s:.3f} s: re-based'))
        self.refused['reordered'] += 1
        return StampVerdict(False, refused='reordered')
