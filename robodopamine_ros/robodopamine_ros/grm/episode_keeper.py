# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What grm_node keeps of the running episode, to write it as a bag once its outcome is known.

On a robot the GRM node is where the scored views and the published progress are; the
outcome comes at the episode's end from rl_agent_node (``episode_summary``: the stored success,
after the operator's label window), and the takeovers from the commanded actions (``action``,
their intervention flag). ``EpisodeKeeper`` holds the episode's ticks (at most ``max_ticks``:
an episode longer than that keeps its first ones and says so) and actions, and ``finish``
returns what data.online_episodes.write_online_episode needs.

Who said how it ended (data/online_episodes.py, ``EpisodeOutcome.how``) is derived from what
the node knows: whether its own detector fired, the stored success, and whether an operator
labels outcomes (``operator``: success 'either' or 'operator'). With an operator, a detector
success stored as a success was confirmed, one stored as a failure was rejected, a success the
detector missed was the operator's, and a failure it never claimed went unmarked.
"""

import threading

import numpy as np
from robodopamine_ros.data.online_episodes import EpisodeOutcome, outcome_how, tick_fields

MAX_TICKS = 3000   # 5 minutes at 10 Hz; 3 x 64 x 48 RGB views: 83 MB


class EpisodeKeeper:
    """
    Keep one episode's ticks and actions until its outcome comes (module docstring).

    grm: the content hash of the GRM scoring it (set again after a swap); robot: a name
    recorded with the outcome; log: where the line about a truncated episode goes. Thread-safe
    (grm_node's inference thread ticks, its executor starts, finishes and adds actions).
    """

    def __init__(self, operator, grm='', robot='', max_ticks=MAX_TICKS, log=print):
        self.operator, self.grm, self.robot, self.log = bool(operator), grm, robot, log
        self.max_ticks = max_ticks
        self.episode_id, self.ticks, self.actions = None, [], []
        self.dropped, self.fired = 0, False
        self._lock = threading.Lock()

    def start(self, episode_id, stamp_ns, views, estimate):
        """Begin a new episode: its start views are tick 0 (what was kept is dropped)."""
        with self._lock:
            self.episode_id, self.ticks, self.actions = int(episode_id), [], []
            self.dropped, self.fired = 0, False
        self.tick(episode_id, stamp_ns, views, estimate)

    def tick(self, episode_id, stamp_ns, views, estimate):
        """Keep one scored triplet (views in VIEWS order) of the running episode."""
        triplet = np.stack(views)
        with self._lock:
            if episode_id != self.episode_id:
                return
            self.fired = self.fired or bool(estimate.success)
            if len(self.ticks) >= self.max_ticks:
                self.dropped += 1
                return
            self.ticks.append((int(stamp_ns), triplet, estimate))

    def action(self, stamp_ns, values, intervention):
        """Keep one commanded action; a takeover's actions have intervention set."""
        with self._lock:
            if self.episode_id is not None:
                self.actions.append((int(stamp_ns), np.asarray(values, dtype=np.float32),
                                     bool(intervention)))

    def finish(self, episode_id, success):
        """
        Return (outcome, stamps, views, progress fields, actions) of the ended episode, or None.

        None when `episode_id` is not the kept episode (a summary of another one, or of one
        that never scored a tick). The kept episode is forgotten either way.
        """
        with self._lock:
            ticks, actions, fired, dropped = self.ticks, self.actions, self.fired, self.dropped
            kept = episode_id == self.episode_id
            self.episode_id, self.ticks, self.actions = None, [], []
        if not kept or len(ticks) < 2:
            return None
        if dropped:
            self.log(f'episode {episode_id}: {len(ticks) + dropped} ticks, the bag keeps the '
                     f'first {len(ticks)} (max_ticks)')
        success = bool(success)
        record = {'detector_success': fired, 'rejected': fired and not success,
                  'labels': int(self.operator and (success != fired))}
        takeovers = sum(1 for k, (_, _, on) in enumerate(actions)
                        if on and (k == 0 or not actions[k - 1][2]))
        outcome = EpisodeOutcome(int(episode_id), success,
                                 outcome_how(success, record, self.operator), fired, takeovers,
                                 self.grm, self.robot)
        stamps = np.array([s for s, _, _ in ticks], dtype=np.int64)
        views = np.stack([v for _, v, _ in ticks])
        fields = [tick_fields(episode_id, k, s, e) for k, (s, _, e) in enumerate(ticks)]
        # the actions among the scored frames (a later one belongs to no scored state)
        actions = [a for a in actions if stamps[0] <= a[0] <= stamps[-1]]
        return outcome, stamps, views, fields, actions
