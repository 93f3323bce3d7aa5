# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The agent on a robot, ROS-free: a control loop that never waits for learning (issue 9).

- ``LearnerThread`` runs ``Learner.update`` in a background thread; finished episodes reach it
  through a queue and fresh acting weights come back through a one-slot hand-over that the
  control loop polls without blocking.
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
Modes: 'train' (exploration + learning), 'eval' (deterministic, no learning), 'collect'
(teleop only; episodes are stored as demonstrations).
"""

from dataclasses import dataclass
from enum import Enum
import math
import queue
import threading
import time

import numpy as np
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.reward.shaping import shape, ShapingConfig
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
# the offline stage's parts, as the log names them
STAGE_NAMES = {'pretrain': 'imitation', 'offline': 'offline RL'}
# stop reasons that are no hold of the arm (nothing to log)
NOT_HELD = ('between episodes', 'waiting for the first reward')
# the arm waits for imitation and offline RL: an untrained policy never drives it
OFFLINE_HOLD = 'offline stage running: the policy acts once imitation and offline RL are over'


class LearnerThread:
    """Learning beside control: episodes in through a queue, weights out through a slot."""

    def __init__(self, learner, publish_every=10, idle_sleep_s=0.005, offline_updates=0,
                 pretrain_updates=0, updates_per_step=0, log=None):
        """
        Hold the learner; start() runs the offline stage, then online updates.

        log(line): told when imitation, offline RL and online learning begin (called in the
        learner's thread; rl_agent_node's log).

        updates_per_step: 0 runs updates back to back; n > 0 runs n updates per ``grant()``
        (one per control step taken once the learner is online) and hands the weights over
        after each step's updates, the ROS-free run's rule (rl.sim_training.run_episode).
        Updates a slow learner owes are ``backlog``; they run later, none is dropped. Steps
        taken while the buffers are still empty (no demonstrations: the first episode) are
        owed too and run once it is stored.
        """
        self.learner = learner
        self.log = log or (lambda line: None)
        self.updates_per_step = updates_per_step
        self._budget = 0  # updates granted and not yet run (updates_per_step > 0)
        self._granted = threading.Condition()
        # stage I on the demo buffer first: imitation, then offline RL (none for a learner
        # that has already trained: a resumed checkpoint)
        self.pretrain_updates, self.offline_updates = pretrain_updates, offline_updates
        self._online = threading.Event()  # the offline stage is over (or there is none)
        if not self._offline_due():
            self._online.set()
        self.publish_every = publish_every
        self.idle_sleep_s = idle_sleep_s
        self.episodes = queue.Queue()
        self.lock = threading.Lock()  # held while the learner changes (updates, saving)
        # callers from other threads (saving) waiting for the lock: the update loop gives way
        # to them (a Lock is not fair: a loop that re-takes it at once can starve a waiter,
        # and with it the control thread that asked for a checkpoint)
        self._waiters = 0
        self._waiters_lock = threading.Lock()
        self._weights = None
        self._stop = threading.Event()
        self.updates = 0
        self.last_stats = {}
        self.error = None  # why the offline stage could not run (e.g. no demonstrations)
        self.stopped = False  # the update loop ended on an error (said in ``error``)
        self.thread = threading.Thread(target=self._run, name='learner', daemon=True)

    def start(self):
        self.thread.start()
        return self

    @property
    def online(self):
        """Whether the offline stage is over (or there was none)."""
        return self._online.is_set()

    @property
    def mid_offline(self):
        """Whether the offline stage has begun and not finished: no checkpoint now (save)."""
        return not self._online.is_set() and self.learner.counters['updates'] > 0

    @property
    def total_updates(self):
        """Return the learner's updates in all (offline stage and resumed runs included)."""
        return int(self.learner.counters['updates'])

    def describe(self):
        """Say what the learner holds: episodes, updates and both buffers (one line)."""
        counters = self.learner.counters
        return (f'{counters["episodes"]} episodes, {counters["updates"]} updates, demo buffer '
                f'{len(self.learner.demo)} transitions, online buffer '
                f'{len(self.learner.online)}')

    def stop(self):
        self._stop.set()
        if self.thread.is_alive():  # eval and collect modes never start it
            self.thread.join(timeout=10.0)

    def add_episode(self, episode):
        """Hand a finished episode to the learner (stored at once when no thread runs)."""
        if self.thread.is_alive():
            self.episodes.put(episode)
            return
        with self.lock:   # eval and collect never start the thread: store it now
            self.learner.add_episode(episode)

    def grant(self):
        """
        One control step was taken: allow updates_per_step more updates.

        No-op at 0, and before the offline stage is over (the ROS-free run takes no online
        step during it).
        """
        if self.updates_per_step and self._online.is_set() and not self.stopped:
            with self._granted:
                self._budget += self.updates_per_step
                self._granted.notify()

    @property
    def backlog(self):
        """Granted updates not yet run (0 when not budgeted)."""
        return self._budget

    @property
    def skipped(self):
        """Return the updates skipped so far for a non-finite loss (weights kept)."""
        return int(self.learner.agent.skipped)

    def _wait_for_budget(self):
        """Return whether an update may run now (waits briefly for a grant when budgeted)."""
        if not self.updates_per_step:
            return True
        with self._granted:
            if self._budget == 0:
                self._granted.wait(timeout=0.05)
            return self._budget > 0

    def take_weights(self):
        """Return the newest acting weights once (None when none are new): never blocks."""
        weights, self._weights = self._weights, None
        return weights

    def _offline_stage(self):
        """Pre-train on the demonstrations (collected in `collect` mode), then go online."""
        with self.lock:
            if not self._offline_due():
                self._go_online()
                return
            if len(self.learner.demo) == 0:
                self.error = ('no demonstrations: the offline stage was skipped (record '
                              'demonstrations in mode collect first)')
                self._go_online()
                return
            plan = list(self.learner.offline_plan(self.pretrain_updates, self.offline_updates))
            demo = len(self.learner.demo)
        stage_now, began = None, time.monotonic()
        for stage, n in plan:
            if self._stop.is_set():
                self.log(f'offline stage stopped in {STAGE_NAMES[stage]} (shutdown): it runs '
                         'again at the next launch')
                return
            if stage != stage_now:
                self.log(self._stage_line(stage_now, stage, began, demo))
                stage_now, began = stage, time.monotonic()
            self._give_way()
            with self.lock:
                self.learner.set_stage(stage)
                self.last_stats = self.learner.update(n)
        with self.lock:
            self._go_online()
            self._weights = (self.learner.actor_state(), self.learner.counters['weights_version'])
        self.log(self._stage_line(stage_now, 'online', began, demo))

    def _stage_line(self, done, stage, began, demo):
        """Say that `stage` begins (and how long the stage `done` took)."""
        ended = '' if done is None else \
            f'{STAGE_NAMES[done]} done in {time.monotonic() - began:.1f} s; '
        if stage == 'online':
            return (f'{ended}offline stage over ({self.learner.counters["updates"]} updates): '
                    'online learning')
        n = self.pretrain_updates if stage == 'pretrain' else self.offline_updates
        return f'{ended}{STAGE_NAMES[stage]}: {n} updates on the demo buffer ({demo} transitions)'

    def _offline_due(self):
        return bool(self.pretrain_updates + self.offline_updates) and \
            self.learner.counters['updates'] == 0

    def _go_online(self):
        """End the offline stage (call holding the lock)."""
        self.learner.set_stage('online')
        self._online.set()

    def _take_episodes(self):
        """Store the episodes handed over so far (call holding the lock)."""
        while not self.episodes.empty():
            self.learner.add_episode(self.episodes.get_nowait())

    def _give_way(self):
        """Wait while another thread waits for the learner (it goes first)."""
        while self._waiters and not self._stop.is_set():
            self._stop.wait(0.001)

    def _run(self):
        try:
            self._learn()
        except Exception as error:  # noqa: B902 (any failure: said, never silent)
            # the control loop goes on with the weights it holds (before the offline stage is
            # over the arm stays held: ControlLoop.policy_ready); the node logs this once
            self.error = f'the learner stopped: {type(error).__name__}: {error}'
            self.stopped = True

    def _learn(self):
        self._offline_stage()
        while not self._stop.is_set():
            if not self._wait_for_budget():
                continue
            self._give_way()
            with self.lock:
                self._take_episodes()
                ready = len(self.learner.demo) + len(self.learner.online) > 0
                if ready:
                    self.last_stats = self.learner.update(1)
                    self.updates += 1
                    if self.updates_per_step:  # the last update a step was granted
                        due = (self._budget - 1) % self.updates_per_step == 0
                    else:
                        due = self.updates % self.publish_every == 0
                    if due:
                        self._weights = (self.learner.actor_state(),
                                         self.learner.counters['weights_version'])
                    if self.updates_per_step:  # after the hand-over: backlog 0 means done
                        with self._granted:
                            self._budget -= 1
            if not ready:
                self._stop.wait(self.idle_sleep_s)

    def save(self, folder, extra=None):
        """
        Write a checkpoint between two updates (the update loop gives way).

        Once the learner is online, episodes handed over and not yet taken by the thread are
        stored first: a checkpoint written after episode k holds episode k. (During the
        offline stage they wait: it trains on the demonstrations alone.) Returns the path, or
        None (nothing written) in the middle of the offline stage: the next launch would skip
        its rest (``mid_offline``).
        """
        with self._waiters_lock:
            self._waiters += 1
        try:
            with self.lock:
                if self.mid_offline:
                    return None
                if self._online.is_set():
                    self._take_episodes()
                return self.learner.save(folder, extra)
        finally:
            with self._waiters_lock:
                self._waiters -= 1


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
    Time (``now``) is monotonic seconds.
    """

    def __init__(self, actor, mode='train', max_steps=200, watchdog=None, on_episode=None,
                 home=None, home_tolerance=0.005, shaping=None, teleop=None, on_step=None,
                 reward_loss_s=REWARD_LOSS_S, policy_ready=None):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.actor, self.mode, self.max_steps = actor, Mode(mode), max_steps
        self.watchdog = watchdog
        # whether the policy's weights may drive the arm (train: the offline stage is over;
        # LearnerThread.online): until then the arm is held and no episode starts
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
        self.intervening = False
        self.teleop_action = np.zeros(4)
        self.teleop_time = None     # monotonic arrival of the newest teleop action
        self.teleop_travel = 0.0    # m commanded since that action arrived
        self.episode = None
        self.previous = None  # (obs, action, intervention, Phi at its start) of the step in flight
        self.episode_id = 0
        self.home = None if home is None else np.asarray(home, dtype=float)
        self.home_tolerance = home_tolerance
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
        return self._close()

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
        (rewards do not matter between episodes).
        """
        held = self.hold_reason(now)
        if held is not None:
            return TickResult(self.stop_action(), ActionSource.STOP, held), False
        action, at_home = self.homing_action(ee_position)
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
        if not self.policy_ready():
            return OFFLINE_HOLD
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
        done, summary = False, None
        if self.episode is not None and self.episode_time is None:
            self.episode_time = now
        if self.episode is not None and self.previous is not None:
            done, summary = self._store(obs)
        if self.episode is not None and not done:   # held: the episode's end still counts
            why = self._ended_while_held(now)
            if why is not None:
                done, summary = True, self._close_held(why)
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

    def _store(self, obs):
        previous_obs, action, intervention, progress_before = self.previous
        truncated = self.ended == 'truncated' or (
            len(self.episode.transitions) + 1 >= self.max_steps)
        step = shape(progress_before, self.progress, self.shaping,
                     terminal=self.ended == 'terminal', truncated=False, success=self.success)
        if not step.terminal and truncated:
            step = shape(progress_before, self.progress, self.shaping, truncated=True,
                         success=self.success)
        self.episode.add(previous_obs, action, obs, step.reward, terminal=step.terminal,
                         truncated=step.truncated, success=step.sparse_reward > 0,
                         intervention=intervention, progress_before=progress_before,
                         progress_after=self.progress, sparse_reward=step.sparse_reward)
        self.previous = None
        if not (step.terminal or step.truncated):
            return False, None
        return True, self._close()

    def _close_held(self, why):
        """End the episode without a step (see _ended_while_held); its last step truncated."""
        self.previous = None
        if self.episode.transitions and not self.episode.transitions[-1]['terminal']:
            self.episode.transitions[-1]['truncated'] = True
        return dict(self._close(), ended=why)

    def _close(self):
        """End the episode: to the learner (not in eval, not when empty); return its summary."""
        episode, self.episode = self.episode, None
        transitions = episode.transitions
        summary = {'episode_id': episode.episode_id, 'steps': len(transitions),
                   'success': episode.succeeded,
                   'return': sum(t['reward'] for t in transitions),
                   'final_progress': transitions[-1]['progress_after'] if transitions
                   else self.progress,
                   'intervention_rate': episode.intervention_rate}
        if self.mode != Mode.EVAL and transitions:
            self.on_episode(episode)
        return summary
