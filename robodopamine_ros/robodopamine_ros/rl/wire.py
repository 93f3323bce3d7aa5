# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Episodes and policy weights as bytes: what crosses between an actor and a remote learner.

The actor is a robot's rl_agent_node, the learner learner_node (docs/architecture.md). Both
are safetensors files in memory (the ``safetensors`` library: tensors and a string
metadata table, no pickle, so a message from the graph cannot run code when it is read):

- an **episode** (``pack_episode`` / ``unpack_episode``): its transitions as arrays of T steps
  (the observation of every step, the last next-observation appended once when each step's
  next observation is the following step's, as every episode loop builds them; both arrays
  otherwise), the action, the reward and logged progress, the flags; metadata: the robot id,
  the episode id and a unique id (``uid``: delivery is idempotent by it).
- **weights** (``pack_weights`` / ``unpack_weights``): the acting weights, their version
  (the learner's update count when they were taken) and the spec they fit (algorithm,
  observation, observation shapes, action size).

Reading is where untrusted input is judged: a wrong shape, a wrong dtype, a non-finite value
or a missing field is a ValueError naming the robot, the episode and the field; weights of
another spec name both specs.
"""

import json
import uuid

import numpy as np
from robodopamine_ros.rl.replay import Episode

EPISODE_FORMAT = 'robodopamine-episode-1'
WEIGHTS_FORMAT = 'robodopamine-weights-1'
SCALARS = ('reward', 'progress_before', 'progress_after', 'sparse_reward', 'env_reward')
FLAGS = ('terminal', 'truncated', 'success', 'intervention')


def pack_episode(episode, robot_id):
    """
    Return (uid, bytes) of a closed or open rl.replay.Episode with at least one transition.

    robot_id: the actor's name (its namespace, e.g. 'arm1'). Raises ValueError for an empty
    episode.
    """
    from safetensors.numpy import save

    steps = episode.transitions
    if not steps:
        raise ValueError(f'{robot_id} episode {episode.episode_id}: no transitions to send')
    keys = sorted(steps[0]['obs'])
    chained = all(all(t['next_obs'][k] is u['obs'][k] or np.array_equal(t['next_obs'][k],
                                                                        u['obs'][k])
                      for k in keys) for t, u in zip(steps, steps[1:]))
    arrays = {}
    for k in keys:
        dtype = np.uint8 if k == 'images' else np.float32
        if chained:
            arrays[f'obs/{k}'] = np.stack([t['obs'][k] for t in steps]
                                          + [steps[-1]['next_obs'][k]]).astype(dtype)
        else:
            arrays[f'obs/{k}'] = np.stack([t['obs'][k] for t in steps]).astype(dtype)
            arrays[f'next_obs/{k}'] = np.stack([t['next_obs'][k] for t in steps]).astype(dtype)
    arrays['action'] = np.stack([t['action'] for t in steps]).astype(np.float32)
    for k in SCALARS:
        arrays[k] = np.array([t[k] for t in steps], np.float32)
    for k in FLAGS:
        arrays[k] = np.array([t[k] for t in steps], np.uint8)
    uid = uuid.uuid4().hex
    metadata = {'format': EPISODE_FORMAT, 'robot_id': str(robot_id), 'uid': uid,
                'episode_id': str(int(episode.episode_id)), 'demo': str(bool(episode.demo)),
                'chained': str(chained)}
    return uid, save({k: np.ascontiguousarray(v) for k, v in arrays.items()}, metadata)


def header_metadata(data, what):
    """
    Return the string metadata of safetensors bytes, read from their header alone.

    The header: an 8-byte little-endian length, then that much JSON. Raises ValueError naming
    `what` when the bytes do not start with one.
    """
    try:
        size = int.from_bytes(bytes(data[:8]), 'little')
        if not 2 <= size <= len(data) - 8:
            raise ValueError(f'a header of {size} bytes in {len(data)}')
        header = json.loads(bytes(data[8:8 + size]))
        metadata = header.get('__metadata__') or {}
    except (ValueError, AttributeError) as error:   # UnicodeDecodeError: a ValueError
        raise ValueError(f'not {what}: {error}') from None
    return metadata


def episode_metadata(data):
    """Return the metadata dict of packed episode bytes (ValueError when not one)."""
    metadata = header_metadata(data, 'a packed episode')
    if metadata.get('format') != EPISODE_FORMAT:
        raise ValueError(f'not a packed episode (format {metadata.get("format")!r}, expected '
                         f'{EPISODE_FORMAT!r})')
    return metadata


def unpack_episode(data, obs_shapes, action_dim):
    """
    Return (metadata, rl.replay.Episode) of packed episode bytes, checked.

    obs_shapes: {key: shape} the learner's buffers hold ('images' uint8, the others float32);
    action_dim: the action size. Raises ValueError naming the robot, the episode and the field
    for anything that does not fit (it is then never stored).
    """
    from safetensors.numpy import load

    metadata = episode_metadata(data)
    where = f'{metadata.get("robot_id", "?")} episode {metadata.get("episode_id", "?")}'
    try:
        arrays = load(bytes(data))
    except Exception as error:   # the library's own error types: damaged data
        raise ValueError(f'{where}: the data does not read ({error})') from None
    steps = len(arrays.get('action', ()))
    if steps < 1:
        raise ValueError(f'{where}: no transitions')
    chained = metadata.get('chained') == 'True'

    def field(name, shape, dtype):
        value = arrays.get(name)
        if value is None:
            raise ValueError(f'{where}: field {name} is missing')
        if value.dtype != dtype or value.shape != shape:
            raise ValueError(f'{where}: field {name} is {value.dtype} {value.shape}, expected '
                             f'{np.dtype(dtype)} {shape}')
        if dtype != np.uint8 and not np.all(np.isfinite(value)):
            raise ValueError(f'{where}: field {name} holds non-finite values')
        return value

    obs, next_obs = {}, {}
    for k, shape in obs_shapes.items():
        dtype = np.uint8 if k == 'images' else np.float32
        if chained:
            values = field(f'obs/{k}', (steps + 1, *shape), dtype)
            obs[k], next_obs[k] = values[:-1], values[1:]
        else:
            obs[k] = field(f'obs/{k}', (steps, *shape), dtype)
            next_obs[k] = field(f'next_obs/{k}', (steps, *shape), dtype)
    action = field('action', (steps, action_dim), np.float32)
    scalars = {k: field(k, (steps,), np.float32) for k in SCALARS}
    flags = {k: field(k, (steps,), np.uint8) for k in FLAGS}
    extra = set(arrays) - {f'obs/{k}' for k in obs_shapes} - {'action', *SCALARS, *FLAGS} \
        - (set() if chained else {f'next_obs/{k}' for k in obs_shapes})
    if extra:
        raise ValueError(f'{where}: fields {sorted(extra)} are not expected')
    try:
        episode = Episode(int(metadata['episode_id']), demo=metadata.get('demo') == 'True')
    except (KeyError, ValueError):
        raise ValueError(f'{where}: no episode id') from None
    for t in range(steps):
        episode.add({k: v[t] for k, v in obs.items()}, action[t],
                    {k: v[t] for k, v in next_obs.items()}, scalars['reward'][t],
                    bool(flags['terminal'][t]), bool(flags['truncated'][t]),
                    success=bool(flags['success'][t]),
                    intervention=bool(flags['intervention'][t]),
                    **{k: float(scalars[k][t]) for k in SCALARS if k != 'reward'})
    return metadata, episode


def weights_spec(algorithm, observation, obs_shapes, action_dim):
    """Return the spec weights must fit: a dict of plain values (compared as a whole)."""
    return {'algorithm': str(algorithm), 'observation': str(observation),
            'obs_shapes': {k: [int(n) for n in v] for k, v in sorted(obs_shapes.items())},
            'action_dim': int(action_dim)}


def pack_weights(actor_state, version, spec):
    """Return bytes of acting weights ({part: {name: tensor}}), their version and spec."""
    from safetensors.torch import save

    tensors = {f'{part}/{name}': tensor.detach().contiguous().cpu()
               for part, values in actor_state.items() for name, tensor in values.items()}
    return save(tensors, {'format': WEIGHTS_FORMAT, 'version': str(int(version)),
                          'spec': json.dumps(spec, sort_keys=True),
                          'parts': json.dumps(sorted(actor_state))})   # empty ones too


def unpack_weights(data, expected_spec):
    """
    Return (actor_state, version) of packed weights that fit expected_spec.

    Raises ValueError naming both specs when they differ (another observation or algorithm
    than the actor's), and for data that is not packed weights or holds non-finite values.
    """
    from safetensors.torch import load

    metadata = header_metadata(data, 'policy weights')
    if metadata.get('format') != WEIGHTS_FORMAT:
        raise ValueError(f'not policy weights (format {metadata.get("format")!r})')
    spec = json.loads(metadata.get('spec', '{}'))
    if spec != expected_spec:
        raise ValueError(f'policy weights for {json.dumps(spec, sort_keys=True)}, this actor '
                         f'is {json.dumps(expected_spec, sort_keys=True)}: refused')
    try:
        tensors = load(bytes(data))
    except Exception as error:   # damaged data: the library's own error types
        raise ValueError(f'policy weights do not read ({error})') from None
    try:   # every part, an empty one too (a frozen encoder has no acting weights)
        state = {part: {} for part in json.loads(metadata.get('parts', '[]'))}
    except (TypeError, ValueError):
        raise ValueError('policy weights: their part names do not read') from None
    for key, tensor in tensors.items():
        part, _, name = key.partition('/')
        if not tensor.isfinite().all():
            raise ValueError(f'policy weights version {metadata.get("version")}: {key} holds '
                             'non-finite values: refused')
        state.setdefault(part, {})[name] = tensor
    return state, int(metadata['version'])
