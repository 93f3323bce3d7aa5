# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Peak memory of reading recorded demonstrations (rl_agent_node's demo_bags), issue 29 item 16.

A synthetic 640 x 480 three-camera bag (jpeg CompressedImage, 30 Hz, with joint_states at 100 Hz,
the hand pose and the operator's actions at 10 Hz) of 10 s and of 20 s. Each figure is the peak
resident memory (ru_maxrss) of a fresh process that imports the package and reads the bag:
- recorded size: bags.read_episode(path), every frame decoded at 640 x 480 (what demo_bags did);
- at 64 x 48: read_episode(path, image_size=(64, 48)) (a GRM's input size);
- demo_bags now: rl.demonstrations.load_demonstrations (no image decoded);
- baseline: the same process importing the package and doing nothing.

Run: .work/venv-core/bin/python bench/bench_demo_memory.py
"""

from pathlib import Path
import subprocess
import sys
import tempfile

import numpy as np
from results import record

from robodopamine_ros.data import bag_writer

NAMES = tuple(f'fr3_joint{i + 1}' for i in range(7))
T0 = 1_700_000_000 * 10**9
READERS = {
    'baseline': 'pass',
    'recorded size': 'bags.read_episode(path)',
    'at 64 x 48': 'bags.read_episode(path, image_size=(64, 48))',
    'demo_bags now': 'load_demonstrations([path], NAMES, ShapingConfig(gamma=0.98))',
}
CHILD = """
import resource, sys
from robodopamine_ros.data import bags
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.demonstrations import load_demonstrations
NAMES = tuple(f'fr3_joint{i + 1}' for i in range(7))
path = sys.argv[1]
READ
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def make_bag(path, seconds):
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (480, 640, 3), np.uint8)
    with bag_writer.EpisodeBagWriter(path, storage='mcap', image_format='jpeg') as writer:
        for k in range(int(seconds * 100)):
            stamp = T0 + k * 10_000_000
            if k % 3 == 0:   # 33 Hz
                frame = np.roll(base, k, axis=1)
                writer.write_triplet(stamp, {'front': frame, 'left_wrist': frame[::-1],
                                             'right_wrist': frame[:, ::-1]})
            writer.write_joint_state(stamp, NAMES, np.full(7, k * 1e-3))
            if k % 10 == 0:
                writer.write_ee_pose(stamp, [0.4, 0, 0.3 + k * 1e-4, 0, 0, 0, 1])
                writer.write_action(stamp, [0.1, 0, 0, 1], intervention=True)
    return path


def peak_mb(path, read):
    out = subprocess.run([sys.executable, '-c', CHILD.replace('READ', read), str(path)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main():
    with tempfile.TemporaryDirectory() as folder:
        for seconds in (10, 20):
            bag = make_bag(Path(folder) / f'demo_{seconds}s', seconds)
            for name, read in READERS.items():
                mb = peak_mb(bag, read)
                record('demo_memory', f'{seconds} s of 640 x 480 demonstration (3 cameras, '
                       f'30 Hz): peak memory, {name}', round(mb), 'MB', read)


if __name__ == '__main__':
    sys.exit(main())
