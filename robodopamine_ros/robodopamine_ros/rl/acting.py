# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Acting and learning as separate objects, and checkpoints.

The ``Learner`` owns the agent, both buffers and the optimizers; the ``PolicyActor`` owns a
copy of the acting weights (encoder + actor) and the safety layer. Weights go from learner to
actor as a detached copy (``learner.actor_state()`` -> ``actor.load(state)``), so a ROS node
can run the learner in another thread (or process) and hand over weights without blocking a
control tick.

Checkpoints hold weights, optimizers, both buffers, counters and random states. They are data,
not code: only tensors and plain containers (dict, list, str, numbers), written with
``torch.save`` and read with ``torch.load(weights_only=True)``, which refuses anything that
would run code when unpickled; a checkpoint of another format, algorithm or observation shape
is refused with both named. They are written to a temporary file, synced and renamed
(atomic.atomic_path), so a crash or power loss leaves the previous checkpoint loadable.

Before a network is built, ``Learner.read`` refuses (one ValueError naming the file): a torch
older than MIN_TORCH (its weights_only loading is not safe), a config whose fields have other
types than AgentConfig's or sizes out of CONFIG_SIZES (``hidden: [200000, 200000]`` would ask
for hundreds of GB), and weights holding NaN or inf.
"""

from dataclasses import fields, MISSING
import math
from pathlib import Path

import numpy as np
from robodopamine_ros.data.atomic import atomic_path
from robodopamine_ros.rl.agents import AgentConfig, make_agent, Stage, STAGES
from robodopamine_ros.rl.replay import mixed_batch, ReplayBuffer, ReturnRule, store_episode
from robodopamine_ros.robot.safety import SafetyLayer
import torch

CHECKPOINT_FILE = 'checkpoint.pt'
CHECKPOINT_FORMAT = 'robodopamine-learner/2'  # 2: vectorized critics, no pickled objects
# torch.load(weights_only=True) is bypassable below 2.6 (CVE-2025-32434) and crafted files can
# corrupt memory below 2.10 (CVE-2026-24747): a checkpoint is never read by an older torch
MIN_TORCH = (2, 10)
# sizes a checkpoint's config may ask for, checked before a network is built (AgentConfig's
# defaults are far inside): per field (low, high); hidden: each layer, at most HIDDEN_LAYERS
CONFIG_SIZES = {'hidden': (1, 8192), 'critics': (1, 64), 'batch_size': (1, 65536),
                'cql_actions': (1, 1024), 'cql_batch': (1, 65536), 'image_features': (1, 8192),
                'image_shift': (0, 64), 'scales': (1, 10000), 'critic_actor_ratio': (1, 100),
                'online_actor_delay': (0, 10 ** 9)}
HIDDEN_LAYERS = 8


def _to_plain(value):
    """Numpy arrays -> tensors, tuples -> lists, recursively (what weights_only loads)."""
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _to_numpy(value):
    """Tensors of a replay buffer's state back to numpy arrays, recursively."""
    if isinstance(value, torch.Tensor):
        return value.numpy()
    if isinstance(value, dict):
        return {k: _to_numpy(v) for k, v in value.items()}
    return value


def torch_version_problem(version=None):
    """Return why this torch must not read a checkpoint (one sentence), or None when it may."""
    version = torch.__version__ if version is None else version
    try:
        found = tuple(int(part) for part in str(version).split('+')[0].split('.')[:2])
    except ValueError:
        return None   # a development build: assume current
    if found >= MIN_TORCH:
        return None
    return (f'torch {version} is older than {".".join(map(str, MIN_TORCH))}: its '
            'weights_only loading can be bypassed (CVE-2025-32434) or made to corrupt memory '
            '(CVE-2026-24747) by a crafted file; install the pip torch docs/install.md names')


