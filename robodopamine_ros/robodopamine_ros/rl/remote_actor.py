# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A robot's agent whose learner runs elsewhere (learner 'remote'): episodes out, weights in.

What rl_agent_node runs in place of its LearnerThread when parameter ``learner`` is 'remote'
(docs/architecture.md#beyond-one-machine), ROS-free: the node only moves bytes between this
and the graph (SubmitEpisode calls to learner_node, PolicyWeights and LearnerStatus messages).
``RemoteActor`` offers the control loop what a LearnerThread does (``add_episode``,
``grant``, ``online``, ``take_weights``, ...), so the control loop, its safety layer and its
episode cycle are the same in both modes.

- Episodes: each finished one is packed (rl/wire.py) with the robot id and put in the outbox
  on disk (rl/delivery.py) before anything is sent. ``next_send(now)`` gives the oldest
  waiting episode once the learner answers and nothing is in flight; ``answered`` forgets it
  when the learner stored it (or had it: 'duplicate'), and sets a refused one aside in
  ``<outbox>/refused`` (the learner will never take it; kept for a person to read);
  ``send_failed`` (no answer within ``send_timeout_s``, the learner gone) sends it again
  after ``retry_s``. A full outbox (``capacity`` waiting) holds the arm before the next
  episode: its data would have nowhere to go.
- Weights: ``receive_weights`` unpacks the learner's newest (another spec: refused, naming
  both); the control loop takes them at its next tick. Until the first weights the actor acts
  on its initial ones (``wait`` 'act') or holds the arm ('hold').
- ``status(now)``: what /diagnostics says once a second: whether a learner ever answered,
  episodes waiting, the weights' version and how many learner updates they are behind (a
  warning past ``max_lag``).

