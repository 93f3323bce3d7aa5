# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The success detector on the learning policy's own episodes: which rule (issues 28 and 31).

The product's episodes end, and pay the success reward, when grm_node's detector fires
(reward/success.py: fused progress >= 1 - delta for ``hold`` ticks in a row). On the policy's
own training episodes it was wrong about a third of the time (bench_rl.py's product rows:
precision 0.64). This benchmark measures candidate rules on the policy's own episodes:

1. Rollouts: the camera policies a run through the README's path saved along its training
   (``--snapshots``: bench_ros_rl.py's ``seed0/snapshots/ep*`` folders, each with the GRM its
   run adapted on its one demonstration, ``--grm-dir``), with exploration noise as in training,
   on held-out layouts (seeds 7000, 7001, ...); every control step is scored by the GRM as
   grm_node scores it (three queries, fusion mean, 10 Hz). Each tick keeps the fused progress,
   the forward- and backward-anchored estimates and the simulator's success flag (ground
   truth, for evaluation only). An episode runs to max_steps, or 20 steps past the flag's
   first rise (a robot's episode runs on until the detector fires). Cached per snapshot as
   ``<output>/<run>_<snapshot>.npz``: the benchmark resumes.
2. Rules, applied offline to the same ticks: the rule until 2026-12-07 (delta 0.05, hold 3),
   smaller deltas (0.03, 0.02), longer holds (5, 10 ticks: 0.5, 1 s; the default now is 10)
   and a confidence gate: the consistency weight w = exp(-alpha d^2) of the forward- and
   backward-anchored estimates (reward/progress.py ``consistency_weight``, alpha 20) must be
   >= c on the held ticks too
   (a state the model does not know makes the two perspectives disagree). A firing is true
   when the flag is up at its tick; recall is the share of episodes whose flag rose in which
   the rule fired while it was up.
3. Honest selection: the rule is chosen on the even layouts (the best F1 of precision and
   recall, ties: the higher precision) and reported on the odd ones, beside the rule until
   2026-12-07 (hold 3) and the default now (reward/success.py).

Run (after bench_ros_rl.py --setting product):
    .work/venv-core/bin/python bench/bench_success_rule.py \
        --run .work/ros_rl_readme --run .work/ros_rl_product_rtf1 --episodes 10
"""

import argparse
import math
from pathlib import Path

import numpy as np
from results import record
from robodopamine_ros.reward.progress import consistency_weight, ProgressConfig
from robodopamine_ros.reward.success import DEFAULT_DELTA, DEFAULT_HOLD_TICKS
import torch

LAYOUTS = 7000          # held-out layout seeds (bench_rl.py trains below 2**31 at random)
SETTLE = 20             # steps recorded past the success flag's first rise


def scored_rollout(sim, seed, actor, shapes, features, scorers, max_steps, every=1):
    """
    Run one episode of a policy with exploration noise; every scorer scores it.

    scorers: {name: rl.sim_episodes.GRMProgress}; every: control steps per GRM tick. The episode
    runs to max_steps or SETTLE steps past the simulator's success. Returns {name: {'progress',
    'forward', 'backward', 'flag'}}, one value per tick; 'flag': whether the simulator's
    success had risen by that tick (ground truth, for evaluating only).
    """
    from robodopamine_ros.rl.observations import policy_observation

    obs, _ = sim.reset(seed=seed)
    for scorer in scorers.values():
        scorer.start(sim, obs)
    observation = policy_observation(obs, shapes, 'cameras', features)
    flags, first = [], None
    for t in range(max_steps):
        action, _, _ = actor.act(observation, sim.ee_pose()[:3], deterministic=False)
        obs, _, success, _, _ = sim.step(action)
        for scorer in scorers.values():
            scorer.step(sim, force=every == 1, obs=obs)
        observation = policy_observation(obs, shapes, 'cameras', features)
        first = t if success and first is None else first
        if (t + 1) % every == 0:
            flags.append(bool(success) if every == 1 else first is not None)
        if first is not None and t - first >= SETTLE:
            break
    out = {}
    for name, scorer in scorers.items():
        ticks = scorer.estimator.tracker.history[1:len(flags) + 1]
        out[name] = {'progress': np.array([e.progress for e in ticks]),
                     'forward': np.array([e.forward for e in ticks]),
                     'backward': np.array([e.backward for e in ticks]),
                     'flag': np.array(flags[:len(ticks)])}
    return out


def snapshot_rollouts(snapshot, grm_dir, episodes, cache):
    """Roll out one snapshot's policy; return (and cache) its per-episode tick arrays."""
    if cache.is_file():   # keyed by run folder name and snapshot; its own episode count
        with np.load(cache, allow_pickle=False) as data:
            return [{k: data[f'{k}_{i}'] for k in ('progress', 'forward', 'backward', 'flag')}
                    for i in range(int(data['episodes']))]
    from robodopamine_ros.rl.acting import Learner, PolicyActor
    from robodopamine_ros.rl.sim_episodes import GRMProgress, make_sim, sim_safety
    from robodopamine_ros.rl.sim_training import config_shapes, TrainConfig

    config = TrainConfig(reward='sparse', observation='cameras', image_encoder='grm',
                         grm_dir=str(grm_dir))
    features = config.policy_features()
    shapes = config_shapes(config, features)
    learner, _ = Learner.resume(snapshot, shapes)
    if learner is None:
        raise FileNotFoundError(f'{snapshot}: no checkpoint')
    actor = PolicyActor(learner.config, shapes, sim_safety(), seed=0)
    actor.load(learner.actor_state())
    del learner   # its buffers are not needed
    progress = GRMProgress(grm_dir)
    sim = make_sim(config)
    try:
        out = [scored_rollout(sim, LAYOUTS + k, actor, shapes, features, {'grm': progress},
                              config.max_steps)['grm'] for k in range(episodes)]
    finally:
        sim.close()
    cache.parent.mkdir(parents=True, exist_ok=True)
    arrays = {f'{k}_{i}': v for i, e in enumerate(out) for k, v in e.items()}
    tmp = cache.with_suffix('.tmp.npz')
    np.savez(tmp, episodes=len(out), **arrays)
    tmp.rename(cache)
    return out


