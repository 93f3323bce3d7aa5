# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Compact GRM: one-shot adaptation on the shared real demo, and inference speed. One CPU thread.

Quality is measured on the demo's held-out frames (every 10th frame never enters training);
no other real run of this task is available here, so these figures are NOT the unseen-run
figures of GRM_NOTES (the simulator issue adds unseen rollouts).

Run: .work/venv-core/bin/python bench/bench_compact_grm.py [--steps 1500]
"""

import argparse
from pathlib import Path
import sys
import tempfile
import time

import numpy as np
from results import record
import torch

from robodopamine_ros.data import demos
from robodopamine_ros.grm.adapt_compact import reference_frames
from robodopamine_ros.grm.base import GRMQuery, ProgressEstimator
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.grm.one_shot import adapt
from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
from robodopamine_ros.reward.evaluation import evaluate_model

DEMO = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'robo_dopamine_example' / \
    'episode_001'


def tick_latency(model, size, ticks=200):
    rng = np.random.default_rng(0)
    frames = [tuple(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                    for _ in range(3)) for _ in range(ticks + 1)]
    estimator = ProgressEstimator(model, 'task', frames[0][0], frames[-1][0])
    estimator.start(frames[0])
    times = []
    for views in frames[1:]:
        start = time.perf_counter()
        estimator.tick(views)
        times.append(time.perf_counter() - start)
    times = np.array(times[10:]) * 1000
    return float(np.median(times)), float(np.percentile(times, 99))


def throughput(model, batch, repeats=5):
    rng = np.random.default_rng(1)
    best = float('inf')
    for _ in range(repeats):
        queries = [GRMQuery('', *(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
                                  for _ in range(2)),
                            tuple(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
                                  for _ in range(3)),
                            tuple(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
                                  for _ in range(3))) for _ in range(batch)]
        start = time.perf_counter()
        model.hops(queries)
        best = min(best, time.perf_counter() - start)
    return batch / best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=1500)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = CompactGRM.create()
    for size in ((640, 480), (64, 48)):
        p50, p99 = tick_latency(model, size)
        record('compact_grm', f'fused tick (3 queries, cached encodings), {size[0]}x{size[1]} '
               'cameras, 1 thread', round(p50, 2), 'ms p50',
               f'p99 {p99:.2f} ms; target under 10 ms')
    for batch in (1, 8, 32, 128):
        record('compact_grm', f'throughput, batch {batch}, nothing cached, 1 thread',
               round(throughput(model, batch), 1), 'queries/s', '8 images encoded per query')
    if not DEMO.is_dir():
        print(f'{DEMO} not found: skipping adaptation figures', file=sys.stderr)
        return 0
    episode = demos.load_demo(DEMO, image_size=(64, 48))
    start, end = reference_frames(episode)
    references = (episode.views['front'][start], episode.views['front'][end])
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        trained, history = adapt(DEMO, Path(folder) / 'grm', steps=args.steps, episode=episode)
        wall = time.perf_counter() - began
    record('compact_grm', f'one-shot adaptation on the shared demo ({args.steps} steps, '
           '1 thread)', round(wall, 1), 's', f'training loop {history["seconds"]} s; the rest '
           'is evaluation and plots')
    for name, model_under_test in (('compact GRM', trained), ('pixel baseline',
                                                              PixelBaselineGRM())):
        metrics, _ = evaluate_model(model_under_test, episode, references, every=10)
        for key in ('voc_fused', 'voc_incremental', 'voc_forward', 'voc_backward', 'voc_minus',
                    'mae_vs_keyframes', 'forward_back_corr', 'stall_drift_fused',
                    'stall_drift_incremental'):
            record('compact_grm', f'{name}: {key} (shared demo, every 10th frame, held out)',
                   round(metrics[key], 4), '', 'not an unseen run: see the benchmark docstring')
    return 0


if __name__ == '__main__':
    sys.exit(main())
