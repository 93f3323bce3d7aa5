# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Where an episode's success comes from, and the scripted operator who labels and takes over.

Success sources (``TrainConfig.success``, ``robodopamine train --success``; on a robot the
parameter ``success`` of shaping_node and rl_agent_node, both set alike: ``ShapingSuccess`` says
what success flag shaping_node shapes from, ``OutcomeLabels`` takes the operator's labels in
rl_agent_node, ``~/mark_outcome``; docs/method.md#where-success-comes-from):
- 'detector': the product's success detector (reward/success.py: GRM progress >= 1 - delta held
  for hold_ticks GRM ticks) ends the episode and pays the success reward, as grm_node and
  shaping_node do on a robot. Nothing privileged; no human needed; fooled where the GRM is.
- 'operator': only the operator's outcome label ends an episode as a success (the HIL-SERL and
  Rosetta convention); the detector is not used.
- 'either': the detector proposes, the operator disposes: a detector success ends the episode
  unless the operator rejects it (then it is stored as a failure: no success reward, a
  time-limit end, not a terminal state), and the operator can mark a success the detector
  missed (the scripted operator presses it once the detector's hold has passed without a
  firing, then label_delay: ``OutcomeJudge.label_after``).
- 'simulator': the simulator's own success flag. Privileged: an upper bound, simulation only
  (on the ROS graph: ``sim_robot/success`` into shaping_node, refused off the simulation clock).

