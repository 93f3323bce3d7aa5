# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
"The robot is stuck": the stall rule, written once (docs/method.md#stall-signal).

An episode is **stalled** at time t when it has run at least ``window`` and its progress rose by
less than ``min_gain`` over the last ``window``:

    stalled(t) <=> t - t_0 >= window  and  Phi(t) - Phi(t - window) < min_gain

where Phi(t - window) is the newest progress at or before t - window. grm_node applies it on the
camera stamps of its ticks (window in seconds) and flags ``ProgressStamped.stalled``; the
scripted operator (rl/outcomes.py ScriptedOperator) applies it on control steps (window in
steps) and takes over when it holds. ``restart`` starts the window anew (a new episode; the
operator after a takeover). Pure Python; an update costs microseconds.
"""

from collections import deque
from dataclasses import dataclass
import math

STALL_WINDOW_S = 2.5     # [ours] s without progress before "stuck" (25 control steps at 10 Hz)
STALL_MIN_GAIN = 0.05    # [ours] the progress gain that counts as moving


@dataclass(frozen=True)
class StallConfig:
    """The stall rule's window (s on a robot; steps for the scripted operator) and gain."""

    window: float = STALL_WINDOW_S
    min_gain: float = STALL_MIN_GAIN

    def __post_init__(self):
        if isinstance(self.window, bool) or not (isinstance(self.window, (int, float)) and
                                                 math.isfinite(self.window) and
                                                 self.window > 0):
            raise ValueError(f'stall window must be a number > 0, got {self.window!r}')
        if isinstance(self.min_gain, bool) or not (isinstance(self.min_gain, (int, float)) and
                                                   math.isfinite(self.min_gain)):
            raise ValueError(f'stall min_gain must be a finite progress gain, got '
                             f'{self.min_gain!r}')


class StallDetector:
    """
    The stall rule over (time, progress) samples of one episode (module docstring).

    Times must not go back (a sample older than the newest is ignored and returns the last
    verdict). NaN progress is not a sample. Memory: the samples of one window.
    """

    # a sample this close to t - window counts as at it (float steps of 0.1 s)
    EPS = 1e-9

    def __init__(self, config=None):
        self.config = config or StallConfig()
        self.restart()

    def restart(self):
        """Start the window anew: the next sample is t_0."""
        self._samples = deque()   # (t, progress), oldest first
        self._start = None
        self.stalled = False

    def update(self, t, progress):
        """Add the sample at time t; return whether the episode is stalled now."""
        if progress is None or not math.isfinite(progress):
            return self.stalled
        if self._samples and t < self._samples[-1][0]:
            return self.stalled
        if self._start is None:
            self._start = t
        self._samples.append((t, float(progress)))
        edge = t - self.config.window + self.EPS
        # keep the newest sample at or before t - window, and everything after it
        while len(self._samples) > 1 and self._samples[1][0] <= edge:
            self._samples.popleft()
        before_t, before = self._samples[0]
        self.stalled = t - self._start >= self.config.window - self.EPS and \
            before_t <= edge and progress - before < self.config.min_gain
        return self.stalled


class StallEdges:
    """
    The onsets and ends of the stall flags an operator's station hears (teleop_node).

    ``update(episode_id, stalled)`` returns 'stuck' when an episode becomes stalled, 'moving'
    when it stops being stalled (progress rose, or a new episode began), else None: one line
    and one rumble per stall, not one per tick.
    """

    def __init__(self):
        self.episode_id, self.stalled = None, False

    def update(self, episode_id, stalled):
        """Return 'stuck', 'moving' or None for the newest flag of episode_id."""
        new_episode, was = episode_id != self.episode_id, self.stalled
        self.episode_id, self.stalled = episode_id, bool(stalled)
        if self.stalled and (new_episode or not was):
            return 'stuck'
        if was and not self.stalled:
            return 'moving'
        return None
