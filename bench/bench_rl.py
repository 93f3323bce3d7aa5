# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Dopamine-RL on the simulated peg insertion: success vs online episodes, per variant and seed.

Setup (the same for every variant; defaults of rl.sim_training.TrainConfig unless set here):
ONE expert demonstration for the GRM (a compact GRM adapted on it, scoring the three 64x48
camera images every 2nd control step: a 5 Hz GRM on a 10 Hz arm, for the CPU budget), 10
successful expert demonstrations for the policy, 1000 imitation + 1000 offline updates, then
150 online episodes of at most 200 steps with one update per step (batch 256, 2 LayerNorm
critics). The policy observes the 39-d state. Success = deterministic-policy evaluation
success on fixed layouts (the same for every run and variant): 20 layouts every 10 episodes,
50 layouts at 50, 100 and 150. Training-episode success (with exploration) is reported beside.

Variants: Dopamine-RL (learned one-shot GRM) with Cal-QL and with ConRFT; sparse reward; naive
progress as reward (the semantic trap); an oracle potential (the same shaping with progress
from the simulator's state: learner quality apart from GRM quality); Dopamine-RL with the
scripted operator taking over on stalls (human-in-the-loop). Options (named with --variants):
ConRFT without its departures from the paper, and either back-end without its online
stabilizers.

Resumable: every run resumes from its checkpoint (``robodopamine train`` does), finished runs
are skipped, so the benchmark can be stopped and started again; ``--report-only`` writes the
figures from what has finished. Runs go seed by seed so a complete comparison exists early.

Run: .work/venv-core/bin/python bench/bench_rl.py --seeds 3 --jobs 2
"""

import argparse
import json
import os
from pathlib import Path
import subprocess
import sys
import time

from results import record
from robodopamine_ros.rl.sim_training import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
ABLATION = TrainConfig.algorithm  # the ablations use the default back-end (the main job's)
VARIANTS = {
    'Dopamine-RL, Cal-QL': ['--algorithm', 'calql', '--reward', 'grm'],
    'Dopamine-RL, ConRFT': ['--algorithm', 'conrft', '--reward', 'grm'],
    'sparse reward': ['--algorithm', ABLATION, '--reward', 'sparse'],
    'naive progress reward': ['--algorithm', ABLATION, '--reward', 'progress'],
    'oracle potential': ['--algorithm', ABLATION, '--reward', 'oracle'],
    'Dopamine-RL + scripted operator': ['--algorithm', ABLATION, '--reward', 'grm',
                                        '--operator'],
    # ConRFT's two departures from the paper removed (not run by default): the online critic
    # without the Cal-QL term, and also the consistency loss without the sampling-level term
    'ConRFT, plain TD stage II': ['--algorithm', 'conrft', '--reward', 'grm', '--agent',
                                  'conrft_online_conservative=false'],
    'ConRFT, paper loss and stage II': ['--algorithm', 'conrft', '--reward', 'grm', '--agent',
                                        'conrft_online_conservative=false',
                                        'consistency_sampling_weight=0'],
    # the two online stabilizers of the default learner, each removed alone (not run by default)
    'Cal-QL without actor EMA': ['--algorithm', 'calql', '--reward', 'grm', '--agent',
                                 'actor_ema=0'],
    'Cal-QL without online actor delay': ['--algorithm', 'calql', '--reward', 'grm', '--agent',
                                          'online_actor_delay=0'],
    # ConRFT's acting actor without the average (its default before 2026-12-01)
    'ConRFT without actor EMA': ['--algorithm', 'conrft', '--reward', 'grm', '--agent',
                                 'actor_ema=0'],
}
DEFAULT_VARIANTS = list(VARIANTS)[:6]


def slug(name):
    return ''.join(c if c.isalnum() else '_' for c in name.lower()).strip('_')


def finished(folder, episodes):
    path = folder / 'summary.json'
    return path.is_file() and json.loads(path.read_text())['config']['episodes'] == episodes


def run_all(args, output, grm_dir):
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    robodopamine = Path(sys.executable).parent / 'robodopamine'
    queue = []
    for seed in range(args.seeds):
        for name in args.variants:
            folder = output / slug(name) / f'seed{seed}'
            if finished(folder, args.episodes):
                continue
            queue.append((name, seed, folder, [
                str(robodopamine), 'train', '-o', str(folder), *VARIANTS[name],
                '--grm-dir', str(grm_dir), '--grm-every', str(args.grm_every),
                '--episodes', str(args.episodes), '--seed', str(seed)]))
    running, started = [], time.perf_counter()
    while queue or running:
        while queue and len(running) < args.jobs:
            name, seed, folder, command = queue.pop(0)
            folder.mkdir(parents=True, exist_ok=True)
            log = open(folder / 'train.log', 'a')
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


def first_reaching(episodes, median, level):
    for episode, rate in zip(episodes, median):
        if rate >= level:
            return int(episode)
    return None


def report(args, output):
    import numpy as np
    from robodopamine_ros.rl.report import curve, write_report

    variants = {}
    for name in args.variants:
        summaries = [json.loads(p.read_text()) for seed in range(args.seeds)
                     if (p := output / slug(name) / f'seed{seed}' / 'summary.json').is_file()
                     and json.loads(p.read_text())['config']['episodes'] == args.episodes]
        if summaries:
            variants[name] = summaries
    if not variants:
        print('no finished run yet')
        return
    path = write_report(output, variants, 'Dopamine-RL on the simulated peg insertion')
    (ROOT / 'bench' / 'rl_success.png').write_bytes((output / 'success.png').read_bytes())
    print(path.read_text())
    for name, summaries in variants.items():
        episodes, rates = curve(summaries)
        median = np.median(rates, axis=0)
        finals = rates[:, -1]
        auc = float(np.trapezoid(rates.mean(axis=0), episodes) / max(episodes[-1], 1))
        training = [np.mean([ok for _, ok, _ in s['training_success'][-20:]])
                    for s in summaries]
        q = [s['final_diagnostics'].get('online/q', float('nan')) for s in summaries]
        mc = [s['final_diagnostics'].get('online/mc', float('nan')) for s in summaries]
        bc = [s['offline'].get('bc_success') for s in summaries]
        off = [s['offline'].get('offline_success') for s in summaries]
        note = (f'{len(summaries)} seeds x {args.episodes} online episodes; per seed '
                f'{", ".join(f"{f:.2f}" for f in finals)}; 50 layouts; bench/rl_success.png')
        record('rl sim', f'{name}: final deterministic success (median of seeds)',
               float(np.median(finals)), '', note)
        record('rl sim', f'{name}: episodes to 80% / 90% (median curve)',
               f'{first_reaching(episodes, median, 0.8)} / '
               f'{first_reaching(episodes, median, 0.9)}', 'episodes', note)
        record('rl sim', f'{name}: area under the success curve (mean of seeds)', auc, '',
               note)
        record('rl sim', f'{name}: training-episode success, last 20 episodes (mean)',
               float(np.mean(training)), '', 'with exploration noise')
        record('rl sim', f'{name}: Q on online data at the end vs its Monte-Carlo return',
               f'{np.mean(q):.3f} vs {np.mean(mc):.3f}', '', 'mean over seeds')
        record('rl sim', f'{name}: imitation / offline-stage success (before online)',
               ' / '.join(f'{np.mean([v for v in x if v is not None]):.2f}' for x in (bc, off)),
               '', '20 layouts, mean over seeds')
        record('rl sim', f'{name}: wall time per run', float(np.mean(
            [s['wall_time_s'] for s in summaries])), 's',
            f'{np.sum([s["env_steps"] for s in summaries]) / np.sum([s["wall_time_s"] for s in summaries]):.1f} env steps/s with learning')  # noqa: E501


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--episodes', type=int, default=150)
    parser.add_argument('--seeds', type=int, default=3)
    parser.add_argument('--jobs', type=int, default=2)
    parser.add_argument('--grm-every', type=int, default=2)
    parser.add_argument('--output', default=str(ROOT / '.work' / 'bench_rl'))
    parser.add_argument('--variants', nargs='*', default=DEFAULT_VARIANTS)
    parser.add_argument('--report-only', action='store_true')
    args = parser.parse_args()
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if not args.report_only:
        from robodopamine_ros.rl.sim_training import adapt_sim_grm
        grm_dir = adapt_sim_grm(output, seed=0, log=print)
        run_all(args, output, grm_dir)
    report(args, output)


if __name__ == '__main__':
    main()
