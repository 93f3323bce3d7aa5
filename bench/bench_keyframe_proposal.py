# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Keyframe proposals on the README path's demonstration: which sub-tasks make a detector that works.

The README's path proposes the keyframes of its one demonstration (``robodopamine keyframes
propose``) and adapts its GRM on them. Every sub-task carries the same share of progress, read
linearly in time within it (docs/method.md#hop-labels), so where the boundaries fall decides
what the GRM reads at the hole's mouth, and whether the success detector (reward/success.py)
fires there.

1. The demonstration of a bench_ros_rl.py ``--setting product`` run (``RUN/demo1``, recorded
   through ``ros2 launch``), with keyframes from each proposal source
   (data/keyframe_proposal.py): ``gripper`` (the gripper events alone: the 'auto' rule until
   2026-12-07) and ``auto`` (the gripper events and the waypoints of the hand's path between
   them). A compact GRM is adapted on each (``robodopamine adapt``'s defaults), cached in
   ``OUTPUT/<source>``.
2. Expert rollouts on held-out layouts (seeds 7100, ...; a success runs on SETTLE_STEPS with
   the arm still): each GRM's progress where the expert's insert phase begins (the peg at the
   hole's mouth), and whether the detector (1 s: 10 ticks at 10 Hz) fired, and before the
   simulator's success or not.
3. The run's own camera policies (``RUN/seed0/snapshots/ep*``, the last ``--snapshots``), with
   exploration noise as in training, on held-out layouts (seeds 7000, ...): every GRM scores
   every control step of the same episodes (the policies keep the run's own GRM encoder), and
   the detector's precision and recall against the simulator's flag (ground truth, for
   evaluating only) are computed per GRM, as bench_success_rule.py does.

Run (after bench_ros_rl.py --setting product):
    .work/venv-core/bin/python bench/bench_keyframe_proposal.py --run .work/ros_rl_readme_hold10
"""

import argparse
from pathlib import Path

from bench_success_rule import score, scored_rollout
import numpy as np
from results import record
from robodopamine_ros.reward.success import DEFAULT_DELTA, DEFAULT_HOLD_TICKS, first_success, \
    SuccessConfig
import torch

SOURCES = ('gripper', 'auto')
IMAGE_SIZE = (64, 48)
RULE = (DEFAULT_DELTA, DEFAULT_HOLD_TICKS, 0.0)   # 1 s at the 10 Hz the rollouts are scored at


def adapted_grms(run, output, steps):
    """Adapt (or reuse) one GRM per proposal source on the run's demonstration."""
    from robodopamine_ros.data import demos
    from robodopamine_ros.data.keyframe_proposal import propose_keyframes
    from robodopamine_ros.grm.one_shot import adapt

    demo = demos.load_demo(run / 'demo1', image_size=IMAGE_SIZE)
    grms = {}
    for source in SOURCES:
        segments, used = propose_keyframes(demo, source=source)
        demo.keyframes = segments
        folder = output / source
        if not (folder / 'model.safetensors').is_file():
            adapt(None, folder, steps=steps, episode=demo, size=IMAGE_SIZE, log=lambda _: None)
        grms[source] = folder
        print(f'{source}: {used}, {len(segments)} segments '
              f'({", ".join(f"{s.start}..{s.end}" for s in segments)})', flush=True)
    return grms


def expert_figures(grms, episodes):
    """Per GRM: progress at the insert phase's start, detector firings on expert successes."""
    from robodopamine_ros.grm.loading import load_grm
    from robodopamine_ros.reward.evaluation import evaluate_episode
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim
    from robodopamine_ros.sim.rollouts import rollout, SETTLE_STEPS

    sim = PegInsertionSim(image_size=IMAGE_SIZE, max_steps=200)
    try:
        rollouts = [rollout(sim, 7100 + k, 'expert', settle_steps=SETTLE_STEPS)
                    for k in range(episodes)]
    finally:
        sim.close()
    successes = [e for e, label in rollouts if label == 'success']
    out = {}
    for source, folder in grms.items():
        model, references = load_grm(str(folder))
        mouth, fired, early = [], 0, 0
        for episode in successes:
            _, curves = evaluate_episode(model, episode, every=1, references=references)
            starts = {s.annotation: s.start for s in episode.keyframes}
            if 'insert' in starts:
                mouth.append(float(curves['fused'][starts['insert']]))
            t = first_success(curves['fused'], SuccessConfig(hold_ticks=DEFAULT_HOLD_TICKS))
            fired += t is not None
            early += t is not None and t < len(curves['fused']) - 1 - SETTLE_STEPS
        out[source] = (mouth, fired, early, len(successes))
    return out


def policy_rollouts(run, grms, snapshots, episodes):
    """Roll out the run's policies; score each episode by every GRM: {source: [episodes]}."""
    from robodopamine_ros.rl.acting import Learner, PolicyActor
    from robodopamine_ros.rl.sim_episodes import GRMProgress, make_sim, sim_safety
    from robodopamine_ros.rl.sim_training import config_shapes, TrainConfig

    config = TrainConfig(reward='sparse', observation='cameras', image_encoder='grm',
                         grm_dir=str(run / 'grm1'))
    features = config.policy_features()
    shapes = config_shapes(config, features)
    scorers = {source: GRMProgress(folder) for source, folder in grms.items()}
    out = {source: [] for source in grms}
    sim = make_sim(config)
    try:
        for snapshot in snapshots:
            learner, _ = Learner.resume(snapshot, shapes)
            actor = PolicyActor(learner.config, shapes, sim_safety(), seed=0)
            actor.load(learner.actor_state())
            del learner
            for k in range(episodes):
                scored = scored_rollout(sim, 7000 + k, actor, shapes, features, scorers,
                                        config.max_steps)
                for source, episode in scored.items():   # the gate is not measured here
                    n = len(episode['progress'])
                    out[source].append(dict(episode, forward=np.ones(n), backward=np.ones(n)))
            print(f'{snapshot.name}: {episodes} episodes', flush=True)
    finally:
        sim.close()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--run', required=True,
                        help='a bench_ros_rl.py --setting product output folder (its demo1, '
                             'grm1 and seed0/snapshots/ep*)')
    parser.add_argument('--snapshots', type=int, default=4, help='the last N, every other one')
    parser.add_argument('--episodes', type=int, default=10, help='per snapshot')
    parser.add_argument('--expert-episodes', type=int, default=8)
    parser.add_argument('--steps', type=int, default=300, help='adaptation steps (adapt)')
    parser.add_argument('--output', default='.work/keyframe_proposal')
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = Path(args.run)
    grms = adapted_grms(run, Path(args.output), args.steps)
    for source, (mouth, fired, early, n) in expert_figures(grms, args.expert_episodes).items():
        record('keyframe proposal', f"GRM on {source} keyframes: progress where the expert's "
               'insert phase begins (the peg at the hole\'s mouth), mean / max',
               f'{np.mean(mouth):.3f} / {np.max(mouth):.3f}', '',
               f'{n} successful expert rollouts on held-out layouts; the 1 s detector fired on '
               f'{fired} of them, {early} before the simulator\'s success')
    snapshots = sorted((run / 'seed0' / 'snapshots').glob('ep*'), key=lambda p: int(p.name[2:]))
    chosen = snapshots[::-2][:args.snapshots][::-1]
    scored = policy_rollouts(run, grms, chosen, args.episodes)
    for source, episodes in scored.items():
        precision, recall, true, false, positives = score(episodes, RULE)
        record('keyframe proposal', f'GRM on {source} keyframes: the 1 s detector\'s precision '
               '/ recall on the README path\'s policies', round(precision, 3), '',
               f'recall {recall:.3f}; {true} true and {false} false firings, {positives} of '
               f'{len(episodes)} episodes with a success; policies '
               f'{", ".join(p.name for p in chosen)} of {run.name}, exploration noise, every '
               'GRM scoring the same episodes')


if __name__ == '__main__':
    main()
