# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Reward-core speed: one progress-tracker update plus one shaping step per control tick, and label
construction for the shared real demo (1277 frames, 16 segments, 1000 samples).

Run: .work/venv-core/bin/python bench/bench_reward_core.py
"""

import math
from pathlib import Path
import random
import statistics
import sys
import time

from results import record

from robodopamine_ros.commands.labels import load_demonstration
from robodopamine_ros.reward.labels import build_labels, LabelConfig
from robodopamine_ros.reward.progress import ProgressConfig, ProgressTracker
from robodopamine_ros.reward.shaping import shape, ShapingConfig

DEMO = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'robo_dopamine_example' / \
    'episode_001'


def tick_cost(fusion, ticks=20000, repeats=5):
    rng = random.Random(0)
    hops = [(rng.uniform(-0.2, 0.4), rng.uniform(-0.1, 1.1), rng.uniform(-1.1, 0.1))
            for _ in range(ticks)]
    shaping = ShapingConfig(gamma=0.98, terminate_on_success=False)
    best = math.inf
    for _ in range(repeats):
        tracker = ProgressTracker(ProgressConfig(fusion=fusion))
        start = time.perf_counter()
        for h_i, h_f, h_b in hops:
            before = tracker.progress
            after = tracker.update(h_i, h_f, h_b).progress
            shape(before, after, shaping)
        best = min(best, (time.perf_counter() - start) / ticks)
    return best * 1e6


def label_time(repeats=5):
    demo = load_demonstration(DEMO)
    times = []
    for seed in range(repeats):
        start = time.perf_counter()
        build_labels([demo], LabelConfig(samples_per_episode=1000), seed=seed)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    for fusion in ('mean', 'consistency'):
        us = tick_cost(fusion)
        record('reward_core', f'tracker update + shaping step ({fusion} fusion)', round(us, 2),
               'us/tick', 'target well under 100 us; best of 5 x 20000 ticks')
    if DEMO.is_dir():
        seconds = label_time()
        record('reward_core', 'label construction, shared demo (1000 samples)',
               round(seconds, 3), 's', 'target under 1 s; median of 5 seeds')
    else:
        print(f'skipping label construction: {DEMO} not found', file=sys.stderr)


if __name__ == '__main__':
    main()
