# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The GRM refreshed on the policy's own labelled episodes (grm/refresh.py): a better judge?

Reads the runs of bench_rl.py's variant '... detector holds 1 s, GRM refreshed' (the product's
loop: cameras, one demonstration, the detector with the scripted operator; a refresh every 25
episodes) and measures, per seed:

1. Online, per GRM the run scored with (the initial one, then each swapped-in refresh: the
   training log names each episode's reward contract): the detector's precision and recall
   on the policy's own training episodes, against the simulator's flag (ground truth, for
   evaluating only), and each refresh's held-out check (grm_refreshes.csv).
2. Fresh policy rollouts: the run's final policy, with exploration noise as in training, on
   held-out layouts (seeds 7000, ...; each runs until the time limit or 20 steps past the
   simulator's success), scored at the run's GRM rate (every 2nd control step) by the initial
   GRM and by the run's final GRM: the detector's precision / recall (1 s hold: 5 ticks), with
   and without the familiarity gate (agreement >= GATE), final progress of failed rollouts,
   Kendall tau of final progress against the outcome, VOC over successful rollouts.
3. Unseen simulated rollouts (expert, noisy, random, halfway: 10, 10, 5, 5 on layouts 1000+,
   as ``robodopamine demo`` scores them): VOC over successful expert rollouts, completion
   accuracy (detector), Kendall tau and its ceiling, for the initial and the final GRM.

Run (after bench_rl.py --variants '... GRM refreshed' or '..., a success's last second'):
    .work/venv-core/bin/python bench/bench_grm_refresh.py --seeds 0 1
        [--variant last-second|strict]
"""

import argparse
import csv
from pathlib import Path

from bench_success_rule import score, scored_rollout
import numpy as np
from results import record

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / '.work' / 'bench_rl'
GRM_EVERY = 2
GATE = 0.5
# the label rule a run's refreshes trained with: (its bench_rl folder, its row names' prefix,
# what its rows say). The first runs (2026-12-07) used commit e45cec5's rule, a labelled
# success's last frame only at 1 (TargetRules.success_tail_s = 0); the default since is its
# last second (bench_rl's variant '..., a success's last second')
VARIANTS = {
    'last-frame': ('product__1_demo__dopamine_rl__cal_ql___operator__detector_holds_1_s__'
                   'grm_refreshed', '', "the run's rule: a success's last frame only at 1"),
    'last-second': ('product__1_demo__dopamine_rl__cal_ql___operator__detector_holds_1_s__'
                    'grm_refreshed__a_success_s_last_second', 'last-second rule, ',
                    "the run's rule: a success's last second at 1, ties accepted"),
    'strict': ('product__1_demo__dopamine_rl__cal_ql___operator__detector_holds_1_s__'
               'grm_refreshed__strict_check', 'strict check, ',
               "the run's rule: a success's last second at 1, a candidate better held out and "
               'no worse on its last 24 training episodes (the default)'),
}


def online_figures(run):
    """Per reward contract in order of use: (episodes, precision, recall, training success)."""
    from robodopamine_ros.rl.outcomes import detector_scores
    from robodopamine_ros.rl.logs import training_rows

    rows = training_rows(run / 'episodes.csv')
    order = list(dict.fromkeys(r['reward_contract'] for r in rows))
    out = []
    for k, digest in enumerate(order):
        mine = [r for r in rows if r['reward_contract'] == digest]
        d = detector_scores(mine)
        out.append((k, int(mine[0]['episode']), len(mine), d['precision'], d['recall'],
                    np.mean([r['success'] for r in mine]), np.mean([r['sim_success']
                                                                    for r in mine])))
    return out


def policy_rollouts(run, grms, episodes):
    """Roll out the run's final policy; every GRM scores each episode: {name: [episodes]}."""
    from robodopamine_ros.rl.acting import Learner, PolicyActor
    from robodopamine_ros.rl.sim_episodes import GRMProgress, make_sim, sim_safety
    from robodopamine_ros.rl.sim_training import config_shapes, TrainConfig

    config = TrainConfig(reward='sparse', observation='cameras', image_encoder='grm',
                         grm_dir=str(RUNS / 'compact_grm'))
    features = config.policy_features()
    shapes = config_shapes(config, features)
    learner, _ = Learner.resume(run, shapes)
    actor = PolicyActor(learner.config, shapes, sim_safety(), seed=0)
    actor.load(learner.actor_state())
    del learner
    scorers = {name: GRMProgress(folder, every=GRM_EVERY) for name, folder in grms.items()}
    out = {name: [] for name in grms}
    sim = make_sim(config)
    try:
        for k in range(episodes):
            scored = scored_rollout(sim, 7000 + k, actor, shapes, features, scorers,
                                    config.max_steps, every=GRM_EVERY)
            for name, episode in scored.items():
                out[name].append(episode)
    finally:
        sim.close()
    return out


def rollout_figures(episodes):
    """Detector with and without the gate, final progress of failures, tau, VOC of successes."""
    from robodopamine_ros.reward.metrics import outcome_ranking, voc
    from robodopamine_ros.rl.sim_episodes import sim_hold_ticks

    hold = sim_hold_ticks(GRM_EVERY)
    plain = score(episodes, (0.05, hold, 0.0))
    gated = score(episodes, (0.05, hold, GATE))
    labels = ['success' if e['flag'].any() else 'fail' for e in episodes]
    finals = [float(e['progress'][-1]) for e in episodes]
    failed = [f for f, label in zip(finals, labels) if label == 'fail']
    ranking = outcome_ranking(finals, labels)
    vocs = [voc(e['progress']) for e, label in zip(episodes, labels) if label == 'success']
    return {'plain': plain, 'gated': gated, 'failed_final': failed,
            'tau': ranking['kendall_tau'], 'tau_max': ranking['kendall_tau_max'],
            'voc_success': float(np.mean(vocs)) if vocs else float('nan'),
            'successes': labels.count('success'), 'episodes': len(labels)}


def unseen_rollouts(grms, counts=(10, 10, 5, 5)):
    """Score the unseen simulated rollouts as `robodopamine demo` does: {name: table}."""
    from robodopamine_ros.commands.demo import _rollout_table
    from robodopamine_ros.grm.loading import load_grm
    from robodopamine_ros.reward.evaluation import evaluate_episode
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim
    from robodopamine_ros.sim.rollouts import BEHAVIOURS, rollout, SETTLE_STEPS

    sim = PegInsertionSim(image_size=(64, 48), max_steps=200)
    try:
        rollouts = [rollout(sim, 1000 + 100 * b + k, behaviour, settle_steps=SETTLE_STEPS)
                    for b, (behaviour, n) in enumerate(zip(BEHAVIOURS, counts))
                    for k in range(n)]
    finally:
        sim.close()
    out = {}
    for name, folder in grms.items():
        model, references = load_grm(str(folder))
        rows = []
        for episode, label in rollouts:
            metrics, curves = evaluate_episode(model, episode, every=GRM_EVERY,
                                               references=references)
            rows.append((episode, label, metrics, curves))
        out[name] = _rollout_table(rows, GRM_EVERY)
    return out


def pr(figures):
    """Return ('precision / recall', 'counts') of a bench_success_rule.score tuple."""
    precision, recall, true, false, positives = figures
    return f'{precision:.2f} / {recall:.2f}', f'{true} true, {false} false of {positives}'


def main():
    """Measure the runs of the given seeds."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--seeds', type=int, nargs='*', default=[0, 1])
    parser.add_argument('--episodes', type=int, default=40,
                        help='fresh policy rollouts per seed')
    parser.add_argument('--variant', choices=sorted(VARIANTS), default='last-frame',
                        help="the runs' label rule (which bench_rl variant)")
    args = parser.parse_args()
    folder, prefix, rules_of_run = VARIANTS[args.variant]

    def record_row(name, *rest):   # one row name per variant and seed
        record('grm refresh', prefix + name, *rest)

    import torch
    torch.set_num_threads(1)
    for seed in args.seeds:
        run = RUNS / folder / f'seed{seed}'
        for k, first, n, precision, recall, success, truth in online_figures(run):
            name = 'the initial GRM' if k == 0 else f'refresh {k}'
            record_row(f'seed {seed}: detector precision / recall on the training '
                       f'episodes scored by {name}', f'{precision:.2f} / {recall:.2f}', '',
                       f'episodes {first}-{first + n - 1}; training success {success:.2f}, '
                       f'by the simulator {truth:.2f}')
        with open(run / 'grm_refreshes.csv', newline='') as f:
            refreshes = list(csv.DictReader(f))
        accepted = [r for r in refreshes if r['accepted'] == 'True']
        record_row(f'seed {seed}: refreshes swapped in / tried', f'{len(accepted)} / '
                   f'{len(refreshes)}', '', f'{rules_of_run}; held-out balanced accuracy, '
                   'current -> candidate: ' + '; '.join(
                       f"ep {r['episode']}: {float(r['old_balanced_accuracy'] or 'nan'):.2f} "
                       f"-> {float(r['new_balanced_accuracy'] or 'nan'):.2f}"
                       for r in refreshes))
        grms = {'initial': RUNS / 'compact_grm', 'refreshed': run / 'grm'}
        rollouts = policy_rollouts(run, grms, args.episodes)
        for name, episodes in rollouts.items():
            f = rollout_figures(episodes)
            what = f'seed {seed}, {name} GRM, fresh rollouts of the final policy'
            value, note = pr(f['plain'])
            record_row(f'{what}: detector precision / recall', value, '',
                       f'{note}; {f["episodes"]} episodes')
            value, note = pr(f['gated'])
            record_row(f'{what}: detector precision / recall, agreement >= {GATE}',
                       value, '', note)
            failed = f['failed_final']
            record_row(f'{what}: final progress of failed rollouts (mean / max)',
                       f'{np.mean(failed):.3f} / {np.max(failed):.3f}' if failed else 'none', '',
                       f'{len(failed)} failed')
            record_row(f'{what}: Kendall tau of final progress (ceiling); VOC of '
                       'successes', f'{f["tau"]:.3f} ({f["tau_max"]:.3f}); {f["voc_success"]:.3f}',
                       '', f'{f["successes"]} successes')
        for name, table in unseen_rollouts(grms).items():
            record_row(f'seed {seed}, {name} GRM, unseen simulated rollouts: VOC '
                       'over successful experts; completion accuracy (detector); Kendall tau '
                       '(ceiling)', f'{table["voc_unseen_success_mean"]:.3f}; '
                       f'{table["completion_accuracy_detector"]:.2f}; {table["kendall_tau"]:.3f} '
                       f'({table["kendall_tau_max"]:.3f})', '',
                       f'{table["unseen_expert_successes"]} experts succeeded; 30 rollouts')


if __name__ == '__main__':
    main()
