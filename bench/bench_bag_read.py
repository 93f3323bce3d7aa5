# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Reading a three-camera 640 x 480 bag into synchronized triplets, against bare rosbags reads.

The bag holds the first 300 frames of the shared real demo (about 10 s at 30 Hz), written by
our writer as raw sensor_msgs/Image (sqlite3) and as jpeg CompressedImage (mcap). Figures:
- ours: bags.read_episode (deserialize, sort, synchronize, decode, stack);
- bare read: rosbags Reader iterating the raw messages (I/O only);
- bare decode: rosbags Reader + deserialize + image decode into owned arrays (rgb8: one
  numpy copy; jpeg: cv2.imdecode), the least any script must do.
The ratio ours / bare decode is the overhead we add (target: within 2x).

Run: .work/venv-core/bin/python bench/bench_bag_read.py
"""

from pathlib import Path
import shutil
import sys
import tempfile
import time

import numpy as np
from results import record

from robodopamine_ros.data import bag_writer, bags, images
from robodopamine_ros.data.interfaces import typestore
from robodopamine_ros.data.reference_layout import iter_frames
from robodopamine_ros.data.topics import VIEWS

DEMO = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'robo_dopamine_example' / \
    'episode_001'
FRAMES = 300


def make_bag(path, storage, image_format):
    with bag_writer.EpisodeBagWriter(path, storage=storage, image_format=image_format) as writer:
        for index, views in iter_frames(DEMO, stop=FRAMES):
            writer.write_triplet(1_700_000_000 * 10**9 + index * 33_333_333, views)


def bag_bytes(path):
    return sum(p.stat().st_size for p in path.iterdir())


def bare_read(path):
    from rosbags.rosbag2 import Reader
    count = 0
    with Reader(path) as reader:
        for _ in reader.messages():
            count += 1
    return count


def bare_decode(path):
    from rosbags.rosbag2 import Reader
    store = typestore()
    count = 0
    with Reader(path) as reader:
        for connection, _, raw in reader.messages():
            msg = store.deserialize_cdr(raw, connection.msgtype)
            if connection.msgtype == bags.IMAGE:
                # the least a script does for rgb8: one copy into an owned H x W x 3 array
                rows = np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.step)
                np.array(rows[:, :msg.width * 3].reshape(msg.height, msg.width, 3))
            else:
                images.decode_compressed(msg)
            count += 1
    return count


def best_of(fn, path, repeats=5):
    best = float('inf')
    for _ in range(repeats):
        start = time.perf_counter()
        fn(path)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    if not DEMO.is_dir():
        print(f'{DEMO} not found: this benchmark reads the shared real demo', file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix='bench_bag_'))
    try:
        for storage, image_format in (('sqlite3', 'raw'), ('mcap', 'jpeg')):
            path = workdir / f'{storage}_{image_format}'
            make_bag(path, storage, image_format)
            megabytes = bag_bytes(path) / 1e6
            ours = best_of(lambda p: bags.read_episode(p, bags.ReadOptions(slop=0.01)), path)
            episode = bags.read_episode(path, bags.ReadOptions(slop=0.01))
            assert episode.num_frames == FRAMES and episode.image_size == (640, 480)
            read = best_of(bare_read, path)
            decode = best_of(bare_decode, path)
            label = f'{storage}/{image_format}, {FRAMES} triplets 640x480, {megabytes:.0f} MB'
            record('bag_read', f'ours: triplets/s ({label})', round(FRAMES / ours, 1),
                   'triplets/s', f'{megabytes / ours:.0f} MB/s')
            record('bag_read', f'bare rosbags read: triplets/s ({label})',
                   round(FRAMES / read, 1), 'triplets/s', f'{megabytes / read:.0f} MB/s')
            record('bag_read', f'bare read+deserialize+decode: triplets/s ({label})',
                   round(FRAMES / decode, 1), 'triplets/s', f'{megabytes / decode:.0f} MB/s')
            record('bag_read', f'overhead ours / bare decode ({storage}/{image_format})',
                   round(ours / decode, 2), 'x',
                   'target within 2x' + ('' if ours / decode <= 2 else ': MISSED'))
            record('bag_read', f'ours / bare read, I/O only ({storage}/{image_format})',
                   round(ours / read, 2), 'x', 'baseline reads bytes only: no deserialization, no decoding')
            shutil.rmtree(path)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
