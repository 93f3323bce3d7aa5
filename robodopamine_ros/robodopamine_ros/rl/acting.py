# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Acting and learning as separate objects, and checkpoints.

The ``Learner`` owns the agent, both buffers and the optimizers; the ``PolicyActor`` owns a
copy of the acting weights (encoder + actor) and the safety layer. Weights go from learner to
actor as a detached copy (``learner.actor_state()`` -> ``actor.load(state)``), so a ROS node
can run the learner in another thread (or process) and hand over weights without blocking a
control tick. Checkpoints hold weights, optimizers, both buffers, counters and random states;
they are written to a temporary file and renamed.
"""

import os
from pathlib import Path
import tempfile

import numpy as np
from robodopamine_ros.rl.agents import AgentConfig, make_agent
from robodopamine_ros.rl.replay import mixed_batch, ReplayBuffer, ReturnRule, store_episode
from robodopamine_ros.rl.safety import SafetyLayer
import torch

CHECKPOINT_FILE = 'checkpoint.pt'


class PolicyActor:
    """Turns observations into safe actions with the latest weights it was given."""

    def __init__(self, config, obs_shapes, safety, action_dim=4, seed=0):
        self.agent = make_agent(config, obs_shapes, action_dim, seed=seed)
        self.safety = safety if isinstance(safety, SafetyLayer) else SafetyLayer(safety)
        self.version = -1

    def load(self, state, version=0):
        self.agent.load_actor_state(state)
        self.version = version

    def act(self, obs, ee_position=None, deterministic=False):
        """Return (safe action, the policy's raw action, safety rules that changed it)."""
        raw = self.agent.act(obs, deterministic)
        safe, changed = self.safety(raw, ee_position)
        return safe, raw, changed


class Learner:
    """The agent, the online and demo buffers, and the update loop."""

    def __init__(self, config, obs_shapes, action_dim=4, capacity=200_000, seed=0,
                 return_rule=None, device='cpu'):
        self.config = config
        self.agent = make_agent(config, obs_shapes, action_dim, device=device, seed=seed)
        self.online = ReplayBuffer(capacity, obs_shapes, action_dim)
        self.demo = ReplayBuffer(capacity, obs_shapes, action_dim)
        self.rule = return_rule or ReturnRule(gamma=config.gamma)
        if abs(self.rule.gamma - config.gamma) > 1e-12:
            raise ValueError(f"Monte-Carlo returns must use the critic's gamma "
                             f'{config.gamma}, got {self.rule.gamma}')
        self.rng = np.random.default_rng(seed)
        self.counters = {'episodes': 0, 'env_steps': 0, 'updates': 0, 'weights_version': 0}

    def add_episode(self, episode):
        store_episode(episode, self.rule, self.online, self.demo)
        if not episode.demo:
            self.counters['episodes'] += 1
            self.counters['env_steps'] += len(episode.transitions)

    def set_stage(self, stage):
        if stage not in ('offline', 'online'):
            raise ValueError(f"stage must be 'offline' or 'online', got {stage!r}")
        self.agent.stage = stage

    def update(self, steps=1):
        """Run `steps` updates on 50/50 demo/online batches; return the mean of each stat."""
        if len(self.demo) == 0 and len(self.online) == 0:
            raise ValueError('no data to learn from: both buffers are empty')
        totals = {}
        for _ in range(steps):
            batch = mixed_batch(self.online, self.demo, self.config.batch_size, self.rng)
            for key, value in self.agent.update(batch).items():
                totals.setdefault(key, []).append(value)
        self.counters['updates'] += steps
        self.counters['weights_version'] += 1
        return {k: float(np.mean(v)) for k, v in totals.items()}

    def actor_state(self):
        """Return a detached copy of the acting weights, safe to hand to another thread."""
        return {name: {k: v.detach().clone() for k, v in part.items()}
                for name, part in self.agent.actor_state().items()}

    # checkpoints ------------------------------------------------------------------------------
    def state_dict(self):
        return {'agent': self.agent.state_dict(), 'online': self.online.state_dict(),
                'demo': self.demo.state_dict(), 'counters': dict(self.counters),
                'rng': {'numpy': self.rng.bit_generator.state,
                        'torch': torch.get_rng_state()}}

    def load_state_dict(self, state):
        self.agent.load_state_dict(state['agent'])
        self.online.load_state_dict(state['online'])
        self.demo.load_state_dict(state['demo'])
        self.counters = dict(state['counters'])
        self.rng.bit_generator.state = state['rng']['numpy']
        torch.set_rng_state(state['rng']['torch'])

    def save(self, folder, extra=None):
        """Write folder/checkpoint.pt atomically; returns its path."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        state = self.state_dict()
        state['config'] = self.config.as_dict()
        state['extra'] = extra or {}
        handle, tmp = tempfile.mkstemp(prefix='.checkpoint.', suffix='.tmp', dir=folder)
        os.close(handle)
        try:
            torch.save(state, tmp)
            os.replace(tmp, folder / CHECKPOINT_FILE)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return folder / CHECKPOINT_FILE

    @staticmethod
    def read(folder):
        """Load a checkpoint file's contents (a dict), or None when the folder has none."""
        path = Path(folder) / CHECKPOINT_FILE
        if not path.is_file():
            return None
        try:
            return torch.load(path, map_location='cpu', weights_only=False)
        except Exception as error:  # torch raises several types for a damaged file
            raise ValueError(f'{path}: not a readable checkpoint ({error})') from error

    @classmethod
    def resume(cls, folder, obs_shapes, action_dim=4, capacity=200_000, return_rule=None):
        """Rebuild a learner from folder/checkpoint.pt (config included); None if absent."""
        state = cls.read(folder)
        if state is None:
            return None, None
        config = AgentConfig(**state['config'])
        learner = cls(config, obs_shapes, action_dim, capacity, return_rule=return_rule or
                      ReturnRule(gamma=config.gamma))
        learner.load_state_dict(state)
        return learner, state['extra']
