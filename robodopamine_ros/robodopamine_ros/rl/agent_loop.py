# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The agent on a robot, ROS-free: a control loop that never waits for learning (issue 9).

- The learner beside it runs in a thread of its own (rl.learner_thread.LearnerThread): the
  control loop hands it finished episodes and polls fresh acting weights without blocking.
- ``ControlLoop.tick`` is one control step: it checks the watchdog and the e-stop (a stop is
  the zero delta with the gripper held), picks the teleop action while an intervention is
  active (until it expires: ``TeleopExpiry``) and the policy's otherwise, passes it through
  the safety layer, and stores the previous step's transition exactly once, with the reward
  of that step shaped from the progress at its start and end (see ``ControlLoop``). Episodes
  end on a terminal or truncated step or at max_steps; shaping_node's end of an episode also
  counts while the arm is held (no step stored), and so does a loss of fresh rewards for
  ``reward_loss_s`` (grm_node dead). Between episodes, ``rl.episode_cycle.EpisodeCycle``
  resets, homes and starts the next episode only once no hold is on
  (``ControlLoop.hold_reason``).
- The operator's outcome labels (``ControlLoop.mark_outcome``, rl_agent_node's
  ``~/mark_outcome``; rules: rl.outcomes.OutcomeLabels): with success 'operator' or 'either' a
  label ends the running episode as a success or a failure, and an episode that ended without
  one waits ``label_window`` s for one, held back from the learner, before it goes on (its
  summary comes then); a late label is refused, naming the episode.
