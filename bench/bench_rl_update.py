# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Cost of one learner update, per back-end and stage, and of one action from a camera triplet.

Updates: batch 256 (half demo, half online), 2 LayerNorm critics, the learner's defaults
(Cal-QL term on 32 of the batch's states, 4 actions per source), one CPU thread (or --device).
Observations:
- 'state' (39-d, the UPPER BOUND's observation); target <= 25 ms;
- 'cameras', the product's: three 64x48 views + 16 proprioception values, with each image
  encoder: 'cnn' (trained by the critic, 4 px random shift on every update: augmentation
  included) and 'grm' (the GRM's frozen features, 512 per step, computed when the step is
  stored); issue 28's target <= 40 ms.
Action: one deterministic action from a camera triplet + proprioception (encoder + actor; for
'grm' the frozen GRM encoder runs on the triplet first), one CPU thread; target <= 10 ms.

Run: .work/venv-core/bin/python bench/bench_rl_update.py [--device cuda]
"""

import argparse
from pathlib import Path
import time

import numpy as np
from results import record
from robodopamine_ros.data.topics import IMAGE_SIZE, VIEWS
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.observations import FrozenViewEncoder, obs_shapes
from robodopamine_ros.rl.replay import Episode
import torch

STATE_TARGET = 'target <= 25 ms'
IMAGE_TARGET = 'target <= 40 ms (issue 28)'
AUGMENTATION = {'cnn': '4 px random shift included',
                'grm': 'frozen features stored per step (no augmentation, no encoder pass)'}


def shipped_grm():
    """The pre-trained compact GRM the package ships (the frozen encoder of 'grm')."""
    import robodopamine_ros.grm as grm
    return Path(grm.__file__).parent / 'pretrained'


def random_obs(shapes, rng):
    obs = {}
    for key, shape in shapes.items():
        if key == 'images':
            obs[key] = rng.integers(0, 256, size=shape, dtype=np.uint8)
        else:
            obs[key] = rng.normal(size=shape).astype(np.float32)
    return obs


def filled_learner(algorithm, shapes, device, episodes=20, steps=150):
    # online_actor_delay 0: the online stage's first 1000 updates train the critic alone, and
    # the figure is for the update that runs from then on (critic and actor)
    learner = Learner(AgentConfig(algorithm=algorithm, online_actor_delay=0), shapes,
                      capacity=10_000, device=device)
    rng = np.random.default_rng(0)
    for index in range(episodes):
        episode = Episode(index - episodes // 2, demo=index < episodes // 2)
        obs = random_obs(shapes, rng)
        for t in range(steps):
            following = random_obs(shapes, rng)
            last = t == steps - 1
            episode.add(obs, rng.uniform(-1, 1, 4), following, float(last), terminal=last,
                        truncated=False, success=last)
            obs = following
        learner.add_episode(episode)
    return learner


def time_updates(learner, stage, updates, device):
    learner.set_stage(stage)
    learner.update(10)  # warm-up
    if device != 'cpu':
        torch.cuda.synchronize()
    start = time.perf_counter()
    learner.update(updates)
    if device != 'cpu':
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / updates * 1000


def time_action(learner, encoder, shapes, repeats=200):
    """ms per deterministic action from a raw camera triplet (+ the frozen encoder if any)."""
    rng = np.random.default_rng(1)
    width, height = IMAGE_SIZE
    views = tuple(rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8) for _ in VIEWS)
    state = rng.normal(size=shapes['state']).astype(np.float32)
    agent = learner.agent

    def act():
        obs = {'state': state}
        if encoder is None:
            obs['images'] = np.stack(views)
        else:   # new images, as each live camera triplet brings (the encoder keeps the last
            # triplet's features: the same images again would not be encoded)
            obs['image_features'] = encoder(tuple(v.copy() for v in views))
        return agent.act(obs, True)

    for _ in range(10):
        act()
    start = time.perf_counter()
    for _ in range(repeats):
        act()
    return (time.perf_counter() - start) / repeats * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--updates', type=int, default=100)
    parser.add_argument('--only', choices=('state', 'cameras'), default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    where = 'one CPU thread' if args.device == 'cpu' else args.device
    if args.only != 'cameras':
        for algorithm in ('calql', 'conrft'):
            for stage in ('pretrain', 'offline', 'online'):
                learner = filled_learner(algorithm, {'state': (39,)}, args.device)
                ms = time_updates(learner, stage, args.updates * 2, args.device)
                record('rl update', f'{algorithm}, {stage} stage: one update', round(ms, 2),
                       'ms', f'{where}, batch 256, 2 critics, state obs; {STATE_TARGET}')
    if args.only == 'state':
        return
    for encoder_name in ('grm', 'cnn'):
        encoder = FrozenViewEncoder(shipped_grm()) if encoder_name == 'grm' else None
        shapes = obs_shapes('cameras', IMAGE_SIZE,
                            image_features=encoder.size if encoder else None)
        learner = filled_learner('calql', shapes, args.device, episodes=10, steps=100)
        for stage in ('offline', 'online'):
            ms = time_updates(learner, stage, args.updates, args.device)
            record('rl update', f'calql, {stage} stage, cameras ({encoder_name} encoder): '
                   'one update', round(ms, 2), 'ms',
                   f'{where}, batch 256, 2 critics, three {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} '
                   f'views + 16 proprioception, {AUGMENTATION[encoder_name]}; {IMAGE_TARGET}')
        if args.device == 'cpu':
            ms = time_action(learner, encoder, shapes)
            record('rl action', f'cameras ({encoder_name} encoder): one action from a camera '
                   'triplet', round(ms, 2), 'ms',
                   f'one CPU thread, three {IMAGE_SIZE[0]}x{IMAGE_SIZE[1]} views'
                   f'{" through the frozen GRM encoder" if encoder else ""} + actor; '
                   'target <= 10 ms (issue 28)')


if __name__ == '__main__':
    main()
