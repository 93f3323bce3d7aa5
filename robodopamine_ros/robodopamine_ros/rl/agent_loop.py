# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The agent on a robot, ROS-free: a control loop that never waits for learning (issue 9).

- ``LearnerThread`` runs ``Learner.update`` in a background thread; finished episodes reach it
  through a queue and fresh acting weights come back through a one-slot hand-over that the
  control loop polls without blocking.
- ``ControlLoop.tick`` is one control step: it checks the watchdog and the e-stop (a stop is
  the zero delta with the gripper held), picks the teleop action while an intervention is
  active and the policy's otherwise, passes it through the safety layer, and assembles the
  previous step's transition with the reward shaping_node published for it (its own reward,
  so stored rewards equal shaping_node's). Episodes end on a terminal or truncated reward or
  at max_steps.
Modes: 'train' (exploration + learning), 'eval' (deterministic, no learning), 'collect'
(teleop only; episodes are stored as demonstrations).
"""

from dataclasses import dataclass
import queue
import threading

import numpy as np
from robodopamine_ros.rl.replay import Episode

MODES = ('train', 'eval', 'collect')


class LearnerThread:
    """Learning beside control: episodes in through a queue, weights out through a slot."""

    def __init__(self, learner, publish_every=10, idle_sleep_s=0.005, offline_updates=0):
        self.learner = learner
        self.offline_updates = offline_updates  # stage I on the demo buffer first (SPEC 5, 6)
        self.publish_every = publish_every
        self.idle_sleep_s = idle_sleep_s
        self.episodes = queue.Queue()
        self.lock = threading.Lock()  # held while the learner changes (updates, saving)
        self._weights = None
        self._stop = threading.Event()
        self.updates = 0
        self.last_stats = {}
        self.thread = threading.Thread(target=self._run, name='learner', daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self.thread.is_alive():  # eval and collect modes never start it
            self.thread.join(timeout=10.0)

    def add_episode(self, episode):
        self.episodes.put(episode)

    def take_weights(self):
        """Return the newest acting weights once (None when none are new): never blocks."""
        weights, self._weights = self._weights, None
        return weights

    def _offline_stage(self):
        """Pre-train on the demonstrations (collected in `collect` mode), then go online."""
        with self.lock:
            if not (self.offline_updates and len(self.learner.demo)) or \
                    self.learner.counters['updates'] > 0:
                self.learner.set_stage('online')
                return
            self.learner.set_stage('offline')
        done = 0
        while done < self.offline_updates and not self._stop.is_set():
            with self.lock:
                self.last_stats = self.learner.update(min(50, self.offline_updates - done))
            done += 50
        with self.lock:
            self.learner.set_stage('online')
            self._weights = (self.learner.actor_state(), self.learner.counters['weights_version'])

    def _run(self):
        self._offline_stage()
        while not self._stop.is_set():
            with self.lock:
                while not self.episodes.empty():
                    self.learner.add_episode(self.episodes.get_nowait())
                ready = len(self.learner.demo) + len(self.learner.online) > 0
                if ready:
                    self.last_stats = self.learner.update(1)
                    self.updates += 1
                    if self.updates % self.publish_every == 0:
                        self._weights = (self.learner.actor_state(),
                                         self.learner.counters['weights_version'])
            if not ready:
                self._stop.wait(self.idle_sleep_s)

    def save(self, folder, extra=None):
        with self.lock:
            return self.learner.save(folder, extra)


@dataclass
class TickResult:
    action: np.ndarray        # the safe action to command
    source: str               # 'policy', 'teleop' or 'stop'
    stop_reason: str = None
    episode_done: bool = False
    summary: dict = None      # set when an episode ended at this tick


class ControlLoop:
    """One control step at a time; see the module docstring."""

    def __init__(self, actor, mode='train', max_steps=200, watchdog=None, on_episode=None,
                 home=None, home_tolerance=0.005):
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.actor, self.mode, self.max_steps = actor, mode, max_steps
        self.watchdog = watchdog
        self.on_episode = on_episode or (lambda episode: None)
        self.intervening = False
        self.teleop_action = np.zeros(4)
        self.episode = None
        self.previous = None  # (obs, action, intervention) of the step in flight
        self.episode_id = 0
        self.home = None if home is None else np.asarray(home, dtype=float)
        self.home_tolerance = home_tolerance

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
        self.episode = Episode(episode_id, demo=self.mode == 'collect')
        self.previous = None

    def set_intervention(self, active, action=None):
        self.intervening = bool(active)
        if action is not None:
            self.teleop_action = np.asarray(action, dtype=float)

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
            return TickResult(self.stop_action(), 'stop', 'held while homing'), False
        action, at_home = self.homing_action(ee_position)
        return TickResult(action, 'home'), at_home

    def stop_action(self):
        """Return the stop: zero motion, the gripper held at its last command."""
        return np.array([0.0, 0.0, 0.0, self.actor.safety.gripper])

    def tick(self, now, obs, ee_position, reward=None):
        """
        Run one control step.

        obs: the policy's observation dict; reward: the newest RewardStamped fields (dict)
        received since the last tick, or None.
        """
        done, summary = False, None
        if self.episode is not None and self.previous is not None and reward is not None:
            done, summary = self._store(obs, reward)
        reason = self.watchdog.stopped(now) if self.watchdog else None
        if reason is not None:
            self.previous = None  # no transition across a stop
            return TickResult(self.stop_action(), 'stop', reason, done, summary)
        if done or self.episode is None:
            return TickResult(self.stop_action(), 'stop', 'between episodes', done, summary)
        if self.intervening or self.mode == 'collect':
            action, _ = self.actor.safety(self.teleop_action if self.intervening
                                          else np.zeros(4), ee_position)
            source = 'teleop'
        else:
            action, _, _ = self.actor.act(obs, ee_position, self.mode == 'eval')
            source = 'policy'
        self.previous = (obs, action, source == 'teleop')
        return TickResult(action, source)

    def _store(self, obs, reward):
        previous_obs, action, intervention = self.previous
        terminal, truncated = bool(reward['terminal']), bool(reward['truncated'])
        if len(self.episode.transitions) + 1 >= self.max_steps and not terminal:
            truncated = True
        self.episode.add(previous_obs, action, obs, reward['reward'], terminal=terminal,
                         truncated=truncated, success=bool(reward['sparse_reward'] > 0),
                         intervention=intervention,
                         progress_before=reward['progress_before'],
                         progress_after=reward['progress_after'],
                         sparse_reward=reward['sparse_reward'])
        self.previous = None
        if not (terminal or truncated):
            return False, None
        episode, self.episode = self.episode, None
        summary = {'episode_id': episode.episode_id, 'steps': len(episode.transitions),
                   'success': episode.succeeded,
                   'return': sum(t['reward'] for t in episode.transitions),
                   'final_progress': episode.transitions[-1]['progress_after'],
                   'intervention_rate': episode.intervention_rate}
        if self.mode != 'eval':
            self.on_episode(episode)
        return True, summary
