# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Task progress from GRM hops, per episode: the three perspectives and their fusion.

The method: docs/method.md#three-perspectives-and-fusion.

At each GRM tick the model answers three queries:

- incremental: H(s_{t-1}, s_t), chained from the *fused* progress of the previous tick;
- forward-anchored: H(s_0, s_t), read as progress directly;
- backward-anchored: H(goal, s_t), read as 1 + H.

A perspective whose hop is missing (the model gave no parsable answer, or a NaN) does not take
part in that tick; it is never read as a zero hop. Fusion is the plain mean of the perspectives
that answered (default) or the consistency-weighted update, whose confidence w shrinks the step
when the two anchored views disagree. Between ticks progress holds. Pure Python floats: an
update costs a few microseconds.
"""

from dataclasses import dataclass
import math
from typing import Optional

from robodopamine_ros.reward.success import DEFAULT_DELTA, DEFAULT_HOLD_TICKS, SuccessConfig, \
    SuccessDetector

FUSION_MODES = ('mean', 'consistency')


@dataclass(frozen=True)
class ProgressConfig:
    """Fusion parameters (docs/method.md#three-perspectives-and-fusion; eps, deadband: ours)."""

    fusion: str = 'mean'       # 'mean' or 'consistency'
    alpha: float = 20.0        # consistency sharpness: w = exp(-alpha * delta^2)
    eps: float = 1e-3          # [ours] keeps delta finite when both anchored views read 0
    success_delta: float = DEFAULT_DELTA  # success when progress >= 1 - success_delta ...
    success_hold: int = DEFAULT_HOLD_TICKS  # ... for this many ticks in a row (success.py)
    success_min_agreement: float = 0.0  # [ours] ... on ticks whose views agree (success.py)
    hop_deadband: float = 0.0  # [ours] incremental hops with |H| below this count as 0

    def __post_init__(self):
        if self.fusion not in FUSION_MODES:
            raise ValueError(f'fusion must be one of {FUSION_MODES}, got {self.fusion!r}')
        if not (math.isfinite(self.alpha) and self.alpha >= 0):
            raise ValueError(f'alpha must be a finite number >= 0, got {self.alpha!r}')
        if not (math.isfinite(self.eps) and self.eps > 0):
            raise ValueError(f'eps must be a finite number > 0, got {self.eps!r}')
        if not 0.0 <= self.success_delta < 1.0:
            raise ValueError(f'success_delta must be in [0, 1), got {self.success_delta!r}')
        if not (isinstance(self.success_hold, int) and self.success_hold >= 1):
            raise ValueError(f'success_hold must be an integer >= 1 (GRM ticks), got '
                             f'{self.success_hold!r}')
        if not 0.0 <= self.hop_deadband < 1.0:
            raise ValueError(f'hop_deadband must be in [0, 1), got {self.hop_deadband!r}')


@dataclass(frozen=True)
class ProgressEstimate:
    """The state after one tick. Perspectives that did not answer are NaN."""

    tick: int
    progress: float
    incremental: float
    forward: float
    backward: float
    hop: float
    confidence: float
    success: bool
    frame: object = None   # what was scored (frame index, stamp, ...), as given by the caller
    # forward / backward agreement, consistency_weight of the two anchored readings whatever
    # the fusion (0 when one did not answer): the success detector's familiarity gate
    agreement: float = 1.0


def _clamp01(x):
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def _answered(hop):
    return hop is not None and math.isfinite(hop)


def incremental_update(progress: float, hop: float) -> float:
    """Phi_I = Phi + (1 - Phi) * H for H >= 0, Phi * (1 + H) for H < 0; stays in [0, 1]."""
    hop = -1.0 if hop < -1.0 else 1.0 if hop > 1.0 else hop
    if hop >= 0.0:
        return progress + (1.0 - progress) * hop
    return progress * (1.0 + hop)


def consistency_weight(forward: float, backward: float, alpha: float, eps: float) -> float:
    """Confidence w = exp(-alpha * delta^2), delta = |B - F| / ((F + B) / 2 + eps)."""
    delta = abs(backward - forward) / ((forward + backward) / 2.0 + eps)
    return math.exp(-alpha * delta * delta)


class ProgressTracker:
    """
    Per-episode progress estimator fed with the three hops of each GRM tick.

    >>> tracker = ProgressTracker()
    >>> round(tracker.update(0.5, 0.5, -0.5).progress, 3)
    0.5
    """

    def __init__(self, config: ProgressConfig = ProgressConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Start a new episode: progress 0 at tick 0."""
        self._estimate = ProgressEstimate(0, 0.0, 0.0, 0.0, 0.0, math.nan, 1.0, False)
        self.history = [self._estimate]
        self.success = SuccessDetector(SuccessConfig(self.config.success_delta,
                                                     self.config.success_hold,
                                                     self.config.success_min_agreement))

    @property
    def estimate(self) -> ProgressEstimate:
        """Return the estimate in effect now (progress holds between ticks)."""
        return self._estimate

    @property
    def progress(self) -> float:
        return self._estimate.progress

    def update(self, hop_incremental: Optional[float], hop_forward: Optional[float],
               hop_backward: Optional[float], frame: object = None) -> ProgressEstimate:
        """Fold one tick's hops (None or NaN = no answer) into progress; return the estimate."""
        cfg = self.config
        previous = self._estimate.progress
        answered_i = _answered(hop_incremental)
        if answered_i and abs(hop_incremental) < cfg.hop_deadband:
            hop_incremental = 0.0
        phi_i = incremental_update(previous, hop_incremental) if answered_i else math.nan
        phi_f = _clamp01(hop_forward) if _answered(hop_forward) else math.nan
        phi_b = _clamp01(1.0 + hop_backward) if _answered(hop_backward) else math.nan

        confidence = 1.0
        agreement = consistency_weight(phi_f, phi_b, cfg.alpha, cfg.eps) \
            if phi_f == phi_f and phi_b == phi_b else 0.0
        if cfg.fusion == 'mean':
            answered = [v for v in (phi_i, phi_f, phi_b) if v == v]
            progress = sum(answered) / len(answered) if answered else previous
        elif phi_f == phi_f and phi_b == phi_b:
            confidence = agreement
            step = (phi_f + phi_b) / 2.0 - previous
            if answered_i:
                step += phi_i - previous
            progress = _clamp01(previous + confidence / 2.0 * step)
        else:
            # Agreement cannot be measured without both anchored views: hold (w = 0) rather
            # than trust a single perspective in a state the model may not know.
            confidence = 0.0
            progress = previous

        self._estimate = ProgressEstimate(
            tick=self._estimate.tick + 1, progress=progress, incremental=phi_i, forward=phi_f,
            backward=phi_b, hop=hop_incremental if answered_i else math.nan,
            confidence=confidence, success=self.success.update(progress, agreement),
            frame=frame, agreement=agreement)
        self.history.append(self._estimate)
        return self._estimate
