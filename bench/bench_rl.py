# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Dopamine-RL on the simulated peg insertion: success vs online episodes, per reward and back-end.

Setup (the same for every variant): ONE expert demonstration for the GRM (compact GRM adapted
on it, scoring the three 64x48 camera images every 4th control step), 10 expert
demonstrations for the policy (demo buffer), 1000 offline updates, then online episodes of at
most 150 steps, one update per step, batch 128. The policy observes the 39-d low-dimensional
state. Success = deterministic-policy evaluation success on 20 fixed layouts (the same for
every run), every 10 episodes. Variants: Dopamine-RL (GRM shaping) with Cal-QL and with
ConRFT; ConRFT with sparse reward, with naive progress reward, with the simulator's dense
reward. CPU budget choices (not tuned for the method): batch 128 instead of 256, the Cal-QL
term on 16 of the batch's states (10 actions per source kept).

Run: .work/venv-core/bin/python bench/bench_rl.py --episodes 150 --seeds 3 --jobs 2
(the figures in RESULTS.md: --episodes 60 --eval-episodes 10, for the CPU budget)
"""

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time

from results import record

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    'Dopamine-RL, Cal-QL': ('calql', 'grm'),
    'Dopamine-RL, ConRFT': ('conrft', 'grm'),
    'ConRFT, sparse reward': ('conrft', 'sparse'),
    'ConRFT, naive progress reward': ('conrft', 'progress'),
    'ConRFT, simulator dense reward': ('conrft', 'dense'),
}


def slug(name):
    return ''.join(c if c.isalnum() else '_' for c in name.lower()).strip('_')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--episodes', type=int, default=150)
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--eval-episodes', type=int, default=20)
    parser.add_argument('--output', default=str(ROOT / '.work' / 'bench_rl'))
    parser.add_argument('--variants', nargs='*', default=list(VARIANTS))
    args = parser.parse_args()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    robodopamine = Path(sys.executable).parent / 'robodopamine'

    from robodopamine_ros.rl.sim_training import adapt_sim_grm
    grm_dir = adapt_sim_grm(output, seed=0, log=print)

    queue = []  # seed by seed, so that a complete comparison exists early
    for seed in range(args.seeds):
        for name in args.variants:
            algorithm, reward = VARIANTS[name]
            folder = output / slug(name) / f'seed{seed}'
            if (folder / 'summary.json').is_file() and json.loads(
                    (folder / 'summary.json').read_text())['config']['episodes'] == \
                    args.episodes:
                continue
            queue.append((name, seed, [
                str(robodopamine), 'train', '-o', str(folder), '--algorithm', algorithm,
                '--reward', reward, '--grm-dir', str(grm_dir), '--episodes',
                str(args.episodes), '--seed', str(seed), '--eval-episodes',
                str(args.eval_episodes)]))
    running, started = [], time.perf_counter()
    while queue or running:
        while queue and len(running) < args.jobs:
            name, seed, command = queue.pop(0)
            folder = Path(command[3])
            folder.mkdir(parents=True, exist_ok=True)
            log = open(folder / 'train.log', 'w')
            running.append((name, seed, subprocess.Popen(command, env=env, stdout=log,
                                                         stderr=subprocess.STDOUT), log))
            print(f'started {name} seed {seed}', flush=True)
        for item in list(running):
            name, seed, proc, log = item
            if proc.poll() is not None:
                log.close()
                running.remove(item)
                print(f'finished {name} seed {seed}: exit {proc.returncode} '
                      f'({time.perf_counter() - started:.0f} s since start)', flush=True)
        time.sleep(2.0)

    from robodopamine_ros.rl.report import variant_stats, write_report
    variants = {}
    for name in args.variants:
        summaries = []
        for seed in range(args.seeds):
            path = output / slug(name) / f'seed{seed}' / 'summary.json'
            if path.is_file():
                summaries.append(json.loads(path.read_text()))
        if summaries:
            variants[name] = summaries
    report = write_report(output, variants, 'Dopamine-RL on the simulated peg insertion')
    (ROOT / 'bench' / 'rl_success.png').write_bytes((output / 'success.png').read_bytes())
    print(report.read_text())
    note = f'{args.episodes} online episodes, seeds: {args.seeds}; see bench/rl_success.png'
    for name, summaries in variants.items():
        s = variant_stats(summaries)
        record('rl sim', f'{name}: final eval success (mean over seeds)', s['final_mean'],
               '', f'{note}; std {s["final_std"]:.2f}, last 3 evals {s["last3_mean"]:.2f}')
        record('rl sim', f'{name}: episodes to 80% of final', s['episodes_to_80pct_of_final'],
               'episodes', note)
        record('rl sim', f'{name}: wall time per run', s['wall_time_s'], 's',
               f'{note}; {s["steps_per_s"]:.1f} env steps/s with learning')


if __name__ == '__main__':
    main()
