# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Mode eval on a robot, ROS-free: a fixed number of episodes, their verdicts, the success rate.

rl_agent_node in mode eval runs ``episodes`` episodes (parameter eval_episodes), logs one row
per episode in its own log (``eval_folder``: never the training episodes.csv), then reports
the success rate and exits. Each episode's verdict is the success detector's (the GRM's
hysteresis, through shaping_node); where the robot reports its own ground truth (the
simulator's ``sim_robot/success``) it is logged and reported beside it. In simulation the
layouts are the evaluation layouts, which training never uses (sim_robot_node layouts:=eval:
rl.sim_training.EVAL_SEED on).
"""

from pathlib import Path
import time
from typing import Optional


def eval_folder(log_dir, clock=time.gmtime):
    """Return the folder of one eval run's log: LOG_DIR/eval_<UTC time> (not created here)."""
    return Path(log_dir) / time.strftime('eval_%Y%m%d_%H%M%S', clock())


class EvalRun:
    """
    The episodes of one evaluation and their verdicts.

    episodes: how many (>= 1). Per episode: ``start_episode()``, any number of
    ``observe_ground_truth(success)`` (the robot's own success signal; True once is success),
    then ``finished(summary)`` with ControlLoop's summary, which returns the episode's log row.
    ``done`` once every episode finished; ``report()`` is the result line.
    """

    def __init__(self, episodes: int = 20) -> None:
        if not (isinstance(episodes, int) and episodes >= 1):
            raise ValueError(f'eval_episodes must be an integer >= 1, got {episodes!r}')
        self.episodes = episodes
        self.rows = []
        self.truth = None     # the running episode's ground truth (None: none reported)

    def start_episode(self) -> None:
        self.truth = None

    def observe_ground_truth(self, success: bool) -> None:
        """Take one ground-truth message of the running episode (True once: success)."""
        self.truth = bool(self.truth) or bool(success)

    @property
    def done(self) -> bool:
        return len(self.rows) >= self.episodes

    def finished(self, summary: dict) -> dict:
        """
        Record an ended episode; return its row (ground_truth 1.0 / 0.0, or None).

        An episode in which no step was taken (the arm held from start to end, e.g. by cameras
        gone silent after the start) is not an evaluation of the policy: its row says
        ``aborted``, it is not counted, and the same episode number runs again.
        """
        row = {'episode': len(self.rows) + 1, 'episode_id': summary['episode_id'],
               'aborted': not summary['steps'],
               'success': bool(summary['success']),
               'ground_truth': None if self.truth is None else float(self.truth),
               'steps': summary['steps'], 'return': summary['return'],
               'final_progress': summary['final_progress'],
               'intervention_rate': summary['intervention_rate']}
        if not row['aborted']:
            self.rows.append(row)
        self.truth = None
        return row

    def rates(self) -> tuple:
        """Return (detector success rate, ground-truth success rate or None) so far."""
        if not self.rows:
            return 0.0, None
        detector = sum(r['success'] for r in self.rows) / len(self.rows)
        truths = [r['ground_truth'] for r in self.rows if r['ground_truth'] is not None]
        return detector, (sum(truths) / len(truths) if truths else None)

    def report(self, truth_source: Optional[str] = 'sim_robot/success') -> str:
        """Return the result line: the detector's rate, and the ground truth's beside it."""
        detector, truth = self.rates()
        n = len(self.rows)
        line = (f'eval: success rate {detector:.2f} ({round(detector * n)} of {n} episodes) by '
                'the success detector')
        if truth is not None:
            judged = sum(r['ground_truth'] is not None for r in self.rows)
            line += (f'; {truth:.2f} ({round(truth * judged)} of {judged}) by the '
                     f"simulator's ground truth ({truth_source})")
        return line
