# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What a refresh teaches the GRM about one labelled online episode: a progress target per frame.

The rules (docs/method.md#refresh-on-the-robots-own-episodes), applied in this order to the
progress the GRM that scored the episode published at each frame:

1. Unlabelled states keep that progress: a refresh changes what a label says is wrong and
   nothing else (self-distillation; training on the GRM's own guesses where nobody said
   otherwise would only confirm them, and training nothing there would let them drift).
2. A labelled failure ends below the success threshold: every frame's target is at most
   ``1 - failure_margin`` (0.90 with the default margin of twice the detector's delta), so the
   states that fooled the detector (a rejected success, a near miss) become hard negatives.
3. A labelled success ends at 1: its last frame's target is 1, and so are the frames of its
   last ``success_tail_s`` seconds (the detector's hold, 1 s): the success state the peg rests
   in while the hold runs. With the last frame alone, refreshes lost recall (the detector
   needs the whole hold at >= 1 - delta): replayed on the benchmark runs' episodes 1-100, the
   candidate's held-out recall 0.47 and 0.57 with the last frame, 0.60 and 0.79 with 1 s.
4. Before a takeover progress must not rise: in the ``takeover_window_s`` before each frame
   where a takeover begins, the target is at most the window's first target (the states
   before a takeover are ones the policy got wrong).

Episodes that nobody labelled (EpisodeOutcome.labelled false: the detector's own verdict, the
time limit with nobody watching, the simulator's flag) give no targets at all.
"""

from dataclasses import dataclass

import numpy as np
from robodopamine_ros.reward.stall import STALL_WINDOW_S
from robodopamine_ros.reward.success import DEFAULT_DELTA, DEFAULT_HOLD_S


@dataclass(frozen=True)
class TargetRules:
    """The label rules' settings (module docstring)."""

    failure_margin: float = 2 * DEFAULT_DELTA   # a failure's targets stay <= 1 - this
    takeover_window_s: float = STALL_WINDOW_S   # s before a takeover where progress is held
    success_tail_s: float = DEFAULT_HOLD_S      # s at a success's end that are success states

    def __post_init__(self):
        if not 0.0 < self.failure_margin < 1.0:
            raise ValueError(f'failure_margin must be in (0, 1), got {self.failure_margin!r}')
        if not self.success_tail_s >= 0.0:
            raise ValueError(f'success_tail_s must be >= 0 s, got {self.success_tail_s!r}')
        if not self.takeover_window_s >= 0.0:
            raise ValueError(f'takeover_window_s must be >= 0 s, got '
                             f'{self.takeover_window_s!r}')


def episode_targets(episode, rules=None):
    """
    Return (targets, changed) for a labelled data.online_episodes.OnlineEpisode.

    targets: (T,) float32 progress in [0, 1]; changed: (T,) bool, the frames whose target a
    label moved by more than 0.01 from the published progress (the corrections a refresh must
    learn). Raises ValueError for an episode nobody labelled.
    """
    rules = rules or TargetRules()
    outcome = episode.outcome
    if not outcome.labelled:
        raise ValueError(f'{episode.path}: outcome {outcome.how!r} is not a label (nobody '
                         'judged it): it gives no refresh targets')
    published = np.clip(np.nan_to_num(episode.progress.astype(np.float32), nan=0.0), 0.0, 1.0)
    targets = published.copy()
    if outcome.success:
        targets[-1] = 1.0
        targets[episode.stamps >= episode.stamps[-1] - int(rules.success_tail_s * 1e9)] = 1.0
    else:
        np.minimum(targets, 1.0 - rules.failure_margin, out=targets)
    window_ns = int(rules.takeover_window_s * 1e9)
    for start in np.flatnonzero(episode.takeovers):
        first = int(np.searchsorted(episode.stamps, episode.stamps[start] - window_ns))
        if first < start:
            np.minimum(targets[first:start], targets[first], out=targets[first:start])
    return targets, np.abs(targets - published) > 0.01