def check_checkpoint_config(config, source):
    """
    Check a checkpoint's stored AgentConfig (a dict) before any network is built.

    Every key must be an AgentConfig field, every value of its default's type (int, float,
    bool, str, a list of numbers for the tuples), the sizes within CONFIG_SIZES (hidden: 1 to
    HIDDEN_LAYERS layers), and grm_config (when set) a compact GRM config within its bounds
    (grm.compact.check_config). Raises ValueError naming `source` and the field.
    """
    defaults = {f.name: f for f in fields(AgentConfig)}
    if not isinstance(config, dict):
        raise ValueError(f'{source}: config must be a mapping, got {type(config).__name__}')
    unknown = sorted(str(k) for k in config if k not in defaults)
    if unknown:
        raise ValueError(f'{source}: config fields {unknown} are not AgentConfig fields')

    def number(value, integral=False):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return isinstance(value, int) if integral else math.isfinite(value)

    for key, value in config.items():
        field_ = defaults[key]
        if key == 'grm_config' and value is not None:   # the fine-tuned GRM encoder's shape
            from robodopamine_ros.grm.compact import check_config
            check_config(value, f'{source}: config field grm_config')
            continue
        default = field_.default if field_.default is not MISSING else field_.default_factory()
        if value is None and (default is None or key in CONFIG_SIZES):
            continue
        if isinstance(default, bool):
            good = isinstance(value, bool)
        elif isinstance(default, tuple):
            good = isinstance(value, (list, tuple)) and all(number(v) for v in value)
        elif isinstance(default, int) or key in CONFIG_SIZES:
            good = number(value, integral=True)
        elif isinstance(default, float) or default is None:
            good = number(value)
        else:
            good = isinstance(value, type(default))
        if not good:
            raise ValueError(f'{source}: config field {key} must be like {default!r}, got '
                             f'{value!r}')
    for key, (low, high) in CONFIG_SIZES.items():
        value = config.get(key)
        values = value if key == 'hidden' else [value]
        if key == 'hidden' and not (1 <= len(values) <= HIDDEN_LAYERS):
            raise ValueError(f'{source}: config field hidden must list 1 to {HIDDEN_LAYERS} '
                             f'layer sizes, got {value!r}')
        if value is not None and not all(isinstance(v, int) and low <= v <= high
                                         for v in values):
            raise ValueError(f'{source}: config field {key} must be integers in [{low}, '
                             f'{high}], got {value!r}')


