# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Between episodes on a robot, ROS-free: numbering, checkpoint cadence, reset or move home, start.

rl_agent_node asks ``EpisodeCycle`` every control tick what may happen next; the control loop
itself is rl.agent_loop.ControlLoop, whose ``hold_reason`` says when nothing may.
"""

# s a start or reset request may stay unanswered before it is abandoned
REQUEST_TIMEOUT_S = 5.0
# the checkpoint's record of the episodes ended (the training log's last episode number)
EPISODES_KEY = 'episodes_done'


def episodes_done(counters, extra=None):
    """
    Return how many episodes a resumed run had ended: where its numbering and log continue.

    counters: the learner's (rl.acting.Learner.counters); extra: its checkpoint's extra. The
    cycle's own count (``EpisodeCycle.checkpoint_extra``) when the checkpoint holds it: it
    also counts episodes that ended without a step (held throughout), which the learner does
    not store; else the learner's episodes (a checkpoint of the ROS-free trainer).
    """
    return int((extra or {}).get(EPISODES_KEY, counters['episodes']))


class EpisodeCycle:
    """
    Between episodes on a robot: numbering, checkpoint cadence, then a reset or move-to-home.

    ``finished`` counts the episode and says whether a checkpoint is due (every
    ``checkpoint_every``); a reset is then due (``reset_now``: the robot's reset service), or,
    without a reset service, a loop with a home position moves home first (``homing``). A
    start in flight (grm_node's StartEpisode) or a reset in flight sets ``starting`` until it
    answers (``sent`` / ``answered``, by token), or until ``expired``: a request without an answer
    for ``request_timeout_s`` (monotonic s; its server died with the call in flight) is abandoned
    and a late answer to it ignored, so a lost call cannot stop training. The node asks
    ``reset_now`` and ``may_start`` every tick with the loop's hold
    (``ControlLoop.hold_reason``): while the arm is held (e-stop, stale observations, an
    expired takeover) nothing resets, homes or starts; the next episode starts once it ends.
    An ended episode that waits for the operator's label (rl.outcomes.OutcomeLabels) reaches
    ``finished`` only when the wait ends, so the reset, the move home and the next episode
    wait with it: the scene stays as it ended while the operator judges it.
    """

    def __init__(self, episodes_done=0, checkpoint_every=5, checkpoints=True, home=False,
                 request_timeout_s=REQUEST_TIMEOUT_S):
        self.episodes_done = episodes_done
        self.checkpoint_every, self.checkpoints, self.home = checkpoint_every, checkpoints, home
        self.request_timeout_s = request_timeout_s
        self.starting = False
        self.homing = False
        self.reset_due = False
        self._token, self._sent_at = 0, None

    def sent(self, now=None):
        """Record a start or reset request sent at `now` (monotonic s); return its token."""
        self._token += 1
        self.starting, self._sent_at = True, now
        return self._token

    def answered(self, token):
        """Return whether `token` is the request in flight (it is then answered); else False."""
        if not (self.starting and token == self._token):
            return False   # a late answer to an abandoned request
        self.starting = False
        return True

    def expired(self, now):
        """Return why the request in flight was abandoned now (no answer in time), else None."""
        if not self.starting or self._sent_at is None or now is None or \
                now - self._sent_at <= self.request_timeout_s:
            return None
        self.starting = False
        return f'no answer for {now - self._sent_at:.1f} s: request abandoned (next one sent)'

    def reset_now(self, hold=None, now=None):
        """Return a token once when the due reset may be called now (no hold), else 0."""
        if not self.reset_due or hold is not None:
            return 0
        self.reset_due = False
        return self.sent(now)

    def may_start(self, loop, hold=None):
        """
        Return whether the next episode may start now.

        None runs, none waits for the operator's label (``ControlLoop.waiting_for_label``), no
        hold is on and no request is in flight.
        """
        return loop.episode is None and not loop.waiting_for_label and hold is None and not (
            self.starting or self.homing or self.reset_due)

    def checkpoint_extra(self, extra):
        """Return a checkpoint's extra with the episodes ended so far (``episodes_done``)."""
        return dict(extra, **{EPISODES_KEY: self.episodes_done})

    def next_episode_id(self):
        return self.episodes_done + 1

    def finished(self, reset_available):
        """Count an ended episode; return whether a checkpoint is due."""
        self.episodes_done += 1
        if reset_available:
            self.reset_due = True  # called once no hold is on (reset_now), then in flight
        elif self.home:
            self.homing = True
        return self.checkpoints and self.episodes_done % self.checkpoint_every == 0
