# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
VLM GRM latency: one fused tick (three queries in one batch, greedy, up to 16 new tokens).

Weights are random (timing only), built offline with build_random_vlm. On this CPU the 'tiny'
configuration is measured for the record; on a GPU machine run with --size 3b --device cuda
(Qwen2.5-VL-3B shapes, bf16) for the real-size figure.

Run: .work/venv-core/bin/python bench/bench_vlm_grm.py [--size tiny|3b] [--device cpu|cuda]
"""

import argparse
import sys
import tempfile
import time

import numpy as np
from results import record
import torch

from robodopamine_ros.grm.base import ProgressEstimator
from robodopamine_ros.grm.vlm import VLMGRM
from robodopamine_ros.grm.vlm_random import build_random_vlm


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--size', choices=('tiny', '3b'), default='tiny')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--ticks', type=int, default=20)
    args = parser.parse_args()
    if args.device == 'cpu':
        torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        build_random_vlm(f'{folder}/m', size=args.size)
        grm = VLMGRM.load(f'{folder}/m', device=args.device)
        frames = [tuple(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(3))
                  for _ in range(args.ticks + 3)]
        estimator = ProgressEstimator(grm, 'insert the peg', frames[0][0], frames[-1][0])
        estimator.start(frames[0])
        times, tokens = [], []
        for views in frames[1:args.ticks + 1]:
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            start = time.perf_counter()
            estimator.tick(views)
            if args.device.startswith('cuda'):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
            tokens.append(np.mean([len(t) for t in grm.last_texts]))
    times = np.array(times[2:]) * 1000
    device = torch.cuda.get_device_name() if args.device.startswith('cuda') else None
    record('vlm_grm', f'fused tick, {args.size} random Qwen2.5-VL, three 640x480 cameras, '
           f'{args.device}' + (', 1 thread' if args.device == 'cpu' else ''),
           round(float(np.median(times)), 1), 'ms p50',
           f'p90 {np.percentile(times, 90):.1f} ms; random weights: answers run to the '
           '16-token cap', device=device)
    return 0


if __name__ == '__main__':
    sys.exit(main())