def non_finite_weights(state, prefix=''):
    """Return the names of the floating-point tensors of a nested dict that hold NaN or inf."""
    bad = []
    for key, value in state.items() if isinstance(state, dict) else ():
        name = f'{prefix}{key}'
        if isinstance(value, torch.Tensor):
            if value.is_floating_point() and not bool(torch.isfinite(value).all()):
                bad.append(name)
        elif isinstance(value, dict):
            bad.extend(non_finite_weights(value, f'{name}.'))
        elif isinstance(value, list):
            bad.extend(non_finite_weights(dict(enumerate(value)), f'{name}.'))
    return bad


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
        store_episode(episode, self.rule, self.online, self.demo,
                      self.config.successes_to_demo)
        if not episode.demo:
            self.counters['episodes'] += 1
            self.counters['env_steps'] += len(episode.transitions)

    def set_stage(self, stage):
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        self.agent.stage = Stage(stage)

    def offline_plan(self, pretrain_updates, offline_updates, chunk=50):
        """
        Yield (stage, n) chunks of the offline stage: imitation first, then offline RL.

        Raises ValueError when there is something to do and the demo buffer is empty (a robot
        in mode train needs demonstrations recorded in mode collect first).
        """
        if pretrain_updates + offline_updates > 0 and len(self.demo) == 0:
            raise ValueError('the offline stage needs demonstrations, but the demo buffer is '
                             'empty: record demonstrations first (mode collect), or set '
                             'pretrain_updates and offline_updates to 0')
        for stage, total in (('pretrain', pretrain_updates), ('offline', offline_updates)):
            for start in range(0, total, chunk):
                yield stage, min(chunk, total - start)

    def diagnostics(self, batch_size=256):
        """
        Q vs Monte-Carlo return and imitation, per buffer: {'demo/q', 'online/bc_error', ...}.

        See Agent.diagnostics for the fields; a buffer with no data is left out.
        """
        out = {}
        for name, buffer in (('demo', self.demo), ('online', self.online)):
            if len(buffer):
                batch = buffer.gather(buffer.sample_indices(min(batch_size, len(buffer)),
                                                            self.rng))
                out.update({f'{name}/{k}': v for k, v in self.agent.diagnostics(batch).items()})
        return out

    def update(self, steps=1):
        """Run `steps` updates on 50/50 demo/online batches; return the mean of each stat."""
        if len(self.demo) == 0 and len(self.online) == 0:
            raise ValueError('no data to learn from: both buffers are empty (record '
                             'demonstrations, or run episodes, before updating)')
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
        """Write folder/checkpoint.pt atomically (synced, then renamed); returns its path."""
        path = Path(folder) / CHECKPOINT_FILE
        state = self.state_dict()
        state.update(format=CHECKPOINT_FORMAT, config=self.config.as_dict(),
                     obs_shapes=self.agent.obs_shapes, action_dim=self.agent.action_dim,
                     extra=extra or {})
        with atomic_path(path) as tmp:
            torch.save(_to_plain(state), tmp)
        return path

    @staticmethod
    def read(folder):
        """
        Load a checkpoint file's contents (a dict), or None when the folder has none.

        Raises ValueError for a file that is not a checkpoint of this format, or that would
        need to run code to load (``weights_only=True`` refuses pickled objects).
        """
        path = Path(folder) / CHECKPOINT_FILE
        if not path.is_file():
            return None
        problem = torch_version_problem()
        if problem:
            raise ValueError(f'{path}: not loaded: {problem}')
        try:
            state = torch.load(path, map_location='cpu', weights_only=True)
        except Exception as error:  # torch raises several types for a damaged or unsafe file
            # torch's own text advises weights_only=False: never repeated here
            raise ValueError(f'{path}: not a readable checkpoint ({type(error).__name__}): it '
                             'is damaged, or holds objects other than tensors and plain '
                             'containers; only those are loaded, never code') from error
        found = state.get('format') if isinstance(state, dict) else None
        if found != CHECKPOINT_FORMAT:
            raise ValueError(f'{path}: checkpoint format {found!r}, this version reads '
                             f'{CHECKPOINT_FORMAT!r} (retrain, or use the version that wrote '
                             'it)')
        missing = [k for k in ('config', 'agent', 'online', 'demo', 'counters', 'rng',
                               'obs_shapes', 'action_dim') if k not in state]
        if missing:
            raise ValueError(f'{path}: checkpoint lacks {missing}')
        check_checkpoint_config(state['config'], str(path))
        bad = non_finite_weights(state['agent'])
        if bad:
            raise ValueError(f'{path}: {len(bad)} weight tensors hold NaN or inf (e.g. '
                             f'agent.{bad[0]}): a diverged or damaged checkpoint; resume from '
                             'another one or train anew')
        for part in ('online', 'demo'):
            state[part] = _to_numpy(state[part])
        return state

    @classmethod
    def resume(cls, folder, obs_shapes, action_dim=4, capacity=200_000, return_rule=None,
               algorithm=None, device='cpu'):
        """
        Rebuild a learner from folder/checkpoint.pt (config included); (None, None) if absent.

        Raises ValueError naming both sides when the checkpoint was made for other
        observations, another action size or (when given) another algorithm.
        """
        state = cls.read(folder)
        if state is None:
            return None, None
        path = Path(folder) / CHECKPOINT_FILE
        saved = {k: tuple(v) for k, v in state['obs_shapes'].items()}
        wanted = {k: tuple(v) for k, v in obs_shapes.items()}
        if saved != wanted:
            raise ValueError(f'{path}: made for observations {saved}, this run has {wanted}')
        if state['action_dim'] != action_dim:
            raise ValueError(f'{path}: made for {state["action_dim"]}-d actions, this run has '
                             f'{action_dim}')
        if algorithm is not None and state['config']['algorithm'] != algorithm:
            raise ValueError(f'{path}: a {state["config"]["algorithm"]} checkpoint, this run '
                             f'uses {algorithm}')
        try:
            config = AgentConfig(**state['config'])
        except (TypeError, ValueError) as error:
            raise ValueError(f'{path}: config: {error}') from error
        learner = cls(config, obs_shapes, action_dim, capacity, return_rule=return_rule or
                      ReturnRule(gamma=config.gamma), device=device)
        try:
            learner.load_state_dict(state)
        except (KeyError, RuntimeError, TypeError, ValueError) as error:
            raise ValueError(f'{path}: weights do not fit its config ({type(error).__name__}: '
                             f'{str(error).splitlines()[0] if str(error) else ""})') from error
        return learner, state['extra']
