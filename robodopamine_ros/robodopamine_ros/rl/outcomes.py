# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Where an episode's success comes from, and the scripted operator who labels and takes over.

Success sources (``TrainConfig.success``, ``robodopamine train --success``; on a robot today
grm_node's detector decides, as 'detector' does: the operator's labels through the ROS graph
are not built yet):
- 'detector': the product's success detector (reward/success.py: GRM progress >= 1 - delta held
  for hold_ticks GRM ticks) ends the episode and pays the success reward, as grm_node and
  shaping_node do on a robot. Nothing privileged; no human needed; fooled where the GRM is.
- 'operator': only the operator's outcome label ends an episode as a success (the HIL-SERL and
  Rosetta convention); the detector is not used.
- 'either': the detector proposes, the operator disposes: a detector success ends the episode
  unless the operator rejects it (then it is stored as a failure: no success reward, a
  time-limit end, not a terminal state), and the operator can mark a success the detector
  missed.
- 'simulator': the simulator's own success flag. Privileged: an upper bound, simulation only.

In simulation the scripted operator plays the human: it labels from the simulator's success
flag (what a person at the cell sees), ``label_delay`` control steps after it can see the
outcome, right with probability ``label_accuracy``. Its effort is counted: labels (button
presses) and takeovers per episode. The simulator's flag reaches the learner only through
these labels, as a person's judgement would; with 'detector' it reaches nothing but the log
(the detector's precision and recall).
"""

from dataclasses import dataclass

import numpy as np
from robodopamine_ros.reward.success import SuccessConfig, SuccessDetector

SUCCESS_SOURCES = ('detector', 'operator', 'either', 'simulator')
PRIVILEGED_SUCCESS = ('simulator',)


@dataclass
class OperatorConfig:
    """The scripted operator (a stand-in for the human with the joystick)."""

    stall_steps: int = 25       # takes over when progress gained < min_gain over this many steps
    min_gain: float = 0.05
    takeover_steps: int = 20    # then drives the scripted expert for this many steps
    label_delay: int = 5        # control steps from seeing the outcome to pressing (0.5 s)
    label_accuracy: float = 1.0  # probability a label is right

    def __post_init__(self):
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
        self.history, self.remaining = [], 0
        self.takeovers, self.labels = 0, 0

    def should_take_over(self, progress):
        """Feed this step's progress; return whether the operator acts at this step."""
        c = self.config
        self.history.append(progress)
        if self.remaining > 0:
            self.remaining -= 1
            return True
        if len(self.history) > c.stall_steps and \
                progress - self.history[-1 - c.stall_steps] < c.min_gain:
            self.remaining = c.takeover_steps - 1
            self.history = []
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

    def __init__(self, source, operator=None, detector=None):
        if source not in SUCCESS_SOURCES:
            raise ValueError(f'success must be one of {SUCCESS_SOURCES}, got {source!r}')
        if source in ('operator', 'either') and operator is None:
            raise ValueError(f'success {source!r} needs the operator (the scripted operator '
                             'in simulation)')
        if source in ('detector', 'either') and detector is None:
            raise ValueError(f'success {source!r} needs the success detector (a GRM)')
        self.source, self.operator, self.detector = source, operator, detector
        self.reset()

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

    def step(self, grm_ticked, progress, sim_success):
        """Return (ended, success) after this control step."""
        record = self.record
        if sim_success:
            record['sim_success'] = True
            self.seen_since = 0 if self.seen_since is None else self.seen_since + 1
        if self.source == 'simulator':
            return bool(sim_success), bool(sim_success)
        fired = False
        if self.detector is not None and grm_ticked and not record['detector_success']:
            fired = self.detector.update(progress)
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
                self.seen_since >= self.operator.config.label_delay:
            verdict = self.operator.judge(True)   # a wrong label ends it as a failure
            self._label(verdict, 'success')
            return True, verdict
        return False, False


def make_judge(source, operator=None, success_config=None):
    """Return an OutcomeJudge with a fresh SuccessDetector where the source needs one."""
    detector = SuccessDetector(success_config or SuccessConfig()) \
        if source in ('detector', 'either') else None
    return OutcomeJudge(source, operator, detector)


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