In simulation the scripted operator plays the human: it labels from the simulator's success
flag (what a person at the cell sees), ``label_delay`` control steps after it can see the
outcome, right with probability ``label_accuracy``. Its effort is counted: labels (button
presses) and takeovers per episode. The simulator's flag reaches the learner only through
these labels, as a person's judgement would; with 'detector' it reaches nothing but the log
(the detector's precision and recall).
"""

from collections import OrderedDict
from dataclasses import dataclass
import math

import numpy as np
from robodopamine_ros.reward.shaping import shape
from robodopamine_ros.reward.stall import STALL_MIN_GAIN, STALL_WINDOW_S, StallConfig, \
    StallDetector
from robodopamine_ros.reward.success import SuccessConfig, SuccessDetector
from robodopamine_ros.robot.safety import SafetyConfig

SUCCESS_SOURCES = ('detector', 'operator', 'either', 'simulator')
SUCCESS_DEFAULT = 'detector'   # a node without a config (both configs set 'either')
PRIVILEGED_SUCCESS = ('simulator',)
# the sources that take the operator's outcome labels on a robot (rl_agent_node ~/mark_outcome)
LABELLED_SOURCES = ('operator', 'either')
# s (monotonic): how long an episode that ended without a label (the detector's success, the
# time limit) waits for one on a robot, held back from the learner, the arm still and no reset:
# a person's time to see the arm stop, judge the peg and press, with margin [ours]
LABEL_WINDOW_S = 2.0
# ended episodes remembered, to refuse a late label naming the episode (not as unknown)
REMEMBERED_EPISODES = 1000


def check_success_source(source, use_sim_time=None):
    """
    Raise ValueError unless `source` is one of SUCCESS_SOURCES usable here; return it.

    use_sim_time: whether the node runs on the simulation clock (a node's ``use_sim_time``;
    None: not checked). 'simulator' is refused off the simulation clock: the simulator's flag
    is privileged (an upper bound), and only a simulation has one.
    """
    if source not in SUCCESS_SOURCES:
        raise ValueError(f'parameter success must be one of {SUCCESS_SOURCES}, got {source!r}')
    if source in PRIVILEGED_SUCCESS and use_sim_time is not None and not use_sim_time:
        raise ValueError(f'parameter success {source!r} needs use_sim_time true: the '
                         "simulator's success flag is privileged (an upper bound), simulation "
                         "only; a robot uses 'detector', 'operator' or 'either'")
    return source


class ShapingSuccess:
    """
    The success flag shaping_node shapes from (ending and paying r^gold), per success source.

    'detector' and 'either': grm_node's detector (``ProgressStamped.success``); 'operator': never
    (the detector's flag neither ends nor pays; the episode ends on the operator's label, in
    rl_agent_node, or at the time limit); 'simulator': the newest ``sim_robot/success``
    (``observe_simulator``), refused off the simulation clock (``check_success_source``).
    """

    def __init__(self, source=SUCCESS_DEFAULT, use_sim_time=None):
        self.source = check_success_source(source, use_sim_time)
        self.simulator = False

    @property
    def needs_simulator(self):
        """Whether the simulator's flag is read (subscribe to sim_robot/success)."""
        return self.source == 'simulator'

    def start_episode(self):
        """
        Forget the simulator's flag: a new episode begins.

        sim_robot_node publishes it after each step only, so the last episode's success would
        otherwise end the new one at once.
        """
        self.simulator = False

    def observe_simulator(self, flag):
        """Take the simulator's newest success flag; return the success to shape from now."""
        self.simulator = bool(flag)
        return self.simulator

    def __call__(self, detector):
        """Return the success to shape from, given the detector's flag of this progress."""
        if self.source == 'operator':
            return False
        if self.source == 'simulator':
            return self.simulator
        return bool(detector)


@dataclass
class OperatorConfig:
    """The scripted operator (a stand-in for the human with the joystick)."""

    # takes over when progress gained < min_gain over stall_steps (the stall rule,
    # reward/stall.py: its window in control steps, 2.5 s at the control rate)
    stall_steps: int = round(STALL_WINDOW_S / SafetyConfig.control_period)
    min_gain: float = STALL_MIN_GAIN
    takeover_steps: int = 20    # then drives the scripted expert for this many steps
    label_delay: int = 5        # control steps from seeing the outcome to pressing (0.5 s)
    label_accuracy: float = 1.0  # probability a label is right

    def __post_init__(self):
        for name in ('stall_steps', 'takeover_steps'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'{name} must be an integer >= 1 (control steps), got '
                                 f'{value!r}')
        if not math.isfinite(self.min_gain):
            raise ValueError(f'min_gain must be a finite progress gain, got {self.min_gain!r}')
        if not 0.0 <= self.label_accuracy <= 1.0:
            raise ValueError(f'label_accuracy must be in [0, 1], got {self.label_accuracy}')
        if self.label_delay < 0:
            raise ValueError(f'label_delay must be >= 0, got {self.label_delay}')


class ScriptedOperator:
    """
    Takes over on stalls and labels outcomes (module docstring).

    Takeovers: the scripted expert takes over for `takeover_steps` when progress gained less
    than `min_gain` over `stall_steps`; then control returns to the policy. There is no
    workspace trigger: the safety layer already holds the hand inside the box, so a policy
    pushing against a wall stalls and the stall rule fires (why a box rule went:
    docs/decisions.md#targets-missed).
    """

    def __init__(self, config=None, seed=0):
        self.config = config or OperatorConfig()
        self.rng = np.random.default_rng([seed, 7])
        self.reset()

    def reset(self):
        self.stall = StallDetector(StallConfig(self.config.stall_steps, self.config.min_gain))
        self.steps, self.remaining = 0, 0
        self.takeovers, self.labels = 0, 0

    def should_take_over(self, progress):
        """Feed this step's progress; return whether the operator acts at this step."""
        stalled = self.stall.update(self.steps, progress)   # the window in control steps
        self.steps += 1
        if self.remaining > 0:
            self.remaining -= 1
            return True
        if stalled:
            self.remaining = self.config.takeover_steps - 1
            self.stall.restart()   # after handing back, a full window again
            self.takeovers += 1
            return True
        return False

    def judge(self, truly_succeeded):
        """Return the operator's verdict on an outcome (right with label_accuracy)."""
        right = self.rng.random() < self.config.label_accuracy
        return bool(truly_succeeded) == right


class OutcomeJudge:
    """
    Decides, step by step, whether an episode ends and whether it succeeded.

    ``step`` takes what is known after a control step: whether the GRM ticked and its progress,
    and the simulator's success flag (used by the operator's labels, the 'simulator' source and
    the log, never by the detector). It returns (ended, success). ``record`` holds what the
    training log reports: the detector's verdict, the simulator's truth, labels, takeovers.
    """

    def __init__(self, source, operator=None, detector=None, grm_every=1):
        if source not in SUCCESS_SOURCES:
            raise ValueError(f'success must be one of {SUCCESS_SOURCES}, got {source!r}')
        if source in ('operator', 'either') and operator is None:
            raise ValueError(f'success {source!r} needs the operator (the scripted operator '
                             'in simulation)')
        if source in ('detector', 'either') and detector is None:
            raise ValueError(f'success {source!r} needs the success detector (a GRM)')
        self.source, self.operator, self.detector = source, operator, detector
        self.grm_every = max(1, int(grm_every))   # control steps per GRM tick
        self.reset()

    @property
    def label_after(self):
        """
        Control steps from the simulator's success to the operator's success label.

        'operator': label_delay. 'either': the detector proposes, so the operator presses
        success only for one it missed: once the detector's hold had time to fire (its ticks
        times grm_every control steps), then label_delay (a label sooner would pre-empt every
        true detection).
        """
        delay = self.operator.config.label_delay
        if self.source == 'either':
            delay += self.detector.config.hold_ticks * self.grm_every
        return delay

    def reset(self):
        if self.detector is not None:
            self.detector.reset()
        self.seen_since = None   # steps since the simulator's success first rose
        self.record = {'detector_success': False, 'sim_success': False, 'labels': 0,
                       'rejected': False, 'label': ''}

    def _label(self, verdict, kind):
        self.record['labels'] += 1
        self.record['label'] = kind if verdict else 'failure'
        if self.operator is not None:
            self.operator.labels += 1

    def step(self, grm_ticked, progress, sim_success, agreement=1.0):
        """
        Return (ended, success) after this control step.

        agreement: the tick's forward / backward agreement (the detector's familiarity gate).
        """
        record = self.record
        if sim_success:
            record['sim_success'] = True
            self.seen_since = 0 if self.seen_since is None else self.seen_since + 1
        if self.source == 'simulator':
            return bool(sim_success), bool(sim_success)
        fired = False
        if self.detector is not None and grm_ticked and not record['detector_success']:
            fired = self.detector.update(progress, agreement)
            record['detector_success'] = fired
        if self.source in ('detector', 'either') and fired:
            if self.source == 'detector':
                return True, True
            # the operator sees whether the peg went in during this episode (in simulation the
            # episode ends at the detector's tick, so the rejection needs no delay: it relabels
            # the ended episode before it is stored)
            if self.operator.judge(record['sim_success']):  # lets the detector's success be
                return True, True
            self._label(False, 'success')         # ... or rejects it: a failure
            record['rejected'] = True
            return True, False
        if self.source in ('operator', 'either') and self.seen_since is not None and \
                self.seen_since >= self.label_after:
            verdict = self.operator.judge(True)   # a wrong label ends it as a failure
            self._label(verdict, 'success')
            return True, verdict
        return False, False


def make_judge(source, operator=None, success_config=None, grm_every=1):
    """
    Return an OutcomeJudge with a fresh SuccessDetector where the source needs one.

    grm_every: control steps per GRM tick (the detector counts GRM ticks).
    """
    detector = SuccessDetector(success_config or SuccessConfig()) \
        if source in ('detector', 'either') else None
    return OutcomeJudge(source, operator, detector, grm_every)


def detector_scores(rows):
    """
    Precision and recall of the detector over episodes: {'precision', 'recall', counts}.

    rows: dicts with 'detector_success' and 'sim_success' (the simulator's truth). Precision is
    NaN when the detector never fired, recall NaN when nothing succeeded.
    """
    tp = sum(1 for r in rows if r['detector_success'] and r['sim_success'])
    fp = sum(1 for r in rows if r['detector_success'] and not r['sim_success'])
    fn = sum(1 for r in rows if not r['detector_success'] and r['sim_success'])
    return {'precision': tp / (tp + fp) if tp + fp else float('nan'),
            'recall': tp / (tp + fn) if tp + fn else float('nan'),
            'true_positives': tp, 'false_positives': fp, 'false_negatives': fn}


def relabel_steps(transitions, success, shaping):
    """
    Rewrite an ended episode's stored steps as the operator's label says.

    Returns whether a success the steps held was rejected. transitions:
    rl.replay.Episode.transitions (dicts with progress_before / progress_after), changed in
    place; shaping: the loop's ShapingConfig. success True: the last step becomes a
    terminal success (r^gold, Phi(s') = 0 absorbing). False: every step that was paid r^gold
    (the detector's success) loses it, and the last step becomes a time-limit end (truncated,
    bootstrapped), not a terminal state. An empty episode is left as it is.
    """
    rejected = False
    for k, t in enumerate(transitions):
        last = k == len(transitions) - 1
        if not last and (success or not t['success']):
            continue
        rejected = rejected or (t['success'] and not success)
        step = shape(t['progress_before'], t['progress_after'], shaping,
                     terminal=last and success, truncated=last and not success,
                     success=last and success)
        t.update(reward=step.reward, terminal=step.terminal, truncated=step.truncated,
                 success=step.sparse_reward > 0, sparse_reward=step.sparse_reward)
    return rejected


@dataclass
class LabelAnswer:
    """What ``OutcomeLabels.mark`` answers (the MarkOutcome response's fields)."""

    accepted: bool
    episode_id: int   # the episode the label was for (0: none could be named)
    message: str


class OutcomeLabels:
    """
    The operator's outcome labels on a robot (rl_agent_node ``~/mark_outcome``), ROS-free.

    ``ControlLoop`` holds one and calls it. With success 'operator' or 'either'
    (``takes_labels``):

    - a label for the running episode (id 0, or its id) ends it at the next control tick: a
      success as a terminal step paid r^gold, a failure as a time-limit end (truncated, no
      r^gold), whatever the detector says (``label``);
    - an episode that ended without a label (the detector's success, the time limit, an end
      while the arm was held) waits ``window_s`` (monotonic s) for one (``hold``): held back
      from the learner, the arm still, no reset and no next episode. A label then relabels its
      stored steps (``relabel_steps``: a rejected detector success becomes a failure) and ends
      the wait (``due``); without one it goes on as it ended, once the window is over. Id 0
      names the held episode first: the one the operator just saw end;
    - a label for an episode that already went on (its window over), or for an unknown id, is
      refused, naming the id.

    With 'detector' or 'simulator' every label is refused, naming the setting, and no episode
    waits. Counts per episode (``record``): labels, and whether a detector success was rejected.
    """

    def __init__(self, source=SUCCESS_DEFAULT, window_s=LABEL_WINDOW_S):
        self.source = check_success_source(source)
        if not (isinstance(window_s, (int, float)) and math.isfinite(window_s)
                and window_s > 0):
            raise ValueError(f'parameter label_window must be a number of seconds > 0, got '
                             f'{window_s!r}')
        self.window_s = float(window_s)
        self.running = None      # id of the running episode
        self.label = None        # the label for the running episode: True / False / None
        self.held = None         # dict(episode, deadline, why, label): waiting for a label
        self.labels, self.rejected = {}, set()   # per episode id
        self.ended = OrderedDict()   # id -> monotonic end of episodes gone on (the newest last)

    @property
    def takes_labels(self):
        return self.source in LABELLED_SOURCES

    @property
    def waiting(self):
        """Whether an ended episode waits for a label (nothing may start meanwhile)."""
        return self.held is not None

    def start(self, episode_id):
        """Note the new running episode (ControlLoop.start_episode)."""
        self.running, self.label = episode_id, None
        self.labels.setdefault(episode_id, 0)

    def hold(self, episode, now, why=None):
        """
        Take the running episode that ended (its steps stored, its label applied).

        Returns whether it waits for a label (it ended without one, labels are taken, it has
        steps to relabel); else it went on.
        """
        labelled, self.running, self.label = self.label is not None, None, None
        if self.takes_labels and not labelled and episode.transitions and now is not None:
            self.held = {'episode': episode, 'deadline': now + self.window_s, 'why': why,
                         'label': None}
            return True
        self.went_on(episode.episode_id, now)
        return False

    def due(self, now):
        """Whether the held episode goes on now (a label came, or its window is over)."""
        return self.held is not None and (self.held['label'] is not None or
                                          now is None or now >= self.held['deadline'])

    def release(self, shaping, now=None):
        """Return (episode, why it ended) of the held episode, relabelled as labelled."""
        held, self.held = self.held, None
        episode = held['episode']
        if held['label'] is not None and relabel_steps(episode.transitions, held['label'],
                                                       shaping):
            self.rejected.add(episode.episode_id)
        self.went_on(episode.episode_id, now)
        return episode, held['why']

    def went_on(self, episode_id, now):
        """Remember an episode that went on (to the learner), to refuse late labels by name."""
        self.ended[episode_id] = now
        while len(self.ended) > REMEMBERED_EPISODES:
            self.ended.popitem(last=False)

    def record(self, episode_id):
        """Return (and forget) an ended episode's counts: {'labels', 'rejected'}."""
        rejected = episode_id in self.rejected
        self.rejected.discard(episode_id)
        return {'labels': self.labels.pop(episode_id, 0), 'rejected': rejected}

    def mark(self, episode_id, success, source='', now=None):
        """
        Take one label (``~/mark_outcome``); return a LabelAnswer naming the episode.

        episode_id: 0 (the held, else the running episode) or an id; success: True (a
        success) or False (a failure); source: who labels (the log); now: monotonic s.
        """
        held = None if self.held is None else self.held['episode'].episode_id
        target = episode_id or (held if held is not None else self.running) or 0
        outcome, who = ('success' if success else 'failure'), source or 'an unnamed source'
        if not self.takes_labels:
            return LabelAnswer(False, target, (
                f'episode {target}: {outcome} label refused: success is {self.source!r} '
                f"(labels count with 'operator' or 'either')"))
        if target == 0:
            return LabelAnswer(False, 0, f'episode 0: {outcome} label refused: no episode is '
                                         'running or waiting for a label')
        if not episode_id and held is None and self.ended and now is not None:
            last, went = next(reversed(self.ended.items()))
            if went is not None and now - went < self.window_s:
                # 'the current episode' within a window of the last one going on: a late
                # press meant for the episode the operator saw end, never for the new one
                return LabelAnswer(False, last, (
                    f'episode {last}: {outcome} label refused: it went on {now - went:.1f} s '
                    f'ago (its label window is over) and episode {target} has started since; '
                    f'to label episode {target}, name it by its id'))
        if target == held:
            late = None if now is None else now - self.held['deadline']
            if late is not None and late > 0:
                return LabelAnswer(False, target, (
                    f'episode {target}: {outcome} label refused: its label window '
                    f'({self.window_s:g} s) closed {late:.1f} s ago'))
            self.held['label'] = bool(success)
            self.labels[target] = self.labels.get(target, 0) + 1
            steps = self.held['episode'].transitions
            was = 'success' if steps and steps[-1]['success'] else 'failure'
            verdict = ("the detector's success rejected: stored as a failure (truncated, "
                       'no success reward)' if was == 'success' and not success else
                       f'its {was} confirmed' if outcome == was else
                       'stored as a success (terminal, success reward)')
            return LabelAnswer(True, target,
                               f'episode {target}: labelled {outcome} by {who}: {verdict}')
        if target == self.running:
            self.label = bool(success)
            self.labels[target] = self.labels.get(target, 0) + 1
            how = 'terminal, success reward' if success else 'time-limit end, no success reward'
            return LabelAnswer(True, target, f'episode {target}: labelled {outcome} by {who}: '
                                             f'it ends at the next control step ({how})')
        if target in self.ended:
            return LabelAnswer(False, target, (
                f'episode {target}: {outcome} label refused: the episode already ended and '
                f'went on (its label window of {self.window_s:g} s is over)'))
        return LabelAnswer(False, target, (
            f'episode {target}: {outcome} label refused: no such episode (running: '
            f'{self.running or "none"}, waiting for a label: {held or "none"})'))
