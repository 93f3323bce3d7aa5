# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The README's main job on the simulated robot, with its default settings: wall time, and the
one-shot compact GRM's quality on the 30 held-out rollouts (layouts it never saw).

Run: .work/venv-core/bin/python bench/bench_demo.py
"""

import json
import os
from pathlib import Path
import sys
import tempfile
import time

os.environ.setdefault('MUJOCO_GL', 'egl')
os.environ.setdefault('OMP_NUM_THREADS', '2')

from results import record  # noqa: E402

from robodopamine_ros.commands import cli  # noqa: E402


def main():
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        assert cli.main(['demo', '-o', folder]) == 0
        wall = time.perf_counter() - started
        summary = json.loads((Path(folder) / 'summary.json').read_text())
    record('demo', 'robodopamine demo (simulated robot, defaults), wall time', round(wall, 1),
           's', 'target under 15 minutes' + ('' if wall < 900 else ': MISSED'))
    rl = summary.get('rl')
    if rl:
        curve = ', '.join(f'{e}: {r:.0%}' for e, r, *_ in rl['eval'])
        final = rl['eval'][-1][1]
        record('demo', 'UPPER BOUND (state with object positions, simulator success, 10 demos): '
               'RL stage: deterministic success on 20 layouts at the end', final, '',
               f'curve {curve} (episode 0 = after imitation + offline stage); target >= 0.5'
               + ('' if final >= 0.5 else ': MISSED'))
    for name, row in summary['grm'].items():
        record('demo', f'{name}: fused VOC on 10 unseen expert rollouts (mean, min)',
               round(row['voc_unseen_expert_mean'], 3), '',
               f'min {row["voc_unseen_expert_min"]:.3f}; incremental-only '
               f'{row["voc_incremental_unseen_expert_mean"]:.3f}; target above 0.9'
               + ('' if row['voc_unseen_expert_mean'] > 0.9 else ': MISSED'))
        record('demo', f'{name}: fused VOC on the unseen expert rollouts that succeeded '
               '(mean, min)', round(row['voc_unseen_success_mean'], 3), '',
               f'{row["unseen_expert_successes"]} succeeded; min '
               f'{row["voc_unseen_success_min"]:.3f}; target above 0.9'
               + ('' if row['voc_unseen_success_mean'] > 0.9 else ': MISSED'))
        record('demo', f'{name}: completion accuracy over 30 held-out rollouts',
               round(row['completion_accuracy'], 3), '',
               'target above 0.928 (the paper\'s GRM-8B)'
               + ('' if row['completion_accuracy'] > 0.928 else ': MISSED'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
