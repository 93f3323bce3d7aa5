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
  end on a terminal or truncated step or at max_steps.
Modes: 'train' (exploration + learning), 'eval' (deterministic, no learning), 'collect'
(teleop only; episodes are stored as demonstrations).
"""

from dataclasses import dataclass
from enum import Enum
import queue
import threading

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


class LearnerThread:
    """Learning beside control: episodes in through a queue, weights out through a slot."""

    def __init__(self, learner, publish_every=10, idle_sleep_s=0.005, offline_updates=0,
                 pretrain_updates=0, updates_per_step=0):
        """
        Hold the learner; start() runs the offline stage, then online updates.

        updates_per_step: 0 runs updates back to back; n > 0 runs n updates per ``grant()``
        (one per control step taken once the learner is online) and hands the weights over
        after each step's updates, the ROS-free run's rule (rl.sim_training.run_episode).
        Updates a slow learner owes are ``backlog``; they run later, none is dropped. Steps
        taken while the buffers are still empty (no demonstrations: the first episode) are
        owed too and run once it is stored.
        """
        self.learner = learner
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
        self.thread = threading.Thread(target=self._run, name='learner', daemon=True)

    def start(self):
        self.thread.start()
        return self

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
        if self.updates_per_step and self._online.is_set():
            with self._granted:
                self._budget += self.updates_per_step
                self._granted.notify()

    @property
    def backlog(self):
        """Granted updates not yet run (0 when not budgeted)."""
        return self._budget

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
        for stage, n in plan:
            if self._stop.is_set():
                break
            self._give_way()
            with self.lock:
                self.learner.set_stage(stage)
                self.last_stats = self.learner.update(n)
        with self.lock:
            self._go_online()
            self._weights = (self.learner.actor_state(), self.learner.counters['weights_version'])

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
        offline stage they wait: it trains on the demonstrations alone.)
        """
        with self._waiters_lock:
            self._waiters += 1
        try:
            with self.lock:
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


class EpisodeCycle:
    """
    Between episodes on a robot: numbering, checkpoint cadence, then a reset or move-to-home.

    The node asks ``may_start`` every tick; a start in flight (grm_node's StartEpisode) or a
    reset in flight (the robot's reset service) sets ``starting`` until it answers; without a
    reset service, a loop with a home position moves home first (``homing``). ``finished``
    counts the episode and says whether a checkpoint is due (every ``checkpoint_every``).
    """

    def __init__(self, episodes_done=0, checkpoint_every=5, checkpoints=True, home=False):
        self.episodes_done = episodes_done
        self.checkpoint_every, self.checkpoints, self.home = checkpoint_every, checkpoints, home
        self.starting = False
        self.homing = False

    def may_start(self, loop):
        return loop.episode is None and not (self.starting or self.homing)

    def next_episode_id(self):
        return self.episodes_done + 1

    def finished(self, reset_available):
        """Count an ended episode; return whether a checkpoint is due."""
        self.episodes_done += 1
        if reset_available:
            self.starting = True   # until the reset answers
        elif self.home:
            self.homing = True
        return self.checkpoints and self.episodes_done % self.checkpoint_every == 0


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
                 home=None, home_tolerance=0.005, shaping=None, teleop=None, on_step=None):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.actor, self.mode, self.max_steps = actor, Mode(mode), max_steps
        self.watchdog = watchdog
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
        self._reset_progress()

    def _reset_progress(self):
        self.progress = 0.0        # newest Phi (0 at an episode start, by definition)
        self.success = None        # shaping_node's success for it (None: the threshold rule)
        self.ended = None          # 'terminal' / 'truncated' flagged by a reward message

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
        """Record the newest teleop action and its monotonic arrival time (s)."""
        self.teleop_action = np.asarray(action, dtype=float)
        self.teleop_time, self.teleop_travel = now, 0.0

    def observe_reward(self, reward):
        """
        Take a RewardStamped's fields: the newest progress and whether the episode ended.

        reward: dict with at least 'progress_after', 'terminal', 'truncated'.
        """
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

        A latched e-stop or stale observations hold the arm (rewards do not matter between
        episodes).
        """
        held = self.watchdog is not None and (
            self.watchdog.estop_reason is not None
            or 'observation' in self.watchdog.faults(now))
        if held:
            return TickResult(self.stop_action(), ActionSource.STOP, 'held while homing'), False
        action, at_home = self.homing_action(ee_position)
        return TickResult(action, ActionSource.HOME), at_home

    def stop_action(self):
        """Return the stop: zero motion, the gripper held at its last command."""
        return np.array([0.0, 0.0, 0.0, self.actor.safety.gripper])

    def _teleop_command(self, now, ee_position):
        """Return (safe teleop action or None when it expired, why it expired)."""
        age = None if self.teleop_time is None or now is None else now - self.teleop_time
        if age is not None and not 0.0 <= age <= self.teleop.timeout_s:
            return None, f'teleop silent for {age:.2f} s (timeout {self.teleop.timeout_s} s)'
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
            self.observe_reward(reward)
        done, summary = False, None
        if self.episode is not None and self.previous is not None:
            done, summary = self._store(obs)
        reason = self.watchdog.stopped(now) if self.watchdog else None
        if reason is not None:
            self.previous = None  # no transition across a stop
            return TickResult(self.stop_action(), ActionSource.STOP, reason, done, summary)
        if done or self.episode is None:
            return TickResult(self.stop_action(), ActionSource.STOP, 'between episodes', done,
                              summary)
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
        episode, self.episode = self.episode, None
        summary = {'episode_id': episode.episode_id, 'steps': len(episode.transitions),
                   'success': episode.succeeded,
                   'return': sum(t['reward'] for t in episode.transitions),
                   'final_progress': episode.transitions[-1]['progress_after'],
                   'intervention_rate': episode.intervention_rate}
        if self.mode != Mode.EVAL:
            self.on_episode(episode)
        return True, summary