def weights(forward, backward, config=ProgressConfig()):
    """Return the consistency weight per tick (0 where an anchored estimate is missing)."""
    return np.array([consistency_weight(f, b, config.alpha, config.eps)
                     if math.isfinite(f) and math.isfinite(b) else 0.0
                     for f, b in zip(forward, backward)])


def first_firing(episode, delta, hold, min_confidence):
    """Return the tick at which a rule first fires on an episode, or None."""
    ok = (episode['progress'] >= 1.0 - delta) & \
        (weights(episode['forward'], episode['backward']) >= min_confidence)
    run = 0
    for t, good in enumerate(ok):
        run = run + 1 if good else 0
        if run >= hold:
            return t
    return None


def score(episodes, rule):
    """Return (precision, recall, true firings, false firings, episodes with a success)."""
    true = false = 0
    positives = sum(bool(e['flag'].any()) for e in episodes)
    for episode in episodes:
        t = first_firing(episode, *rule)
        if t is not None:
            if episode['flag'][t]:
                true += 1
            else:
                false += 1
    precision = true / (true + false) if true + false else math.nan
    recall = true / positives if positives else math.nan
    return precision, recall, true, false, positives


def f1(precision, recall):
    """Return the harmonic mean of precision and recall (0 when either is 0 or undefined)."""
    if not (precision > 0 and recall > 0):
        return 0.0
    return 2 * precision * recall / (precision + recall)


RULES = [(delta, hold, c) for delta in (0.05, 0.03, 0.02) for hold in (3, 5, 10)
         for c in (0.0, 0.5, 0.8, 0.9)]
