# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The scripted operator on the ROS graph (sim_operator_node), ROS-free: what it does each step.

The ROS-free simulated training runs the scripted operator inside its step loop
(rl/sim_episodes.py): ``ScriptedOperator`` takes over on stalls, ``OutcomeJudge`` labels. On the
ROS graph the same two run in sim_operator_node, a test double of the person at the joystick,
and ``SimOperator`` is their step loop there. It takes what the node hears (the GRM's progress
and detector flag, the simulator's success flag, the scripted expert's action, the last reward
of an episode, the agent's episode ends) and says, once per control step, what the person does
now (``OperatorStep``): start or end a takeover, drive the expert's action, press a label.

The rules are the ROS-free ones, not copies: the stall rule is
``ScriptedOperator.should_take_over``; when to label and what is ``OutcomeJudge.step`` with the
agent's success source, grm_node's detector verdict (``ProgressStamped.success``) standing in
for the detector the simulated loop runs itself. With 'either': a success label
``label_delay`` steps after the simulator's success is seen (unless the detector's success
already ended the episode and the operator lets it be), a failure label at once when the
detector's success ends an episode the simulator says did not succeed (right with
``label_accuracy``), nothing on a time-limit end. 'operator': the success label only.
'detector' and 'simulator': no label (the agent would refuse it); takeovers only. Takeovers
stop with the episode's last reward (terminal or truncated: the arm stops, as a person sees),
labels with the agent's end of the episode (its summary, after any label window).
"""

from dataclasses import dataclass
import math

from robodopamine_ros.reward.success import SuccessConfig
from robodopamine_ros.rl.outcomes import (check_success_source, OperatorConfig, OutcomeJudge,
                                          ScriptedOperator)

# the action the operator drives: end-effector delta (x, y, z) and the gripper, each in [-1, 1]
ACTION_SIZE = 4


class ReportedDetector:
    """
    The success detector of ``OutcomeJudge`` on the ROS graph: grm_node's verdict, as reported.

    grm_node runs the detector (reward/success.py) and publishes its latched verdict in
    ``ProgressStamped.success``; ``flag`` holds the newest one, ``update`` returns it.
    ``config``: the detector's rule as the operator assumes it: its hold, in control steps
    (grm_node's ``success_hold_s`` at the control rate), is how long the operator lets the
    detector find a success before pressing the label itself (``OutcomeJudge.label_after``).
    """

    def __init__(self, hold_steps=None):
        self.config = SuccessConfig() if hold_steps is None else \
            SuccessConfig(hold_ticks=hold_steps)
        self.flag = False

    def reset(self):
        self.flag = False

    def update(self, progress, agreement=1.0):
        """Return grm_node's newest verdict (progress, agreement: the judge's; not used here)."""
        return self.flag


@dataclass
class OperatorStep:
    """What the operator does at one control step (``SimOperator.step``)."""

    episode_id: int = 0        # the episode it watches; 0: none yet
    take_over: bool = None     # True: a takeover starts now, False: it ends now, None: no change
    action: tuple = None       # the expert's action to drive now (4 values), None: none
    label: bool = None         # the outcome label pressed now: True success, False failure
    missing_action: bool = False   # it takes over but has no expert action yet


def check_expert_action(values, where='expert action'):
    """Return `values` as a tuple of ACTION_SIZE finite floats in [-1, 1]; else ValueError."""
    values = tuple(float(v) for v in values)
    if len(values) != ACTION_SIZE or not all(math.isfinite(v) and -1.0 <= v <= 1.0
                                             for v in values):
        raise ValueError(f'{where}: expected {ACTION_SIZE} finite values in [-1, 1] (dx, dy, '
                         f'dz, gripper), got {list(values)}')
    return values


class SimOperator:
    """
    The scripted operator's step loop on the ROS graph (module docstring).

    config: OperatorConfig; success: the agent's success source (rl_agent_node's parameter
    ``success``, set alike); seed: the labels' randomness (label_accuracy < 1); hold_steps:
    the detector's hold in control steps (None: reward/success.py's default at 10 Hz). Feed it with
    ``observe_progress``, ``observe_simulator``, ``observe_expert`` and ``episode_ended`` as
    messages arrive, and call ``step`` once per control step. ``close`` returns an episode's
    effort (labels, takeovers) once, for the log.
    """

    def __init__(self, config=None, success='either', seed=0, hold_steps=None):
        self.config = config or OperatorConfig()   # OperatorConfig checks its fields
        self.success = check_success_source(success)
        self.operator = ScriptedOperator(self.config, seed)
        self.detector = ReportedDetector(hold_steps) if success in ('detector', 'either') \
            else None
        self.judge = OutcomeJudge(success, self.operator, self.detector)
        self.expert = None          # the newest expert action (4 floats)
        self.episode_id = None      # the episode watched; None: none yet
        self.taking_over = False    # carried over a new episode: step() then hands back
        self._start(None)

    def _start(self, episode_id):
        self.episode_id, self.progress, self.fresh = episode_id, None, False
        self.simulator = False      # the simulator's flag of this episode
        self.done = False           # the episode ended (judged, or the agent said so)
        self.stopped = False        # its last reward came: no more takeovers
        self.steps, self.labels_sent = 0, 0
        self.open = episode_id is not None   # its effort not yet returned by close()
        self.operator.reset()
        self.judge.reset()

    def observe_progress(self, episode_id, progress, detector_success):
        """
        Take a ProgressStamped's episode id, progress and detector verdict.

        A new episode id starts a new episode (the operator forgets the last one). Returns the
        last episode's effort (``close``) when this replaced one not yet closed, else None.
        """
        closed = None
        if episode_id != self.episode_id:
            closed = self.close()
            self._start(episode_id)
        self.progress, self.fresh = float(progress), True
        if self.detector is not None:
            self.detector.flag = bool(detector_success)
        return closed

    def observe_simulator(self, flag):
        """Take the simulator's newest success flag (``sim_robot/success``)."""
        if self.episode_id is not None:
            self.simulator = bool(flag)

    def observe_expert(self, values):
        """Take the scripted expert's action for the simulator's current state."""
        self.expert = check_expert_action(values)

    def last_reward(self, episode_id):
        """
        Note the episode's last reward (terminal or truncated): no more takeovers in it.

        Returns whether a takeover must end now (hand back at once: the next episode may start
        before the next control step).
        """
        if episode_id != self.episode_id:
            return False
        self.stopped = True
        return self._hand_back()

    def _hand_back(self):
        ending, self.taking_over = self.taking_over, False
        return ending

    def episode_ended(self, episode_id):
        """
        Note that the agent ended an episode (its EpisodeSummary): nothing more is done for it.

        Returns (its effort, ``close``, or None when it is not the watched episode; whether a
        takeover must end now).
        """
        if episode_id != self.episode_id or not self.open:
            return None, False
        self.done = self.stopped = True
        return self.close(), self._hand_back()

    def step(self):
        """Decide what the operator does at this control step; returns an OperatorStep."""
        if self.episode_id is None or self.progress is None:
            return OperatorStep()
        out = OperatorStep(self.episode_id)
        if not (self.done or self.stopped):   # the episode's steps, not a label window's
            self.steps += 1
        if not self.done:
            ended, _ = self.judge.step(self.fresh, self.progress, self.simulator)
            self.fresh = False
            record = self.judge.record
            if record['labels'] > self.labels_sent:
                self.labels_sent = record['labels']
                out.label = record['label'] == 'success'
            self.done = ended
        acting = not (self.done or self.stopped) and \
            self.operator.should_take_over(self.progress)
        if acting != self.taking_over:
            out.take_over = self.taking_over = acting
        if acting:
            out.action = self.expert
            out.missing_action = self.expert is None
        return out

    def close(self):
        """
        Return the watched episode's effort once, else None.

        {'episode_id', 'steps' (control steps watched until the episode ended), 'takeovers',
        'labels', 'label' ('success', 'failure' or '' for none), 'simulator' (whether the
        simulator's success was seen)}.
        """
        if not self.open:
            return None
        self.open = False
        return {'episode_id': self.episode_id, 'steps': self.steps,
                'takeovers': self.operator.takeovers, 'labels': self.operator.labels,
                'label': self.judge.record['label'],
                'simulator': self.judge.record['sim_success']}


def effort_line(effort):
    """One log line of an episode's operator effort (``SimOperator.close``)."""
    label = f" ({effort['label']})" if effort['label'] else ''
    return (f"episode {effort['episode_id']}: operator effort {effort['takeovers']} "
            f"takeover{'s' * (effort['takeovers'] != 1)}, {effort['labels']} "
            f"label{'s' * (effort['labels'] != 1)}{label} in {effort['steps']} control steps; "
            f"the simulator's success {'seen' if effort['simulator'] else 'not seen'}")
