# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Automatic success detection from GRM progress, with hysteresis.

The paper's rule is instantaneous: success when Phi >= 1 - delta. A reward model's progress
jitters near the goal (one optimistic tick is enough to cross 0.95), and an automatic success
ends the episode and pays the success reward, so we require the threshold to hold: success is
detected at the tick where progress has been >= 1 - delta for ``hold_ticks`` consecutive ticks,
and stays detected (latched) until the episode restarts. ``hold_ticks = 1`` is the paper's rule.

Familiarity gate [ours] (``min_agreement``): a tick counts toward the hold only when the
forward- and backward-anchored readings of that tick agree, ``agreement >= min_agreement``
(agreement is reward.progress.consistency_weight of the two, 1 when they read the same, 0
when a perspective did not answer): a state the model does not know tends to read differently
from the start than from the goal (Robo-Dopamine 2.0's OOD-aware progress), and must not latch
a success. 0 (the default) turns the gate off; bench/bench_grm_refresh.py measures it.

The hold is a duration (``DEFAULT_HOLD_S``); ``ticks_for_hold`` turns it into ticks at the rate the
GRM ticks where the detector runs (grm_node's ``rate``; in simulation the control rate over
``grm_every``), so that a slower GRM does not hold longer.
"""

from dataclasses import dataclass
import math
from typing import Iterable, Optional

DEFAULT_DELTA = 0.05        # success threshold 1 - delta on progress (paper: delta = 0.05)
# [ours] s the threshold must hold. 0.3 s fired before the peg was in on 96 % of the learning
# policy's firings; 1 s on 23 % (bench/bench_success_rule.py, a 10 Hz GRM)
DEFAULT_HOLD_S = 1.0
GRM_RATE_HZ = 10.0   # grm_node's default tick rate (its parameter ``rate``)


def ticks_for_hold(rate_hz: float, seconds: float = DEFAULT_HOLD_S) -> int:
    """
    Return the GRM ticks a hold of `seconds` spans at `rate_hz`: never shorter, at least 1.

    Raises ValueError for a rate that is not > 0 or a hold that is not a finite number >= 0.
    """
    def number(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if not (number(rate_hz) and rate_hz > 0):
        raise ValueError(f'GRM tick rate must be a finite number > 0 Hz, got {rate_hz!r}')
    if not (number(seconds) and seconds >= 0):
        raise ValueError(f'success_hold_s must be a finite number >= 0 (s), got {seconds!r}')
    return max(1, math.ceil(seconds * rate_hz - 1e-9))   # 1e-9: 0.6 s * 5 Hz is 3, not 4


DEFAULT_HOLD_TICKS = ticks_for_hold(GRM_RATE_HZ)   # 10


@dataclass(frozen=True)
class SuccessConfig:
    delta: float = DEFAULT_DELTA
    hold_ticks: int = DEFAULT_HOLD_TICKS
    min_agreement: float = 0.0   # [ours] the familiarity gate (module docstring); 0: off

    def __post_init__(self):
        if not (isinstance(self.delta, (int, float)) and 0.0 <= self.delta < 1.0):
            raise ValueError(f'success delta must be in [0, 1), got {self.delta!r}')
        if not (isinstance(self.hold_ticks, int) and self.hold_ticks >= 1):
            raise ValueError(f'success hold_ticks must be an integer >= 1, got '
                             f'{self.hold_ticks!r}')
        if not (isinstance(self.min_agreement, (int, float)) and
                not isinstance(self.min_agreement, bool) and 0.0 <= self.min_agreement <= 1.0):
            raise ValueError(f'success min_agreement must be in [0, 1], got '
                             f'{self.min_agreement!r}')

    @property
    def threshold(self) -> float:
        return 1.0 - self.delta


class SuccessDetector:
    """Feed progress tick by tick; ``update`` returns whether success has been detected."""

    def __init__(self, config: SuccessConfig = SuccessConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Start a new episode: nothing detected, no tick above the threshold yet."""
        self.run, self.detected = 0, False

    def update(self, progress: float, agreement: float = 1.0) -> bool:
        """
        Take one tick's progress in [0, 1] (NaN counts as below); return detected.

        agreement: the tick's forward / backward agreement in [0, 1] (NaN counts as 0); a tick
        below config.min_agreement does not count toward the hold.
        """
        above = progress == progress and progress >= self.config.threshold and (
            self.config.min_agreement <= 0.0 or
            (agreement == agreement and agreement >= self.config.min_agreement))
        self.run = self.run + 1 if above else 0
        self.detected = self.detected or self.run >= self.config.hold_ticks
        return self.detected


def first_success(progress: Iterable[float],
                  config: SuccessConfig = SuccessConfig(),
                  agreement: Optional[Iterable[float]] = None) -> Optional[int]:
    """
    Return the index of the tick at which success is detected in a curve, or None.

    agreement: the ticks' forward / backward agreement, same length (None: all 1).
    """
    progress = [float(v) for v in progress]
    agreement = [1.0] * len(progress) if agreement is None else [float(a) for a in agreement]
    if len(agreement) != len(progress):
        raise ValueError(f'agreement has {len(agreement)} values for {len(progress)} ticks')
    detector = SuccessDetector(config)
    for index, (value, agree) in enumerate(zip(progress, agreement)):
        if detector.update(value, agree):
            return index
    return None
