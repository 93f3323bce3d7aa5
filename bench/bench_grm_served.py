# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The ``openai`` GRM backend over loopback against the in-process VLM backend, same tiny model.

Both answer one GRM tick (three queries) with the tiny random Qwen2.5-VL the tests build
(grm/vlm_random.py; random weights, so the answers are not scores: this measures the path,
not the model). In-process: one batched ``generate`` (grm/vlm.py). Served: the tests'
OpenAI-compatible server of the same model (robodopamine_ros/test/grm/openai_server.py:
transformers behind http.server, one generation at a time, standing in for vLLM) and
grm/served.py's client, the three queries at once. Ticks: the demonstration's real frames
(../shared/data), resized to the GRM query size of a real camera (320 x 240, the method's
76,800-pixel cap) and to the simulated cameras' 128 x 96. Also the request size: the eight
PNG images of one query as sent.

Run:
    .work/venv-core/bin/python bench/bench_grm_served.py [--ticks 30]
"""

import argparse
import json
from pathlib import Path
import statistics
import sys
import tempfile
import time

import numpy as np
from results import record

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT.parent / 'shared' / 'data' / 'robo_dopamine_example' / 'episode_001'
sys.path.insert(0, str(ROOT / 'robodopamine_ros' / 'test' / 'grm'))


def tick_queries(size, ticks):
    """Return `ticks` lists of three GRMQuery of the demo's frames at `size` (w, h)."""
    from robodopamine_ros.data.reference_layout import iter_frames
    from robodopamine_ros.grm.base import GRMQuery

    frames = [tuple(views.values()) for _, views in
              iter_frames(DEMO, size=size, stop=ticks + 2)]
    start, end = frames[0][0], frames[-1][0]
    return [[GRMQuery('insert the peg', start, end, before, frames[k + 1])
             for before in (frames[k], frames[0], (end, end, end))] for k in range(ticks)]


def percentiles(seconds):
    ms = sorted(1000 * s for s in seconds)
    return statistics.median(ms), ms[int(0.95 * (len(ms) - 1))]


def main():
    """Time both backends tick by tick, at two image sizes."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--ticks', type=int, default=30)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    from openai_server import GRMServer
    from robodopamine_ros.grm.served import png_data_url, ServedGRM
    from robodopamine_ros.grm.vlm import query_images, VLMGRM
    from robodopamine_ros.grm.vlm_random import build_random_vlm

    with tempfile.TemporaryDirectory() as tmp:
        local = VLMGRM.load(build_random_vlm(Path(tmp) / 'tiny-qwen2.5-vl'))
        server = GRMServer(local)
        remote = ServedGRM(server.url, server.model, timeout_s=60.0)
        try:
            for size in ((320, 240), (128, 96)):
                batches = tick_queries(size, args.ticks)
                times = {'in-process': [], 'served': []}
                for batch in [batches[0]] + batches:   # the first: warm-up, not counted
                    for name, grm in (('in-process', local), ('served', remote)):
                        began = time.perf_counter()
                        grm.hops(batch)
                        times[name].append(time.perf_counter() - began)
                request = len(json.dumps(remote.messages(batches[0][0])))
                png = sum(len(png_data_url(image)) for image in query_images(batches[0][:1]))
                figures = {name: percentiles(t[1:]) for name, t in times.items()}
                note = (f'{args.ticks} ticks of 3 queries, {size[0]}x{size[1]} real frames, '
                        'tiny random Qwen2.5-VL on 1 CPU thread; served: loopback HTTP, one '
                        'generation at a time')
                for name, (p50, p95) in figures.items():
                    record('grm served', f'{name} tick latency p50 / p95, {size[0]}x{size[1]}',
                           f'{p50:.0f} / {p95:.0f}', 'ms', note)
                record('grm served', f'one query request, {size[0]}x{size[1]}',
                       f'{request / 1024:.0f}', 'KiB', f'8 PNG images inline: {png / 1024:.0f} '
                       'KiB of it, base64')
            assert remote.failures == 0, remote.last_error
        finally:
            remote.close()
            server.close()


if __name__ == '__main__':
    main()
