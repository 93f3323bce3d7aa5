# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Automatic success detection from GRM progress, with hysteresis.

The paper's rule is instantaneous: success when Phi >= 1 - delta. A reward model's progress
jitters near the goal (one optimistic tick is enough to cross 0.95), and an automatic success
ends the episode and pays the success reward, so we require the threshold to hold: success is
detected at the tick where progress has been >= 1 - delta for ``hold_ticks`` consecutive ticks,
and stays detected (latched) until the episode restarts. ``hold_ticks = 1`` is the paper's rule.
"""

from dataclasses import dataclass
from typing import Iterable, Optional

DEFAULT_DELTA = 0.05        # success threshold 1 - delta on progress (paper: delta = 0.05)
# [ours] ticks the threshold must hold: 1 s at a 10 Hz GRM. 3 ticks (0.3 s) fired before the
# peg was in on 96 % of the learning policy's firings (bench/bench_success_rule.py)
DEFAULT_HOLD_TICKS = 10


@dataclass(frozen=True)
class SuccessConfig:
    delta: float = DEFAULT_DELTA
    hold_ticks: int = DEFAULT_HOLD_TICKS

    def __post_init__(self):
        if not (isinstance(self.delta, (int, float)) and 0.0 <= self.delta < 1.0):
            raise ValueError(f'success delta must be in [0, 1), got {self.delta!r}')
        if not (isinstance(self.hold_ticks, int) and self.hold_ticks >= 1):
            raise ValueError(f'success hold_ticks must be an integer >= 1, got '
                             f'{self.hold_ticks!r}')

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

    def update(self, progress: float) -> bool:
        """Take one tick's progress in [0, 1] (NaN counts as below); return detected."""
        above = progress == progress and progress >= self.config.threshold
        self.run = self.run + 1 if above else 0
        self.detected = self.detected or self.run >= self.config.hold_ticks
        return self.detected


def first_success(progress: Iterable[float],
                  config: SuccessConfig = SuccessConfig()) -> Optional[int]:
    """Return the index of the tick at which success is detected in a curve, or None."""
    detector = SuccessDetector(config)
    for index, value in enumerate(progress):
        if detector.update(float(value)):
            return index
    return None
