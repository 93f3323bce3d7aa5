# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Replay: transitions, Monte-Carlo returns, the online and demo buffers, 50/50 mixing.

The method: docs/method.md#buffers-and-monte-carlo-returns.

A transition is added to an open episode; when the episode closes, its Monte-Carlo
return-to-go is computed backwards with the critic's gamma and the critic's reward, and the
episode enters the buffer(s). Logged progress (before, after), the success label and the
terminal/truncated flags are stored with every transition, so rewards and returns can be
recomputed with a new GRM (``relabel``) without touching the observations.
"""

from dataclasses import dataclass

import numpy as np
from robodopamine_ros.reward.shaping import GAMMA

FLAGS = ('demo', 'intervention', 'success', 'terminal', 'truncated')
SCALARS = ('reward', 'mc_return', 'progress_before', 'progress_after', 'sparse_reward',
           'env_reward')


def mc_returns(rewards, gamma, never_succeeded_value=None):
    """
    Discounted return-to-go of each step of one finished episode.

    The tail after the last step counts as 0: exact after a terminal step, a lower estimate
    after a time-limit truncation (whose future is unknown). never_succeeded_value: the
    constant given to every step instead (docs/method.md#buffers-and-monte-carlo-returns: a sparse
    episode that never succeeds gets r_neg / (1 - gamma)); None to always use the discounted sum.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    if never_succeeded_value is not None:
        return np.full(len(rewards), float(never_succeeded_value))
    returns = np.zeros(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


@dataclass
class ReturnRule:
    """How the buffer turns rewards into Monte-Carlo returns: the critic's gamma and reward."""

    gamma: float = GAMMA
    sparse: bool = False          # True when the reward is the sparse success reward
    sparse_negative: float = 0.0  # r_neg of the sparse reward (0 for our 0/1 reward)

    def returns(self, rewards, succeeded):
        constant = self.sparse_negative / (1.0 - self.gamma) \
            if self.sparse and not succeeded else None
        return mc_returns(rewards, self.gamma, constant)


class ReplayBuffer:
    """
    A ring buffer of transitions with named observation arrays.

    obs_shapes: {'state': (D,), 'images': (V, H, W, 3), 'image_features': (F,)}. Vectors are
    stored as float32 per transition (obs and next obs). Camera views are stored ONCE per
    control step, as uint8, in a ring of frames: a transition holds two indices into it (its
    observation's frame and its next observation's), and the frame its next observation shares
    with the following step's observation is written once (``bytes_per_transition``). The frame
    ring holds 2 x capacity frames, so a frame outlives every transition that refers to it
    (an episode of T steps writes at most T + 1 frames).
    """

    def __init__(self, capacity, obs_shapes, action_dim):
        self.capacity, self.size, self.cursor = int(capacity), 0, 0
        self.obs_shapes = {k: tuple(v) for k, v in obs_shapes.items()}
        self.action_dim = action_dim

        def array(shape, dtype, length=self.capacity):
            return np.zeros((length,) + tuple(shape), dtype=dtype)
        vectors = [k for k in self.obs_shapes if k != 'images']
        self.obs = {k: array(self.obs_shapes[k], np.float32) for k in vectors}
        self.next_obs = {k: array(self.obs_shapes[k], np.float32) for k in vectors}
        self.frames = None
        if 'images' in self.obs_shapes:  # np.zeros: pages are touched only when written
            self.frames = array(self.obs_shapes['images'], np.uint8, 2 * self.capacity)
            self.frame_cursor, self.frames_written = 0, 0
            self.obs_frame = array((), np.int64)
            self.next_frame = array((), np.int64)
        self.action = array((action_dim,), np.float32)
        self.scalars = {k: array((), np.float32) for k in SCALARS}
        self.flags = {k: array((), bool) for k in FLAGS}
        self.episode = array((), np.int64)
        self.step = array((), np.int64)

    def __len__(self):
        return self.size

    def _frame(self, image, written):
        """Store one step's views (or find them among this call's: `written`); its index."""
        index = written.get(id(image))
        if index is None:
            index = self.frame_cursor
            self.frames[index] = image
            self.frame_cursor = (index + 1) % len(self.frames)
            self.frames_written += 1
            written[id(image)] = index
        return index

    def add_episode(self, transitions):
        """
        Append the transitions (dicts as built by Episode) of one closed episode.

        Views are shared by identity: a step's next-observation array that is the following
        step's observation array (as every episode loop builds them) is stored once.
        """
        written = {}  # id(views array) -> frame index; the transitions keep the arrays alive
        for t in transitions:
            i = self.cursor
            for k in self.obs:
                self.obs[k][i] = t['obs'][k]
                self.next_obs[k][i] = t['next_obs'][k]
            if self.frames is not None:
                self.obs_frame[i] = self._frame(t['obs']['images'], written)
                self.next_frame[i] = self._frame(t['next_obs']['images'], written)
            self.action[i] = t['action']
            for k in SCALARS:
                self.scalars[k][i] = t[k]
            for k in FLAGS:
                self.flags[k][i] = t[k]
            self.episode[i], self.step[i] = t['episode'], t['step']
            self.cursor = (self.cursor + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, n, rng):
        if self.size == 0:
            raise ValueError('cannot sample from an empty replay buffer')
        return rng.integers(0, self.size, n)

    def gather(self, indices):
        """Return a batch (dict of numpy arrays) at the given indices."""
        batch = {'obs': {k: v[indices] for k, v in self.obs.items()},
                 'next_obs': {k: v[indices] for k, v in self.next_obs.items()},
                 'action': self.action[indices]}
        if self.frames is not None:
            batch['obs']['images'] = self.frames[self.obs_frame[indices]]
            batch['next_obs']['images'] = self.frames[self.next_frame[indices]]
        batch.update({k: v[indices] for k, v in self.scalars.items()})
        batch.update({k: v[indices] for k, v in self.flags.items()})
        return batch

    def bytes_per_transition(self):
        """Mean bytes a stored transition takes (vectors, scalars, flags and its frames' share)."""
        if self.size == 0:
            return 0.0
        per_row = sum(a.itemsize * int(np.prod(a.shape[1:])) for group in
                      (self.obs, self.next_obs, self.scalars, self.flags) for a in group.values())
        per_row += self.action.itemsize * self.action_dim + 2 * 8
        if self.frames is not None:
            frames = min(self.frames_written, len(self.frames))
            per_row += 2 * 8 + frames * self.frames[0].nbytes / self.size
        return float(per_row)

    def state_dict(self):
        n = self.size
        state = {'capacity': self.capacity, 'size': n, 'cursor': self.cursor,
                 'obs': {k: v[:n].copy() for k, v in self.obs.items()},
                 'next_obs': {k: v[:n].copy() for k, v in self.next_obs.items()},
                 'action': self.action[:n].copy(),
                 'scalars': {k: v[:n].copy() for k, v in self.scalars.items()},
                 'flags': {k: v[:n].copy() for k, v in self.flags.items()},
                 'episode': self.episode[:n].copy(), 'step': self.step[:n].copy()}
        if self.frames is not None:
            # the frames written so far (a view: a large ring is not copied in memory to save)
            state['frames'] = {'frames': self.frames[:min(self.frames_written,
                                                          len(self.frames))],
                               'cursor': self.frame_cursor, 'written': self.frames_written,
                               'obs_frame': self.obs_frame[:n].copy(),
                               'next_frame': self.next_frame[:n].copy()}
        return state

    def load_state_dict(self, state):
        if state['capacity'] != self.capacity:
            raise ValueError(f'checkpoint buffer capacity {state["capacity"]} differs from '
                             f"this buffer's {self.capacity}")
        n = self.size = state['size']
        self.cursor = state['cursor']
        for name in ('obs', 'next_obs'):
            for k, v in state[name].items():
                getattr(self, name)[k][:n] = v
        self.action[:n] = state['action']
        for k, v in state['scalars'].items():
            self.scalars[k][:n] = v
        for k, v in state['flags'].items():
            self.flags[k][:n] = v
        self.episode[:n], self.step[:n] = state['episode'], state['step']
        if self.frames is not None:
            frames = state['frames']
            self.frames[:len(frames['frames'])] = frames['frames']
            self.frame_cursor, self.frames_written = frames['cursor'], frames['written']
            self.obs_frame[:n], self.next_frame[:n] = frames['obs_frame'], frames['next_frame']


def mixed_batch(online, demo, batch_size, rng, demo_fraction=0.5):
    """
    Sample a batch: demo_fraction from the demo buffer (0.5, the paper's 50/50), the rest online.

    The buffers: docs/method.md#buffers-and-monte-carlo-returns.

    While one buffer is empty the whole batch comes from the other (the offline stage has no
    online data; a robot may learn without demonstrations). The returned batch carries
    'from_demo_buffer' so losses can single out the demo part.
    """
    if len(online) == 0:
        n_demo = batch_size
    elif len(demo) == 0:
        n_demo = 0
    else:
        n_demo = int(round(batch_size * demo_fraction))
    parts = []
    if n_demo:
        parts.append((demo.gather(demo.sample_indices(n_demo, rng)), True))
    if batch_size - n_demo:
        parts.append((online.gather(online.sample_indices(batch_size - n_demo, rng)), False))
    batch = _concatenate([p for p, _ in parts])
    batch['from_demo_buffer'] = np.concatenate(
        [np.full(len(p['action']), flag) for p, flag in parts])
    return batch


def _concatenate(parts):
    if len(parts) == 1:
        return parts[0]
    out = {}
    for key, value in parts[0].items():
        if isinstance(value, dict):
            out[key] = {k: np.concatenate([p[key][k] for p in parts]) for k in value}
        else:
            out[key] = np.concatenate([p[key] for p in parts])
    return out


class Episode:
    """
    Collects one episode's transitions until it closes, then computes its returns.

    Each transition records the reward the critic sees, the logged progress and success
    label (for relabelling) and whether a human (or the scripted operator) chose the action.
    """

    def __init__(self, episode_id, demo=False):
        self.episode_id, self.demo = episode_id, demo
        self.transitions = []

    def add(self, obs, action, next_obs, reward, terminal, truncated, *, success=False,
            intervention=False, progress_before=0.0, progress_after=0.0, sparse_reward=0.0,
            env_reward=0.0):
        action = np.asarray(action, dtype=np.float32)
        if not np.all(np.isfinite(action)):
            raise ValueError(f'episode {self.episode_id} step {len(self.transitions)}: '
                             f'stored action must be finite, got {action}')
        for name, observation in (('observation', obs), ('next observation', next_obs)):
            for key, value in observation.items():  # the last line of defence: never stored
                if key != 'images' and not np.all(np.isfinite(value)):
                    raise ValueError(f'episode {self.episode_id} step {len(self.transitions)}: '
                                     f'{name} {key!r} must be finite, got {value}')
        self.transitions.append({
            'obs': obs, 'action': action, 'next_obs': next_obs, 'reward': float(reward),
            'terminal': bool(terminal), 'truncated': bool(truncated), 'success': bool(success),
            'intervention': bool(intervention), 'demo': self.demo,
            'progress_before': float(progress_before), 'progress_after': float(progress_after),
            'sparse_reward': float(sparse_reward), 'env_reward': float(env_reward),
            'episode': self.episode_id, 'step': len(self.transitions), 'mc_return': 0.0})

    @property
    def succeeded(self):
        return any(t['success'] for t in self.transitions)

    @property
    def intervention_rate(self):
        if not self.transitions:
            return 0.0
        return float(np.mean([t['intervention'] for t in self.transitions]))

    def close(self, rule):
        """Compute Monte-Carlo returns with the buffer's rule; return the transitions."""
        returns = rule.returns([t['reward'] for t in self.transitions], self.succeeded)
        for t, g in zip(self.transitions, returns):
            t['mc_return'] = float(g)
        return self.transitions


def store_episode(episode, rule, online, demo, successes_to_demo=False):
    """
    Close an episode and add it where it belongs (docs/method.md#interventions).

    Demonstrations go to the demo buffer; online episodes to the online buffer, and their
    intervention transitions (the human's action, flagged) to the demo buffer as well.
    successes_to_demo [ours]: a successful online episode the policy finished alone is also
    copied, whole, to the demo buffer, so the imitation anchor covers the layouts the policy
    has solved itself (self-imitation of successes; see AgentConfig.successes_to_demo). A
    success a takeover rescued is not copied whole: its policy steps include the stall that
    made the human take over, and the anchor would imitate it; its takeovers go, as in any
    episode.
    """
    transitions = episode.close(rule)
    if episode.demo:
        demo.add_episode(transitions)
        return
    online.add_episode(transitions)
    taken_over = [t for t in transitions if t['intervention']]
    if successes_to_demo and episode.succeeded and not taken_over:
        demo.add_episode(transitions)
    elif taken_over:
        demo.add_episode(taken_over)


def relabel(buffer, reward_fn, rule):
    """
    Recompute rewards and Monte-Carlo returns of every stored episode.

    reward_fn(progress_before, progress_after, sparse_reward, terminal, truncated, env_reward)
    -> reward, applied per transition (e.g. a new shaping, after a new GRM re-scored the
    logged progress). Episodes are grouped by their id and ordered by step.
    """
    n = buffer.size
    s, f = buffer.scalars, buffer.flags
    for i in range(n):
        s['reward'][i] = reward_fn(s['progress_before'][i], s['progress_after'][i],
                                   s['sparse_reward'][i], f['terminal'][i], f['truncated'][i],
                                   s['env_reward'][i])
    for episode_id in np.unique(buffer.episode[:n]):
        idx = np.flatnonzero(buffer.episode[:n] == episode_id)
        idx = idx[np.argsort(buffer.step[idx])]
        succeeded = bool(f['success'][idx].any())
        s['mc_return'][idx] = rule.returns(s['reward'][idx], succeeded)
