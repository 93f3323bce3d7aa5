# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What pre-training buys the compact GRM: zero-shot, one-shot from the pre-trained model, and
one-shot from scratch, on the main job's 30 held-out rollouts (layouts never seen; 10 expert,
10 noisy expert, 5 random, 5 stopped halfway, labelled by the simulator).

Each demo seed is a different one-shot demonstration (layout). Settings were chosen on seed 0
(adaptation) and on seeds 1-3 with another set of rollout layouts (the pre-training of
2026-12-01), so the default seeds are 4, 5 and 6. Per init and seed the GRM stage of
`robodopamine demo` runs (`--rl-episodes 0`; a success runs 10 steps past the simulator's flag
with the arm still, for the success detector); the figures are the mean over seeds of:
mean-fusion VOC on the unseen expert rollouts (all ten, and those that succeeded: VOC assumes
progress rises with time, and the scripted expert fails on some layouts), completion accuracy
(paper's rule and the success detector), Kendall tau-b of final progress against the outcomes
with its ceiling for the label mix (tau_max: the outcomes tie among themselves) and the share
of differently-labelled pairs in order, the success-vs-fail gap, and the mean final progress
of failed rollouts. Issue targets: VOC >= 0.95, completion >= 95 %, tau >= 0.8, failed
rollouts' final progress <= 0.3.

Run: .work/venv-core/bin/python bench/bench_grm_pretraining.py [--seeds 4 5 6]
     [--inits pretrained scratch DIR...]  (DIR: a pre-trained model folder to compare)
The product's default `--init auto` keeps the pre-trained start on these simulated demos (it
knows their images: grm/pretrain.py, choose_start), so its figures are the `pretrained` rows;
`--inits auto` measures it as such.
"""

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys

from results import record

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {'voc_unseen_expert_mean': ('>=', 0.95), 'voc_unseen_success_mean': ('>=', 0.95),
           'completion_accuracy': ('>=', 0.95),
           'completion_accuracy_detector': ('>=', 0.95), 'kendall_tau': ('>=', 0.8),
           'fail_final_progress': ('<=', 0.3)}


def run_demo(output, seed, init):
    """Run the demo's GRM stage once (resumable: a finished run is read back)."""
    summary = output / 'summary.json'
    if not summary.is_file():
        robodopamine = Path(sys.executable).parent / 'robodopamine'
        env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
        subprocess.run([str(robodopamine), 'demo', '-o', str(output), '--seed', str(seed),
                        '--init', init, '--rl-episodes', '0'], check=True, env=env)
    return json.loads(summary.read_text())


def figures(row):
    out = {k: row[k] for k in ('voc_unseen_expert_mean', 'voc_unseen_success_mean',
                               'completion_accuracy', 'completion_accuracy_detector',
                               'kendall_tau', 'kendall_tau_max', 'pairs_ordered',
                               'success_fail_gap')}
    out['fail_final_progress'] = row['final_progress'].get('fail', {}).get('mean', float('nan'))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--seeds', type=int, nargs='*', default=[4, 5, 6])
    parser.add_argument('--inits', nargs='*', default=['pretrained', 'scratch'],
                        help='auto, pretrained, scratch or model folders (named by their '
                             'folder)')
    parser.add_argument('--output', default=str(ROOT / '.work' / 'bench_grm_pretraining'))
    args = parser.parse_args()
    output = Path(args.output)
    rows = {}
    for seed in args.seeds:
        for init in args.inits:
            name = init if init in ('pretrained', 'scratch') else Path(init).name
            summary = run_demo(output / f'{name}_seed{seed}', seed, init)
            rows.setdefault(f'one-shot from {name}', []).append(
                figures(summary['grm']['compact GRM']))
            if init != 'scratch':
                label = 'pre-trained only' if name == 'pretrained' else name
                rows.setdefault(f'zero-shot ({label})', []).append(
                    figures(summary['grm']['pre-trained GRM, zero-shot']))
    for name, per_seed in rows.items():
        for key in per_seed[0]:
            values = [r[key] for r in per_seed]
            mean = sum(values) / len(values)
            note = f'demo seeds {args.seeds}: ' + ', '.join(f'{v:.2f}' for v in values)
            if key in TARGETS:
                op, bound = TARGETS[key]
                met = mean >= bound if op == '>=' else mean <= bound
                note += f'; target {op} {bound}' + ('' if met else ': MISSED')
            record('grm pretraining', f'{name}: {key} (mean of seeds)', round(mean, 3), '',
                   note)


if __name__ == '__main__':
    main()
