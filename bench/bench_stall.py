# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
"The robot is stuck": how often the stall rule fires on successful vs failed episodes (issue 33).

The rule (reward/stall.py, grm_node's ``ProgressStamped.stalled``, the scripted operator's
takeover trigger): progress rose by less than ``--min-gain`` over the last ``--window`` s.

1. Rollouts on held-out layouts (seeds 5000, 5001, ...), scored tick by tick by a GRM adapted on
   one demonstration (``--grm-dir``: bench_rl.py's ``compact_grm``), the rule applied on the
   10 Hz control clock as grm_node applies it on camera stamps: the scripted expert (succeeds),
   the expert with noise, the expert that stops halfway holding the peg, random actions. The
   simulator labels each success / partial / fail (sim/rollouts.py). Figures: the share of
   episodes in which the rule fires, per label, and the median time of its first firing.
2. The learning policy's own training episodes (``--runs``: bench_rl.py run folders of the
   product setting with the scripted operator): the operator takes over exactly when the rule
   fires, so an episode with a takeover is one where it fired; per the simulator's success.
   A takeover changes the rest of the episode: only the first firing is the policy's own.

Run: .work/venv-core/bin/python bench/bench_stall.py --grm-dir .work/bench_rl/compact_grm \
       --runs .work/bench_rl/product__1_demo__dopamine_rl__cal_ql___operator
"""

import argparse
import csv
from pathlib import Path
import sys

import numpy as np
from results import record
import torch

from robodopamine_ros.grm.base import progress_curve, run_episode
from robodopamine_ros.grm.loading import load_grm, stored_task
from robodopamine_ros.reward.stall import STALL_MIN_GAIN, STALL_WINDOW_S, StallConfig, \
    StallDetector
from robodopamine_ros.sim.peg_insertion import PegInsertionSim
from robodopamine_ros.sim.rollouts import BEHAVIOURS, CONTROL_PERIOD_NS, rollout

LAYOUTS = 5000   # the first held-out layout seed (bench_rl.py trains and evaluates below)


def first_stall(model, references, episode, config):
    """Return the time (s) the rule first fires on an episode's GRM progress, or None."""
    ticks = run_episode(model, episode, range(episode.num_frames), stored_task(model),
                        references)
    stall = StallDetector(config)
    for k, progress in enumerate(progress_curve(ticks)):   # the start views: progress 0
        t = k * CONTROL_PERIOD_NS / 1e9
        if stall.update(t, progress):
            return t
    return None


def rollout_figures(args, config):
    model, references = load_grm(args.grm_dir)
    sim = PegInsertionSim(image_size=tuple(model.config['image_size']))
    fired = {}   # label -> [first firing time or None]
    try:
        for behaviour in BEHAVIOURS:
            for i in range(args.episodes):
                episode, label = rollout(sim, LAYOUTS + i, behaviour)
                fired.setdefault(label, []).append(first_stall(model, references, episode,
                                                               config))
                fired.setdefault(f'{behaviour}, {label}', []).append(fired[label][-1])
    finally:
        sim.close()
    for key in ('success', 'partial', 'fail'):
        times = fired.get(key, [])
        if not times:
            continue
        hits = [t for t in times if t is not None]
        by_behaviour = '; '.join(
            f'{name.split(",")[0]} {sum(t is not None for t in v)}/{len(v)}'
            for name, v in sorted(fired.items()) if name.endswith(f', {key}'))
        record('stall', f'held-out rollouts, GRM progress: share of {key} episodes in which '
               f'the rule fires (window {config.window:g} s, gain {config.min_gain:g})',
               round(len(hits) / len(times), 3), '',
               f'{len(hits)} of {len(times)}; first firing at median '
               f'{np.median(hits) if hits else float("nan"):.1f} s; by behaviour: '
               f'{by_behaviour}')


def run_figures(args):
    rows = []
    for folder in args.runs:
        for path in sorted(Path(folder).glob('seed*/episodes.csv')):
            with open(path, newline='') as f:
                rows += list(csv.DictReader(f))
    if not rows:
        print(f'no episodes.csv under {args.runs}: no training-episode figures', file=sys.stderr)
        return
    for outcome, flag in (('successful', 'True'), ('failed', 'False')):
        picked = [r for r in rows if r['sim_success'] == flag]
        fired = [r for r in picked if float(r['takeovers'] or 0) > 0]
        record('stall', f'the learning policy\'s training episodes (product, 1 demo, scripted '
               f'operator): share of {outcome} episodes in which the rule fired (a takeover)',
               round(len(fired) / max(1, len(picked)), 3), '',
               f'{len(fired)} of {len(picked)} over {len(rows)} episodes; '
               f'{np.mean([float(r["takeovers"] or 0) for r in picked]):.2f} takeovers per '
               'episode')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--grm-dir', default='.work/bench_rl/compact_grm')
    parser.add_argument('--episodes', type=int, default=20, help='rollouts per behaviour (20)')
    parser.add_argument('--window', type=float, default=STALL_WINDOW_S)
    parser.add_argument('--min-gain', type=float, default=STALL_MIN_GAIN)
    parser.add_argument('--runs', nargs='*', default=[
        '.work/bench_rl/product__1_demo__dopamine_rl__cal_ql___operator'])
    args = parser.parse_args()
    torch.set_num_threads(1)
    rollout_figures(args, StallConfig(args.window, args.min_gain))
    run_figures(args)
    return 0


if __name__ == '__main__':
    sys.exit(main())
