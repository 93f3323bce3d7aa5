# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The learner apart from the robots: episodes in from any number of actors, weights out.

What learner_node runs, ROS-free. ``RemoteLearner`` holds a LearnerThread (rl/learner_thread.py:
the offline stage, then updates back to back), the Inbox journal (rl/delivery.py) and the
checkpoints:

- ``receive(data)`` judges an episode packed by an actor (rl/wire.py): one that does not fit
  the learner's observations and actions is refused, named with its robot, and never stored;
  one already stored (its uid journaled or checkpointed) is acknowledged as a duplicate; a new
  one is journaled, then handed to the learner, then acknowledged. Every ``checkpoint_every``
  stored episodes a checkpoint is written with its ledger (the uids its buffers hold).
- ``weights(now)`` returns the newest acting weights, packed with their version and spec, when
  they changed and at most once per ``weights_period_s`` (monotonic seconds).
- ``resume`` rebuilds it after a restart (kill -9 included): the checkpoint's learner and
  ledger, then the journal's episodes the checkpoint does not hold, replayed in order.
"""

from dataclasses import dataclass
import threading

from robodopamine_ros.rl.wire import episode_metadata, pack_weights, unpack_episode

LEDGER = 'episode_uids'   # the checkpoint's extra: the uids its buffers hold


@dataclass
class Receipt:
    """What the learner did with one episode: 'stored', 'duplicate' or 'refused'."""

    status: str
    robot_id: str
    uid: str
    message: str

    @property
    def acknowledged(self):
        """Whether the actor may forget it: stored now or before (refused: never stored)."""
        return self.status in ('stored', 'duplicate')


class RemoteLearner:
    """
    A learner fed by actors over the network (module docstring).

    thread: an rl.learner_thread.LearnerThread (started by ``start``); inbox: an
    rl.delivery.Inbox whose ledger is the checkpoint's; checkpoint_dir: where checkpoints go;
    spec: rl.wire.weights_spec of the policy; checkpoint_every: stored episodes between
    checkpoints; weights_period_s: the least time between two weights messages; extra: what
    every checkpoint keeps beside the ledger (the policy's record: RLAgentSettings
    .checkpoint_extra). With the thread's updates_per_step > 0, each stored transition grants
    that many updates (the local learner's ratio of updates to control steps).
    """

    def __init__(self, thread, inbox, checkpoint_dir, spec, checkpoint_every=5,
                 weights_period_s=1.0, log=print, extra=None):
        self.extra = dict(extra or {})
        self.thread, self.inbox, self.checkpoint_dir = thread, inbox, checkpoint_dir
        self.spec, self.checkpoint_every = spec, checkpoint_every
        self.weights_period_s, self.log = weights_period_s, log
        self.learner = thread.learner
        self.received = {}        # robot id -> {'stored', 'duplicate', 'refused', 'steps'}
        self._since_checkpoint = 0
        self._lock = threading.Lock()
        self._pending, self._last_sent, self.published_version = None, None, -1

    def start(self):
        """Replay the journal's unsaved episodes into the learner, then start learning."""
        replayed = 0
        for _, data in self.inbox.unsaved():
            _, episode = unpack_episode(data, self.learner.agent.obs_shapes,
                                        self.learner.agent.action_dim)
            self.learner.add_episode(episode)
            replayed += 1
        if replayed:
            self.log(f'{replayed} episodes received after the last checkpoint replayed from '
                     f'{self.inbox.folder}')
        self.thread.start()
        return self

    def receive(self, data):
        """Judge, journal and store one packed episode; returns a Receipt."""
        try:
            metadata = episode_metadata(data)
        except ValueError as error:
            return Receipt('refused', '?', '', str(error))
        robot, uid = metadata.get('robot_id', '?'), metadata.get('uid', '')
        with self._lock:
            counts = self.received.setdefault(robot, dict.fromkeys(
                ('stored', 'duplicate', 'refused', 'steps'), 0))
            if uid in self.inbox.ledger or uid in self.inbox.entries:
                counts['duplicate'] += 1
                return Receipt('duplicate', robot, uid, 'stored before')
            try:
                _, episode = unpack_episode(data, self.learner.agent.obs_shapes,
                                            self.learner.agent.action_dim)
                self.inbox.receive(uid, data)
            except ValueError as error:
                counts['refused'] += 1
                return Receipt('refused', robot, uid, str(error))
            self.thread.add_episode(episode)
            for _ in episode.transitions:
                self.thread.grant()
            counts['stored'] += 1
            counts['steps'] += len(episode.transitions)
            self._since_checkpoint += 1
            if self._since_checkpoint >= self.checkpoint_every:
                self._checkpoint()
        return Receipt('stored', robot, uid, f'{len(episode.transitions)} steps stored')

    def checkpoint(self):
        """Write a checkpoint holding every episode received so far; returns its path or None."""
        with self._lock:
            return self._checkpoint()

    def _checkpoint(self):
        held = list(self.inbox.entries)
        path = self.thread.save(self.checkpoint_dir, extra=dict(
            self.extra, **{LEDGER: sorted(self.inbox.ledger | set(held))}))
        if path is not None:   # not in the middle of the offline stage
            self.inbox.saved(held)
            self._since_checkpoint = 0
        return path

    def weights(self, now):
        """Return (version, packed bytes) when new weights are due at `now` (s), else None."""
        newest = self.thread.take_weights()
        if newest is not None:
            self._pending = newest
        if self._pending is None or (self._last_sent is not None and
                                     now - self._last_sent < self.weights_period_s):
            return None
        state, version = self._pending
        self._pending, self._last_sent, self.published_version = None, now, version
        return version, pack_weights(state, version, self.spec)

    def status(self):
        """Return LearnerStatus' fields: updates, weights_version, episodes, transitions, stage."""
        counters = self.thread.learner.counters
        stage = 'online' if self.thread.online else 'offline stage'
        if self.thread.stopped:
            stage = f'stopped: {self.thread.error}'
        return {'updates': self.thread.total_updates,
                'weights_version': max(self.published_version, 0),
                'episodes': int(counters['episodes']),
                'transitions': int(counters['env_steps']), 'stage': stage}

    def diagnostics(self):
        """Return (level 'ok' or 'error', message, values) of /diagnostics: status + per robot."""
        status = self.status()
        values = dict(status, **{f'{robot} {k}': v for robot, counts in
                                 sorted(self.received.items()) for k, v in counts.items()})
        level = 'error' if self.thread.stopped else 'ok'
        return level, (f'{status["stage"]}: {status["updates"]} updates, '
                       f'{status["episodes"]} episodes'), values

    def stop(self):
        self.thread.stop()


def learner_ledger(extra):
    """Return the episode uids a resumed checkpoint's extra holds (none for a new learner)."""
    return (extra or {}).get(LEDGER, [])
