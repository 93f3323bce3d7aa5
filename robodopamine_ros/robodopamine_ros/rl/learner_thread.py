# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The learner beside a robot's control loop, ROS-free: ``LearnerThread`` (issue 9).

It runs ``Learner.update`` in a background thread: finished episodes reach it through a queue,
and fresh acting weights come back through a one-slot hand-over that the control loop
(rl.agent_loop.ControlLoop) polls without blocking. In train mode it first runs the offline
stage (imitation, then offline RL, on the demo buffer), then learns online, at most
``updates_per_step`` updates per control step granted (0: as many as it manages).
"""

import queue
import threading
import time

# the offline stage's parts, as the log names them
STAGE_NAMES = {'pretrain': 'imitation', 'offline': 'offline RL'}


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
        """
        Return the newest acting weights once, (state, version), or None: never blocks.

        version: the learner's update count when they were taken (what a remote actor's lag is
        counted in).
        """
        weights, self._weights = self._weights, None
        return weights

    def _offline_stage(self):
        """Pre-train on the demonstrations (collected in `collect` mode), then go online."""
        with self.lock:
            due = self._offline_due()
            if not due or len(self.learner.demo) == 0:
                if due:
                    self.error = ('no demonstrations: the offline stage was skipped (record '
                                  'demonstrations in mode collect first)')
                self._go_online()   # the weights as they are: what a remote actor waits for
                self._weights = (self.learner.actor_state(), self.learner.counters['updates'])
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
            self._weights = (self.learner.actor_state(), self.learner.counters['updates'])
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
                        self._weights = (self.learner.actor_state(),   # version: updates
                                         self.learner.counters['updates'])
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
