# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Policy-invariant reward shaping from GRM progress (docs/method.md#shaping).

    r = r_gold + gamma * Phi(s') - Phi(s),    r_gold = 1 if Phi(s') >= 1 - delta else 0

Potential-based shaping leaves the optimal policy of the sparse task unchanged, so a policy
cannot profit from hovering near the goal (the "semantic trap" of progress-as-reward). The
shaping terms telescope: over an episode their discounted sum is gamma^T Phi(s_T) - Phi(s_0).

[ours] Terminal handling: an episode ends on success by default; at a terminal transition the
potential of the absorbing state is 0 (Phi(s') := 0 in the shaping term), so every terminated
episode's shaping sums to -Phi(s_0). On time-limit truncation Phi(s') is kept and the critic
bootstraps. Both are configurable. The GRM confidence never scales the reward.
"""

from dataclasses import dataclass
import math
from typing import Iterable, Optional, Sequence

# The one discount factor (docs/method.md#shaping): the shaping's and the critic's. Shaping is
# policy-invariant only when both use the same gamma; the agent, the replay's Monte-Carlo
# returns and both nodes take this default. 0.99: the benchmarked learner's.
GAMMA = 0.99


def gamma_from_period(period_s: float, decay_rate: float) -> float:
    """Return gamma = exp(-lambda * h) for control period h (seconds) and rate lambda (1/s)."""
    if not (math.isfinite(period_s) and period_s > 0):
        raise ValueError(f'control period must be > 0 seconds, got {period_s!r}')
    if not (math.isfinite(decay_rate) and decay_rate >= 0):
        raise ValueError(f'discount rate lambda must be >= 0 per second, got {decay_rate!r}')
    return math.exp(-decay_rate * period_s)


@dataclass(frozen=True)
class ShapingConfig:
    """Shaping parameters. gamma must equal the critic's discount."""

    gamma: float = GAMMA
    success_delta: float = 0.05         # automatic success when Phi(s') >= 1 - delta
    terminate_on_success: bool = True
    terminal_potential_zero: bool = True  # [ours] Phi(absorbing state) = 0

    def __post_init__(self):
        if not (isinstance(self.gamma, (int, float)) and 0.0 < self.gamma <= 1.0):
            raise ValueError(f'gamma must be in (0, 1], got {self.gamma!r}')
        if not (isinstance(self.success_delta, (int, float))
                and 0.0 <= self.success_delta < 1.0):
            raise ValueError(f'success_delta must be in [0, 1), got {self.success_delta!r}')

    @classmethod
    def from_settings(cls, control_period: float, gamma: float = GAMMA,
                      discount_rate: float = -1.0, **kwargs) -> 'ShapingConfig':
        """
        Build a config from node-style settings.

        gamma is given directly, or, when discount_rate >= 0, derived as
        exp(-discount_rate * control_period).
        """
        if not (isinstance(control_period, float) and math.isfinite(control_period)
                and control_period > 0):
            raise ValueError(f'control_period must be > 0 seconds, got {control_period!r}')
        if discount_rate >= 0:
            return cls.from_period(control_period, discount_rate, **kwargs)
        return cls(gamma=gamma, **kwargs)

    @classmethod
    def from_period(cls, period_s: float, decay_rate: float, **kwargs) -> 'ShapingConfig':
        """Build a config whose gamma comes from the control period and lambda."""
        return cls(gamma=gamma_from_period(period_s, decay_rate), **kwargs)


@dataclass(frozen=True)
class ShapedReward:
    """One step's reward and everything needed to recompute it offline."""

    reward: float
    sparse_reward: float
    shaping: float
    progress_before: float
    progress_after: float
    gamma: float
    terminal: bool
    truncated: bool


def _check_progress(name, value):
    if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
        raise ValueError(f'{name} must be a progress in [0, 1], got {value!r}')


def shaping_term(progress_before: float, progress_after: float, gamma: float, terminal: bool,
                 terminal_potential_zero: bool = True) -> float:
    """Return gamma * Phi(s') - Phi(s), with Phi(s') = 0 at a terminal step (absorbing)."""
    potential_after = 0.0 if terminal and terminal_potential_zero else progress_after
    return gamma * potential_after - progress_before


def shape(progress_before: float, progress_after: float, config: ShapingConfig,
          terminal: bool = False, truncated: bool = False,
          success: Optional[bool] = None) -> ShapedReward:
    """
    Shaped reward of one step from Phi(s) and Phi(s').

    success: whether the step reached success, as a detector with hysteresis decided
    (success.SuccessDetector: the GRM's ``success`` flag); None applies the instantaneous rule
    Phi(s') >= 1 - delta. The step is terminal when the caller says so (e.g. a failure that
    ends the episode) or when it reaches success and config.terminate_on_success. A truncated
    step is never terminal.
    """
    _check_progress('progress_before', progress_before)
    _check_progress('progress_after', progress_after)
    if success is None:
        success = progress_after >= 1.0 - config.success_delta
    terminal = bool(terminal or (success and config.terminate_on_success)) and not truncated
    sparse = 1.0 if success else 0.0
    shaping = shaping_term(progress_before, progress_after, config.gamma, terminal,
                           config.terminal_potential_zero)
    return ShapedReward(sparse + shaping, sparse, shaping, progress_before, progress_after,
                        config.gamma, terminal, truncated)


def shape_episode(progress: Sequence[float], config: ShapingConfig,
                  truncated_at_end: bool = True) -> list[ShapedReward]:
    """
    Shape a whole episode given Phi(s_0), ..., Phi(s_T).

    Steps run until the first terminal step; if none, the last step is a truncation when
    truncated_at_end (the time limit ended the episode), otherwise an ordinary step.
    """
    if len(progress) < 2:
        raise ValueError(f'an episode needs at least two progress values, got {len(progress)}')
    rewards = []
    for t in range(len(progress) - 1):
        last = t == len(progress) - 2
        step = shape(progress[t], progress[t + 1], config, truncated=False)
        if not step.terminal and last and truncated_at_end:
            step = shape(progress[t], progress[t + 1], config, truncated=True)
        rewards.append(step)
        if step.terminal:
            break
    return rewards


def relabel(logged_steps: Sequence[ShapedReward], config: ShapingConfig,
            truncated_at_end: bool = True) -> list[ShapedReward]:
    """
    Recompute the rewards of a logged episode with new gamma / delta / terminal settings.

    logged_steps are ShapedReward (or anything with progress_before / progress_after). Under a
    new success threshold with terminate_on_success, the episode now ends at its first success
    and the later steps are dropped (they would not have happened); an episode that no longer
    reaches success ends as a truncation when truncated_at_end.
    """
    if not logged_steps:
        raise ValueError('cannot relabel an empty episode')
    progress = [logged_steps[0].progress_before] + [s.progress_after for s in logged_steps]
    for t, (step, nxt) in enumerate(zip(logged_steps, logged_steps[1:])):
        if not math.isclose(step.progress_after, nxt.progress_before, abs_tol=1e-6):
            raise ValueError(f'logged step {t + 1}: progress_before {nxt.progress_before} does '
                             f'not continue step {t} progress_after {step.progress_after}')
    return shape_episode(progress, config, truncated_at_end=truncated_at_end)


def discounted_sum(values: Iterable[float], gamma: float) -> float:
    """Return sum_t gamma^t values[t]."""
    total, discount = 0.0, 1.0
    for value in values:
        total += discount * value
        discount *= gamma
    return total


class RewardStepper:
    """
    Rewards at control rate from progress that arrives at its own (slower) rate.

    Step alignment: at every control tick the progress in effect is the latest value observed;
    the step's Phi(s) is the Phi(s') of the previous step (0 at the start of an episode), so the
    published progress values chain exactly and the shaping telescopes, whatever the GRM rate.
    An episode ends at a terminal step (success, with terminate_on_success) or at max_steps
    (truncation); later ticks return None until start_episode().

    No fresh progress, no reward (docs/method.md#no-fresh-progress-no-reward): with
    ``progress_timeout`` (s, monotonic), a tick whose newest progress arrived longer ago than
    that (or none arrived in this episode) returns None and counts no step; ``stale_for`` says
    since when. The step after the gap chains on as usual (the shaping still telescopes); the
    agent stores no transition across it, as it holds the arm while no reward comes.
    ``progress_stamp`` is the newest progress's own stamp (any type; copied into the reward).
    """

    def __init__(self, config: ShapingConfig = ShapingConfig(), max_steps: int = 0,
                 progress_timeout: Optional[float] = None) -> None:
        if max_steps < 0:
            raise ValueError(f'max_steps must be >= 0 (0 = no limit), got {max_steps}')
        if progress_timeout is not None and not (isinstance(progress_timeout, (int, float))
                                                 and 0 < progress_timeout < math.inf):
            raise ValueError(f'progress_timeout must be > 0 seconds, got {progress_timeout!r}')
        self.config, self.max_steps = config, max_steps
        self.progress_timeout = progress_timeout
        self.episode_id = None
        self.start_episode(0)

    def start_episode(self, episode_id: int) -> None:
        self.episode_id = episode_id
        self.step_index = 0
        self.progress = 0.0        # Phi in effect now (observed)
        self.previous = 0.0        # Phi(s) of the next step
        self.success = None        # detected success of the newest progress (None: the rule)
        self.done = False
        self.progress_time = None  # monotonic arrival of the newest progress of this episode
        self.progress_stamp = None

    @property
    def rewarding(self) -> bool:
        """
        Whether rewards are being shaped: a step was counted or an episode started.

        The shaping settings (gamma, success_delta, terminate_on_success, terminal potential,
        max_steps) are fixed from then on: a learner's rewards would change meaning mid-run.
        """
        return bool(self.episode_id) or self.step_index > 0

    def observe(self, progress: float, success: Optional[bool] = None,
                now: Optional[float] = None, stamp=None) -> None:
        """
        Record the newest progress estimate (clamped to [0, 1]; NaN is ignored).

        success: the GRM's detected success (hysteresis) for it, or None: the threshold rule.
        now: its monotonic arrival time (s), for progress_timeout; stamp: its own stamp.
        """
        if progress == progress:
            self.progress = min(max(float(progress), 0.0), 1.0)
        self.success = success
        self.progress_time, self.progress_stamp = now, stamp

    def observe_success(self, success: Optional[bool]) -> None:
        """
        Replace the success of the newest progress (a flag from a stream of its own).

        shaping_node with ``success: simulator`` (rl.outcomes.ShapingSuccess): the simulator's
        flag arrives on ``sim_robot/success`` between progress messages.
        """
        self.success = success

    def stale_for(self, now: Optional[float]) -> Optional[float]:
        """
        Return how long (s) the newest progress has been too old to shape from, else None.

        inf when no progress arrived in this episode; never stale without progress_timeout
        or without `now`. A clock that ran backward counts as stale.
        """
        if self.progress_timeout is None or now is None:
            return None
        if self.progress_time is None:
            return math.inf
        age = now - self.progress_time
        return None if 0.0 <= age <= self.progress_timeout else abs(age)

    def paused(self, now: Optional[float]) -> Optional[str]:
        """
        Return why a running episode gets no reward now (its progress went stale), else None.

        None also before the episode's first progress: no episode runs yet (nothing to say).
        """
        stale = None if self.done else self.stale_for(now)
        if stale is None or stale == math.inf:
            return None
        return f'progress stale for {stale:.2f} s (progress_timeout {self.progress_timeout} s)'

    def tick(self, now: Optional[float] = None) -> Optional[tuple[int, ShapedReward]]:
        """
        Return (step index, ShapedReward) for the control step ending now, or None.

        None once the episode ended, and while the progress is stale (``stale_for(now)``).
        """
        if self.done or self.stale_for(now) is not None:
            return None
        truncated = self.max_steps > 0 and self.step_index + 1 >= self.max_steps
        reward = shape(self.previous, self.progress, self.config, truncated=truncated,
                       success=self.success)
        index = self.step_index
        self.step_index += 1
        self.previous = self.progress
        self.done = reward.terminal or reward.truncated
        return index, reward
