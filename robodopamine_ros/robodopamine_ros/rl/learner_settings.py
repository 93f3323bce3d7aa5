# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""learner_node's parameters: rl_agent_node's, so one YAML builds the same policy on both sides."""

from dataclasses import dataclass
import math
from pathlib import Path

from robodopamine_ros.rl.agent_loop import Mode
from robodopamine_ros.rl.agent_settings import RLAgentSettings


@dataclass(frozen=True)
class LearnerSettings(RLAgentSettings):
    """
    learner_node's parameters: rl_agent_node's and its own.

    The policy's (algorithm, observation, joints, image_size, image_encoder, grm_dir, gamma,
    batch_size, demo_bags, pretrain_updates, offline_updates, checkpoint_dir, checkpoint_every
    in episodes received) build the same policy as the actors'; the control ones are unused.
    """

    weights_rate: float = 1.0                 # Hz: weights published at most this often
    journal_dir: str = ''                     # '' = <checkpoint_dir>/journal

    def __post_init__(self):
        super().__post_init__()
        if self.mode != Mode.TRAIN or self.remote:
            raise ValueError("learner_node learns: parameters mode 'train' and learner 'local' "
                             f'(its own), got {self.mode.value!r} and {self.learner!r}')
        if not self.checkpoint_dir:
            raise ValueError('learner_node keeps checkpoints and its journal of episodes: set '
                             'parameter checkpoint_dir')
        if not (math.isfinite(self.weights_rate) and self.weights_rate > 0):
            raise ValueError(f'parameter weights_rate must be > 0 Hz, got {self.weights_rate}')

    def journal_folder(self):
        """Return the folder of the episodes received since the last checkpoint."""
        return self.journal_dir or str(Path(self.checkpoint_dir) / 'journal')