Modes: 'train' (exploration + learning), 'eval' (deterministic, no learning), 'collect'
(teleop only; episodes are stored as demonstrations).
"""

from dataclasses import dataclass
from enum import Enum
import math

import numpy as np
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.reward.shaping import shape, ShapingConfig
from robodopamine_ros.rl.outcomes import LABEL_WINDOW_S, OutcomeLabels, relabel_steps
from robodopamine_ros.rl.replay import Episode


class Mode(str, Enum):
    """How the agent runs on a robot (module docstring); equal to their string values."""

    TRAIN = 'train'
    EVAL = 'eval'
    COLLECT = 'collect'


MODES = tuple(mode.value for mode in Mode)
# m: the policy holds when the hand is further than this outside the workspace box (the box
# clips commanded steps to its faces, so a hand on a face is inside up to rounding)
OUTSIDE_MARGIN_M = 0.01
# the watchdog streams that carry rewards: they stop between episodes, and the progress stream
# is fed only by a reward whose progress stamp is new (no fresh progress, no reward)
REWARD_STREAMS = ('reward', 'progress')
# s without fresh rewards after which a running episode ends (grm_node dead and respawning:
# shaping_node then sends no end of episode); longer than a camera's or a model's hiccup
REWARD_LOSS_S = 5.0
# s of moving toward home (between episodes, no reset service) after which the hand is taken to
# be blocked (an obstacle, a home the workspace box cannot reach): the move stops and an e-stop
# latches, so the arm never pushes against what holds it; far above a clear move's few seconds
HOME_TIMEOUT_S = 30.0
# an ended episode waits for the operator's label (rl.outcomes.OutcomeLabels): the arm is still
LABEL_WAIT = "waiting for the operator's label"
# stop reasons that are no hold of the arm (nothing to log)
NOT_HELD = ('between episodes', 'waiting for the first reward', LABEL_WAIT)
# the arm waits for imitation and offline RL: an untrained policy never drives it
OFFLINE_HOLD = 'offline stage running: the policy acts once imitation and offline RL are over'


TELEOP_TIMEOUT_ACTIONS = ('stop', 'policy')


@dataclass
class TeleopExpiry:
    """
    What happens when the teleop stream goes silent during a takeover.

    A teleop action is valid for ``timeout_s`` after its message arrived (monotonic clock);
    after that ``on_timeout`` decides: 'stop' holds the arm until a new teleop message, or
    'policy' hands control back to the policy. Independently of time, the arm travels at most
    ``max_travel_m`` (commanded end-effector motion) on one teleop message: a dead operator
    cannot drive the arm further than that whatever the velocity limits.
    """

    timeout_s: float = 0.5
    max_travel_m: float = 0.05
    on_timeout: str = 'stop'

    def __post_init__(self):
        if not (self.timeout_s > 0 and self.max_travel_m > 0):
            raise ValueError(f'teleop timeout_s and max_travel_m must be > 0, got '
                             f'{self.timeout_s} and {self.max_travel_m}')
        if self.on_timeout not in TELEOP_TIMEOUT_ACTIONS:
            raise ValueError(f'teleop on_timeout must be one of {TELEOP_TIMEOUT_ACTIONS}, got '
                             f'{self.on_timeout!r}')


@dataclass
class TickResult:
    action: np.ndarray        # the safe action to command
    source: ActionSource      # policy, teleop, home or stop
    stop_reason: str = None
    episode_done: bool = False
    summary: dict = None      # set when an episode ended at this tick


class ControlLoop:
    """
    One control step at a time; see the module docstring.

    Transitions: the action executed from tick k to tick k+1 is stored once, at tick k+1,
    with the reward of that step computed here from the progress in effect at both ticks
    (``shape(Phi_k, Phi_k+1)``, the same rule shaping_node applies). Reward messages only
    deliver the newest progress and the terminal/truncated flags, so however the agent's and
    shaping_node's timers interleave (none, one or several rewards between two ticks) no
    executed action is lost or stored twice, and the stored rewards telescope. A stop
    (watchdog, e-stop, silent teleop) breaks the chain: the step in flight is dropped.
    Time (``now``) is monotonic seconds. success and label_window: where an episode's success
    comes from and how long an unlabelled end waits for the operator's label
    (rl.outcomes.OutcomeLabels; ``mark_outcome``).
    """

    def __init__(self, actor, mode='train', max_steps=200, watchdog=None, on_episode=None,
                 home=None, home_tolerance=0.005, shaping=None, teleop=None, on_step=None,
                 reward_loss_s=REWARD_LOSS_S, policy_ready=None, success='detector',
                 label_window=LABEL_WINDOW_S, home_timeout=HOME_TIMEOUT_S):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.actor, self.mode, self.max_steps = actor, Mode(mode), max_steps
        self.watchdog = watchdog
        # whether the policy's weights may drive the arm (train: the offline stage is over;
        # LearnerThread.online; a remote learner's RemoteActor.ready: True or why not): until
        # then the arm is held and no episode starts
        self.policy_ready = policy_ready or (lambda: True)
        self.on_episode = on_episode or (lambda episode: None)
        # called once per executed step of a training episode (policy or takeover): the
        # learner's update budget (LearnerThread.grant)
        self.on_step = on_step if self.mode == Mode.TRAIN and on_step else (lambda: None)
        self.shaping = shaping or ShapingConfig(gamma=actor.agent.config.gamma)
        if abs(self.shaping.gamma - actor.agent.config.gamma) > 1e-9:
            raise ValueError(f"the shaping gamma {self.shaping.gamma} must equal the critic's "
                             f'gamma {actor.agent.config.gamma}')
        self.teleop = teleop or TeleopExpiry()
        self.labels = OutcomeLabels(success, label_window)
        self.intervening = False
        self.teleop_action = np.zeros(4)
        self.teleop_time = None     # monotonic arrival of the newest teleop action
        self.teleop_travel = 0.0    # m commanded since that action arrived
        self.episode = None
        self.previous = None  # (obs, action, intervention, Phi at its start) of the step in flight
        self.episode_id = 0
        self.home = None if home is None else np.asarray(home, dtype=float)
        self.home_tolerance = home_tolerance
        self.home_timeout = home_timeout
        self.homing_since = None   # monotonic s the current move toward home began
        self.reward_loss_s = reward_loss_s
        self.progress_stamp = None  # the newest reward's progress stamp: a new one is fresh
        self._reset_progress()

    def _reset_progress(self):
        self.progress = 0.0        # newest Phi (0 at an episode start, by definition)
        self.success = None        # shaping_node's success for it (None: the threshold rule)
        self.ended = None          # 'terminal' / 'truncated' flagged by a reward message
        self.rewarded = False      # a reward of this episode arrived
        self.episode_time = None   # monotonic time of the episode's first tick

    def homing_action(self, ee_position):
        """
        Return (safe action toward the home position, whether the hand is home).

        The move-to-home routine between episodes on a robot without a reset service: a
        proportional step toward `home`, through the same safety layer as every command.
        """
        error = self.home - np.asarray(ee_position, dtype=float)[:3]
        if np.all(np.abs(error) <= self.home_tolerance):
            return self.stop_action(), True
        units = error / self.actor.safety.config.meters_per_unit
        action, _ = self.actor.safety(np.concatenate([units, [self.actor.safety.gripper]]),
                                      ee_position)
        return action, False

    def start_episode(self, episode_id):
        self.episode_id = episode_id
        self.episode = Episode(episode_id, demo=self.mode == Mode.COLLECT)
        self.previous = None
        self._reset_progress()
        self.labels.start(episode_id)

    def release_held(self, now=None):
        """
        Hand on the episode waiting for the operator's label once its wait is over.

        Returns its summary (what ``tick`` returns when it ends the wait), or None: no episode
        waits, or its window is still open at ``now`` (monotonic s). now None: at once,
        labelled as it is (the node's shutdown; a tick without an observation passes its now,
        so the wait ends on time while the cameras are silent).
        """
        if self.episode is not None or not self.labels.waiting or not self.labels.due(now):
            return None
        episode, why = self.labels.release(self.shaping, now)
        summary = self._close(episode)
        return summary if why is None else dict(summary, ended=why)

    @property
    def waiting_for_label(self):
        """Whether an ended episode waits for the operator's label: no next episode yet."""
        return self.labels.waiting

    def mark_outcome(self, episode_id, success, source='', now=None):
        """
        Take the operator's outcome label (``~/mark_outcome``); return a LabelAnswer.

        episode_id: 0 (the episode waiting for a label, else the running one) or an id;
        success: True (a success) or False (a failure); source: who labels (logs); now:
        monotonic s. Rules: rl.outcomes.OutcomeLabels.
        """
        return self.labels.mark(episode_id, success, source, now)

    def set_intervention(self, active, action=None, now=None):
        """Start or end a takeover; an action given here counts as a teleop message."""
        self.intervening = bool(active)
        if action is not None:
            self.set_teleop_action(action, now)
        elif active and self.teleop_time is None:
            self.teleop_time = now

    def set_teleop_action(self, action, now=None):
        """
        Record the newest teleop action and its monotonic arrival time (s).

        Raises ValueError (the action unchanged) unless it is 4 finite values (dx, dy, dz,
        gripper): a teleop message is untrusted input.
        """
        values = np.asarray(action, dtype=float).reshape(-1)
        if values.shape != (4,) or not np.all(np.isfinite(values)):
            raise ValueError(f'teleop action must be 4 finite values (dx, dy, dz, gripper), '
                             f'got {values.tolist()}: refused')
        self.teleop_action = values
        self.teleop_time, self.teleop_travel = now, 0.0

    def operator_present(self, now):
        """
        Return whether a person holds the teleop deadman now (monotonic s).

        True while a takeover is active and its newest teleop action is fresh (at most
        ``teleop.timeout_s`` old): teleop_node publishes actions only while the deadman is held.
        What clearing the e-stop requires.
        """
        return self.intervening and self.teleop_time is not None and now is not None and \
            0.0 <= now - self.teleop_time <= self.teleop.timeout_s

    def abort_episode(self):
        """
        End the running episode now (an e-stop was cleared); return its summary, or None.

        The steps stored so far stay one episode, its last step truncated (bootstrapped, as at
        a time limit); the step in flight is dropped. The next episode starts after the reset
        or the move home, as after any episode: the policy acts again only then.
        """
        self.previous = None
        if self.episode is None:
            return None
        if self.episode.transitions and not self.episode.transitions[-1]['terminal']:
            self.episode.transitions[-1]['truncated'] = True
        episode, self.episode = self.episode, None
        self.labels.hold(episode, None)   # no label wait: the operator is at the robot
        return self._close(episode)

    def observe_reward(self, reward, now=None):
        """
        Take a RewardStamped's fields: the newest progress and whether the episode ended.

        reward: dict with at least 'progress_after', 'terminal', 'truncated'; with
        'progress_stamp_ns' (the stamp of the progress it was shaped from), a stamp that
        differs from the last one feeds the watchdog's 'progress' stream at `now` (monotonic
        s): rewards that keep coming from a frozen progress let that stream go stale, and the
        arm is held (docs/method.md#no-fresh-progress-no-reward).
        """
        stamp = reward.get('progress_stamp_ns')
        if stamp is not None and stamp != self.progress_stamp:
            self.progress_stamp = stamp
            if self.watchdog is not None and 'progress' in self.watchdog.timeouts:
                self.watchdog.feed('progress', now)
        self.rewarded = True
        progress = float(reward['progress_after'])
        if progress == progress:  # NaN keeps the last value
            self.progress = min(max(progress, 0.0), 1.0)
        # success as shaping_node decided it (the GRM's detection, with hysteresis)
        self.success = float(reward['sparse_reward']) > 0.0 if 'sparse_reward' in reward \
            else None
        if reward['terminal']:
            self.ended = 'terminal'
        elif reward['truncated'] and self.ended is None:
            self.ended = 'truncated'

    def home_step(self, now, ee_position):
        """
        One tick of the move-to-home routine; returns (TickResult, whether the hand is home).

        A hold (``hold_reason``: e-stop, stale observations, an expired takeover) holds the arm
        (rewards do not matter between episodes) and restarts the time limit. Not home after
        ``home_timeout`` s of moving: a stop, and the watchdog's e-stop latches naming it (the
        operator clears the way, then clears the e-stop with the deadman; homing resumes).
        """
        held = self.hold_reason(now)
        if held is not None:
            self.homing_since = None
            return TickResult(self.stop_action(), ActionSource.STOP, held), False
        if self.homing_since is None:
            self.homing_since = now
        elif now - self.homing_since > self.home_timeout:
            self.homing_since = None
            reason = (f'not home after {self.home_timeout:g} s of homing (blocked, or a home '
                      'the workspace cannot reach): clear the way, then clear the e-stop')
            if self.watchdog is not None:
                self.watchdog.estop(reason)
            return TickResult(self.stop_action(), ActionSource.STOP, reason), False
        action, at_home = self.homing_action(ee_position)
        if at_home:
            self.homing_since = None
        return TickResult(action, ActionSource.HOME), at_home

    def stop_action(self):
        """Return the stop: zero motion, the gripper held at its last command."""
        return np.array([0.0, 0.0, 0.0, self.actor.safety.gripper])

    def hold_reason(self, now):
        """
        Return why the arm is held whatever the episode does, or None.

        A latched e-stop, a stale robot stream (every watched stream but the rewards, which
        stop between episodes), or a takeover whose teleop went silent with on_timeout 'stop'.
        While one is on, nothing resets, homes or starts between episodes (EpisodeCycle).
        """
        if self.watchdog is not None:
            if self.watchdog.estop_reason is not None:
                return f'latched e-stop: {self.watchdog.estop_reason}'
            faults = {k: v for k, v in self.watchdog.faults(now).items()
                      if k not in REWARD_STREAMS}
            if faults:
                return '; '.join(f'{k} {v}' for k, v in sorted(faults.items()))
        if self.intervening and self.teleop.on_timeout == 'stop':
            return self._teleop_expired(now)
        ready = self.policy_ready()   # True, or False / why not (a remote learner's)
        if ready is not True:
            return ready if isinstance(ready, str) else OFFLINE_HOLD
        return None

    def _teleop_expired(self, now):
        """Return why the newest teleop action expired, or None while it is valid."""
        age = None if self.teleop_time is None or now is None else now - self.teleop_time
        if age is not None and not 0.0 <= age <= self.teleop.timeout_s:
            return f'teleop silent for {age:.2f} s (timeout {self.teleop.timeout_s} s)'
        return None

    def _ended_while_held(self, now):
        """
        Return why the running episode ends at this tick although no step ends it, or None.

        Called with no step in flight (the arm was held, or the episode just began): shaping
        ended the episode (its end flags come whether the arm moves or not), or no fresh
        reward came for reward_loss_s (grm_node dead: shaping sends no end).
        """
        if self.labels.label is not None:
            return f'labelled {"success" if self.labels.label else "failure"} while the arm ' \
                'was held'
        if self.ended is not None:
            return f'{self.ended} while the arm was held'
        if self.watchdog is None or not self.reward_loss_s:
            return None
        lasts = [self.watchdog.last[n] for n in REWARD_STREAMS if n in self.watchdog.timeouts]
        if not lasts:
            return None
        fresh = max(min(-math.inf if t is None else t for t in lasts), self.episode_time)
        if now - fresh > self.reward_loss_s:
            return f'no fresh reward for {now - fresh:.1f} s (limit {self.reward_loss_s} s)'
        return None

    def _teleop_command(self, now, ee_position):
        """Return (safe teleop action or None when it expired, why it expired)."""
        expired = self._teleop_expired(now)
        if expired is not None:
            return None, expired
        action, _ = self.actor.safety(self.teleop_action, ee_position)
        step = float(np.linalg.norm(action[:3])) * self.actor.safety.config.meters_per_unit
        remaining = max(self.teleop.max_travel_m - self.teleop_travel, 0.0)
        if step > remaining:  # the travel budget of one teleop message is spent
            action[:3] *= remaining / step
            step = remaining
        self.teleop_travel += step
        return action, None

    def tick(self, now, obs, ee_position, reward=None):
        """
        Run one control step.

        now: monotonic seconds; obs: the policy's observation dict; reward: the newest
        RewardStamped fields (dict) received since the last tick, or None (already given
        through ``observe_reward``, or none arrived).
        """
        if reward is not None:
            self.observe_reward(reward, now)
        if self.episode is None and self.labels.waiting:   # an ended episode, labels taken
            summary = self.release_held(now)
            if summary is None:
                return TickResult(self.stop_action(), ActionSource.STOP,
                                  self.hold_reason(now) or LABEL_WAIT)
            return TickResult(self.stop_action(), ActionSource.STOP,
                              self.hold_reason(now) or 'between episodes', True, summary)
        done, summary = False, None
        if self.episode is not None and self.episode_time is None:
            self.episode_time = now
        if self.episode is not None and self.previous is not None:
            done, summary = self._store(obs, now)
        if self.episode is not None and not done:   # held: the episode's end still counts
            why = self._ended_while_held(now)
            if why is not None:
                done, summary = True, self._close_held(why, now)
        if done or self.episode is None:
            self.previous = None
            return TickResult(self.stop_action(), ActionSource.STOP,
                              self.hold_reason(now) or 'between episodes', done, summary)
        reason = self.watchdog.stopped(now) if self.watchdog else None
        if reason is not None:
            self.previous = None  # no transition across a stop
            if not self.rewarded and self.hold_reason(now) is None:
                reason = 'waiting for the first reward'   # the episode just started
            return TickResult(self.stop_action(), ActionSource.STOP, reason)
        if self.intervening or self.mode == Mode.COLLECT:
            action, expired = self._teleop_command(now, ee_position) if self.intervening \
                else self.actor.safety(np.zeros(4), ee_position)
            if expired is not None and self.teleop.on_timeout == 'policy' and \
                    self.mode != Mode.COLLECT:
                self.intervening = False
            elif expired is not None:
                self.previous = None
                return TickResult(self.stop_action(), ActionSource.STOP, expired)
            else:
                self.previous = (obs, action, self.intervening, self.progress)
                self.on_step()
                return TickResult(action, ActionSource.TELEOP)
        outside = self.actor.safety.outside(ee_position, OUTSIDE_MARGIN_M)
        if outside is not None:  # the policy holds; a takeover may bring the hand back
            self.previous = None
            return TickResult(self.stop_action(), ActionSource.STOP, outside)
        action, _, _ = self.actor.act(obs, ee_position, self.mode == Mode.EVAL)
        self.previous = (obs, action, False, self.progress)
        self.on_step()
        return TickResult(action, ActionSource.POLICY)

    def _store(self, obs, now=None):
        previous_obs, action, intervention, progress_before = self.previous
        ended, success = self.ended, self.success
        if self.labels.label is not None:   # the operator's label overrides the detector
            if not self.labels.label and success:   # a detector success rejected
                self.labels.rejected.add(self.episode.episode_id)
            ended, success = ('terminal', True) if self.labels.label else ('truncated', False)
        truncated = ended == 'truncated' or (
            len(self.episode.transitions) + 1 >= self.max_steps)
        step = shape(progress_before, self.progress, self.shaping,
                     terminal=ended == 'terminal', truncated=False, success=success)
        if not step.terminal and truncated:
            step = shape(progress_before, self.progress, self.shaping, truncated=True,
                         success=success)
        self.episode.add(previous_obs, action, obs, step.reward, terminal=step.terminal,
                         truncated=step.truncated, success=step.sparse_reward > 0,
                         intervention=intervention, progress_before=progress_before,
                         progress_after=self.progress, sparse_reward=step.sparse_reward)
        self.previous = None
        if not (step.terminal or step.truncated):
            return False, None
        return True, self._end(now)

    def _close_held(self, why, now=None):
        """
        End the episode without a step (see _ended_while_held).

        Its last step is truncated, or as the operator's label says.
        """
        self.previous = None
        steps = self.episode.transitions
        if self.labels.label is not None:
            if relabel_steps(steps, self.labels.label, self.shaping):
                self.labels.rejected.add(self.episode.episode_id)
        elif steps and not steps[-1]['terminal']:
            steps[-1]['truncated'] = True
        return self._end(now, why)

    def _end(self, now, why=None):
        """
        End the running episode; return its summary.

        None while it waits for the operator's label (OutcomeLabels.hold): the summary comes
        from the tick that ends the wait.
        """
        episode, self.episode = self.episode, None
        if self.labels.hold(episode, now, why):
            return None
        summary = self._close(episode)
        return summary if why is None else dict(summary, ended=why)

    def _close(self, episode):
        """Hand an episode on (the learner; not in eval, not when empty); return its summary."""
        transitions = episode.transitions
        summary = {'episode_id': episode.episode_id, 'steps': len(transitions),
                   'success': episode.succeeded,
                   'return': sum(t['reward'] for t in transitions),
                   'final_progress': transitions[-1]['progress_after'] if transitions
                   else self.progress,
                   'intervention_rate': episode.intervention_rate,
                   **self.labels.record(episode.episode_id)}
        if self.mode != Mode.EVAL and transitions:
            self.on_episode(episode)
        return summary
