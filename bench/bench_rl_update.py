# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Cost of one learner update, per back-end and stage: state observations (39-d), batch 256
(half demo, half online), 2 LayerNorm critics, the learner's defaults (Cal-QL term on 32 of
the batch's states, 4 actions per source), one CPU thread (or --device).

Target (issue: a learner that keeps up with a 10 Hz robot at one update per step): <= 25 ms.

Run: .work/venv-core/bin/python bench/bench_rl_update.py [--device cuda]
"""

import argparse
import time

import numpy as np
from results import record
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.replay import Episode
import torch


def filled_learner(algorithm, device):
    # online_actor_delay 0: the online stage's first 1000 updates train the critic alone, and
    # the figure is for the update that runs from then on (critic and actor)
    learner = Learner(AgentConfig(algorithm=algorithm, online_actor_delay=0), {'state': (39,)},
                      capacity=10_000, device=device)
    rng = np.random.default_rng(0)
    for index in range(20):
        episode = Episode(index - 10, demo=index < 10)
        for t in range(150):
            episode.add({'state': rng.normal(size=39).astype(np.float32)},
                        rng.uniform(-1, 1, 4), {'state': rng.normal(size=39).astype(np.float32)},
                        float(t == 149), terminal=t == 149, truncated=False, success=t == 149)
        learner.add_episode(episode)
    return learner


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--updates', type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    where = 'one CPU thread' if args.device == 'cpu' else args.device
    for algorithm in ('calql', 'conrft'):
        for stage in ('pretrain', 'offline', 'online'):
            learner = filled_learner(algorithm, args.device)
            learner.set_stage(stage)
            learner.update(20)  # warm-up
            if args.device != 'cpu':
                torch.cuda.synchronize()
            start = time.perf_counter()
            learner.update(args.updates)
            if args.device != 'cpu':
                torch.cuda.synchronize()
            ms = (time.perf_counter() - start) / args.updates * 1000
            record('rl update', f'{algorithm}, {stage} stage: one update', round(ms, 2), 'ms',
                   f'{where}, batch 256, 2 critics, state obs; target <= 25 ms')


if __name__ == '__main__':
    main()