Time is monotonic seconds throughout.
"""

from dataclasses import dataclass
import threading

from robodopamine_ros.rl.wire import pack_episode, unpack_weights

WAITS = ('act', 'hold')
NO_LEARNER = 'no learner has answered yet'
# s without a word from the learner (it publishes its status once a second): it is gone
SILENT_S = 5.0


@dataclass(frozen=True)
class RemoteConfig:
    """How an actor talks to its learner. Defaults [ours]."""

    robot_id: str = 'robot'
    wait: str = 'act'           # before the first weights: act on the initial ones, or hold
    capacity: int = 100         # episodes the outbox holds unacknowledged
    send_timeout_s: float = 30.0  # s for the learner to answer one episode
    retry_s: float = 1.0        # s before a failed send is tried again
    max_lag: int = 1000         # learner updates the weights may be behind before a warning

    def __post_init__(self):
        if self.wait not in WAITS:
            raise ValueError(f'parameter remote_wait must be one of {WAITS} (or auto), got '
                             f'{self.wait!r}')
        if not self.robot_id:
            raise ValueError('parameter robot_id must not be empty')
        for name in ('send_timeout_s', 'retry_s'):
            if not getattr(self, name) > 0:
                raise ValueError(f'remote {name} must be > 0 s, got {getattr(self, name)}')
        if self.max_lag < 1:
            raise ValueError(f'parameter max_weights_lag must be >= 1 update, got '
                             f'{self.max_lag}')


class RemoteActor:
    """
    Episodes to a remote learner, its weights back (module docstring).

    outbox: an rl.delivery.Outbox; spec: rl.wire.weights_spec of this actor's policy.
    """

    def __init__(self, outbox, spec, config=None):
        self.outbox, self.spec, self.config = outbox, spec, config or RemoteConfig()
        self._lock = threading.Lock()
        self._weights = None            # (state, version) not yet taken by the control loop
        self.version = None             # the newest weights' version held (None: initial)
        self.learner_updates = None     # the learner's update count, as it last said
        self.last_heard = None          # when the learner last answered or published
        self.in_flight = None           # (uid, deadline) of the episode being sent
        self._retry_at = 0.0
        self.sent = {'stored': 0, 'duplicate': 0, 'refused': 0, 'failed': 0}
        self.refused_weights = 0
        self.error = None
        self.stopped = False

    # what the control loop and rl_agent_node call on a learner ----------------------------------
    def start(self):
        return self

    def stop(self):
        self.stopped = True

    def grant(self):
        """Do nothing: the learner's update budget is its own (LearnerThread.grant's place)."""

    def ready(self):
        """Return True when the policy may act (weights, room in the outbox), else why not."""
        if self.version is None and self.config.wait == 'hold':
            return "waiting for the learner's first weights (remote_wait 'hold')"
        if self.outbox.full:
            return (f'{len(self.outbox)} episodes wait for the learner (outbox '
                    f'{self.outbox.folder} full)')
        return True

    @property
    def online(self):
        """Whether the policy may act now (``ready``)."""
        return self.ready() is True

    @property
    def total_updates(self):
        """Return the learner update count of the weights held (0 before the first weights)."""
        return self.version or 0

    @property
    def backlog(self):
        """Episodes waiting for the learner's acknowledgement."""
        return len(self.outbox)

    skipped = 0
    last_stats = {}

    def describe(self):
        weights = 'initial weights' if self.version is None else \
            f'weights of learner update {self.version}'
        return f'remote learner: {len(self.outbox)} episodes waiting to be sent, {weights}'

    def save(self, folder, extra=None):
        """Refuse: with a remote learner, checkpoints are learner_node's (rl.saving reports it)."""
        raise RuntimeError(f"this arm's learner is remote: learner_node writes the checkpoints, "
                           f'not {folder}')

    def add_episode(self, episode):
        """Pack a finished episode and keep it in the outbox (rl.delivery.OutboxFull: full)."""
        if not episode.transitions:
            return
        uid, data = pack_episode(episode, self.config.robot_id)
        with self._lock:
            self.outbox.put(uid, data)

    def take_weights(self):
        """Return the newest (state, version) once (None when none are new): never blocks."""
        with self._lock:
            weights, self._weights = self._weights, None
        return weights

    # what the node feeds from the graph --------------------------------------------------------
    def receive_weights(self, data, now):
        """
        Take the learner's packed weights; returns their version, None for older ones.

        Raises ValueError (rl.wire.unpack_weights: another spec, naming both; damaged data).
        """
        state, version = unpack_weights(data, self.spec)
        with self._lock:
            self.last_heard = now
            self.learner_updates = max(version, self.learner_updates or 0)
            if self.version is not None and version <= self.version:
                return None
            self._weights, self.version = (state, version), version
        return version

    def learner_status(self, updates, now):
        """Take the learner's word that it has run `updates` updates (its status message)."""
        with self._lock:
            self.learner_updates, self.last_heard = int(updates), now

    def next_send(self, now):
        """Return (uid, bytes) of the episode to send now, or None (one at a time, in order)."""
        with self._lock:
            if self.in_flight is not None or now < self._retry_at:
                return None
            for uid, path in self.outbox.entries.items():
                self.in_flight = (uid, now + self.config.send_timeout_s)
                return uid, path.read_bytes()
        return None

    def overdue(self, now):
        """Return the uid in flight past its deadline (the caller gives up on it), or None."""
        flight = self.in_flight
        return flight[0] if flight is not None and now > flight[1] else None

    def answered(self, uid, status, message, updates, now):
        """
        Take the learner's answer for episode `uid`: 'stored', 'duplicate' or 'refused'.

        Returns a log line for a refused episode (set aside, never sent again), else None.
        """
        with self._lock:
            if self.in_flight is not None and self.in_flight[0] == uid:
                self.in_flight = None
            self.last_heard, self.learner_updates = now, int(updates)
            self.sent[status if status in self.sent else 'refused'] += 1
            if status in ('stored', 'duplicate'):
                self.outbox.acknowledge(uid)
                return None
            self.outbox.set_aside(uid)
        return (f'the learner refused episode {uid} of {self.config.robot_id} ({status}: '
                f'{message}): kept in {self.outbox.folder / "refused"}, not sent again')

    def send_failed(self, uid, now):
        """Give up on the send of `uid` (no answer, learner gone): tried again after retry_s."""
        with self._lock:
            if self.in_flight is not None and self.in_flight[0] == uid:
                self.in_flight = None
            self.sent['failed'] += 1
            self._retry_at = now + self.config.retry_s

    def status(self, now):
        """
        Return (level, message, values) for /diagnostics: level 'ok', 'warn' or 'error'.

        values: {name: text}, the figures behind the message.
        """
        lag = None if self.learner_updates is None else \
            self.learner_updates - (self.version or 0)
        values = {'robot_id': self.config.robot_id, 'episodes_waiting': str(len(self.outbox)),
                  'weights_version': 'initial' if self.version is None else str(self.version),
                  'learner_updates': '' if self.learner_updates is None
                  else str(self.learner_updates),
                  'weights_behind': '' if lag is None else str(lag),
                  **{f'episodes_{k}': str(v) for k, v in self.sent.items()}}
        if self.last_heard is None:
            hold = 'holding the arm' if self.config.wait == 'hold' else \
                'acting on the initial weights'
            return 'error', f'{NO_LEARNER}: {hold}, {len(self.outbox)} episodes waiting', values
        if self.outbox.full:
            return 'error', (f'{len(self.outbox)} episodes wait for the learner (outbox full): '
                             'holding the arm'), values
        silent = now - self.last_heard
        values['last_heard_s'] = f'{silent:.1f}'
        if silent > SILENT_S:
            return 'warn', (f'no word from the learner for {silent:.0f} s: acting on weights '
                            f'version {self.version}, {len(self.outbox)} episodes waiting'), values
        if lag is not None and lag > self.config.max_lag:
            return 'warn', (f'weights {lag} learner updates behind (more than '
                            f'{self.config.max_lag})'), values
        return 'ok', (f'weights version {self.version if self.version is not None else "initial"}'
                      f', {len(self.outbox)} episodes waiting'), values