BEFORE = (0.05, 3, 0.0)   # the detector's rule until 2026-12-07
DEFAULT = (DEFAULT_DELTA, DEFAULT_HOLD_TICKS, 0.0)   # reward/success.py's now


def describe(rule):
    delta, hold, c = rule
    gate = f', confidence >= {c:g}' if c else ''
    return f'progress >= {1 - delta:.2f} for {hold} ticks{gate}'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--run', action='append', required=True,
                        help='a bench_ros_rl.py --setting product output folder (its grm1 '
                             'and seed0/snapshots/ep*)')
    parser.add_argument('--episodes', type=int, default=10,
                        help='per snapshot (a cached snapshot keeps its own count)')
    parser.add_argument('--output', default='.work/success_rule')
    args = parser.parse_args()
    torch.set_num_threads(1)
    episodes, by_snapshot = [], {}
    for run in map(Path, args.run):
        snapshots = sorted((run / 'seed0' / 'snapshots').glob('ep*'),
                           key=lambda p: int(p.name[2:]))
        for snapshot in snapshots:
            cache = Path(args.output) / f'{run.name}_{snapshot.name}.npz'
            rollouts = snapshot_rollouts(snapshot, run / 'grm1', args.episodes, cache)
            for i, e in enumerate(rollouts):
                e['layout'] = i
            by_snapshot[f'{run.name} {snapshot.name}'] = rollouts
            episodes += rollouts
            print(f'{run.name} {snapshot.name}: {len(rollouts)} episodes, '
                  f'{sum(e["flag"].any() for e in rollouts)} with a success', flush=True)
    select = [e for e in episodes if e['layout'] % 2 == 0]
    report = [e for e in episodes if e['layout'] % 2 == 1]
    table = {rule: score(select, rule) for rule in RULES}
    chosen = max(RULES, key=lambda r: (f1(*table[r][:2]), table[r][0]))
    name = f'{len(episodes)} episodes of {len(by_snapshot)} policies'
    for label, rule in (('the rule until 2026-12-07', BEFORE), ('the default rule', DEFAULT),
                        ('the rule chosen on even layouts', chosen)):
        precision, recall, true, false, positives = score(report, rule)
        record('success rule', f'{label} ({describe(rule)}), on the odd layouts: detector '
               'precision / recall on the policy\'s own episodes', round(precision, 3), '',
               f'recall {recall:.3f}; {true} true and {false} false firings, {positives} '
               f'episodes with a success; {name}; policies of the README path\'s runs, '
               'exploration noise as in training')
    for rule in RULES:   # every candidate on the selection half, for the record
        precision, recall, true, false, _ = table[rule]
        print(f'select half: {describe(rule)}: precision {precision:.3f} recall {recall:.3f} '
              f'({true} true, {false} false)')
    # per run: its GRM (the README path's adapted on keyframes from `keyframes propose`, the
    # ROS-free runs' on the expert's 4 phases) and its policies
    for run in map(Path, args.run):
        rollouts = [e for key, r in by_snapshot.items() if key.split()[0] == run.name
                    for e in r if e['layout'] % 2 == 1]
        for label, rule in (('the rule until 2026-12-07', BEFORE), ('the default rule', DEFAULT)):
            precision, recall, true, false, positives = score(rollouts, rule)
            record('success rule', f'{label} ({describe(rule)}), on the odd layouts of '
                   f'{run.name}: detector precision / recall', round(precision, 3), '',
                   f'recall {recall:.3f}; {true} true and {false} false firings, {positives} '
                   f'episodes with a success, {len(rollouts)} episodes')
    lines = []
    for key, rollouts in by_snapshot.items():
        precision, recall, true, false, positives = score(rollouts, DEFAULT)
        lines.append(f'{key} {true}/{true + false}')
    record('success rule', f'the default rule ({describe(DEFAULT)}) per snapshot: true / all '
           'firings (both halves)',
           ', '.join(lines[:40]), '', name)


if __name__ == '__main__':
    main()
