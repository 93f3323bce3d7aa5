# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Camera rigs without our three views: what each fill rule costs the GRM (issue 33 item 3).

On the simulated robot, as `robodopamine demo` measures the GRM: one expert demonstration
(layout seed 0; as `demo`), a compact GRM adapted one-shot on it, 30 held-out rollouts (10
expert, 10 noisy, 5 random, 5 stopped halfway; seeds 1000 + 100 b + k; a success runs 10 steps
past the simulator's flag), scored every 5th frame. Each rig drops a slot and fills it by a rule
(data/view_slots.py): the demonstration AND the rollouts are recorded as that rig sees them, and
the GRM is adapted on the rig's own demonstration (a user's demo comes from the same rig).
Figures per rig: mean-fusion VOC on the expert rollouts that succeeded, completion accuracy
(the final-value rule and the success detector), against all three views.

Run: .work/venv-core/bin/python bench/bench_view_slots.py [--steps 300]
"""

import argparse
from pathlib import Path
import sys
import tempfile

from results import record
import torch

from robodopamine_ros.commands.demo import _rollout_table
from robodopamine_ros.data.view_slots import fill_episode, ViewSlots
from robodopamine_ros.grm.adapt_compact import reference_frames
from robodopamine_ros.grm.one_shot import adapt
from robodopamine_ros.reward.evaluation import evaluate_episode
from robodopamine_ros.sim.peg_insertion import PegInsertionSim
from robodopamine_ros.sim.rollouts import BEHAVIOURS, expert_demonstration, rollout

RIGS = {
    'all three views': ViewSlots(),
    'no third-person camera, front repeats the left wrist': ViewSlots(
        {'left_wrist': 'left_wrist', 'right_wrist': 'right_wrist'}, 'repeat:left_wrist'),
    'no third-person camera, front blank': ViewSlots(
        {'left_wrist': 'left_wrist', 'right_wrist': 'right_wrist'}, 'blank'),
    'front + one wrist, right wrist repeats the left': ViewSlots(
        {'front': 'front', 'left_wrist': 'left_wrist'}, 'repeat:left_wrist'),
    'front + one wrist, right wrist blank': ViewSlots(
        {'front': 'front', 'left_wrist': 'left_wrist'}, 'blank'),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument('--steps', type=int, default=300, help='adaptation steps (300)')
    parser.add_argument('--every', type=int, default=5)
    parser.add_argument('--rigs', nargs='*', default=list(RIGS))
    parser.add_argument('--rollouts', type=int, nargs=4, default=(10, 10, 5, 5),
                        help='held-out rollouts per behaviour (expert, noisy, random, halfway)')
    args = parser.parse_args()
    rigs = ['all three views'] + [name for name in args.rigs if name != 'all three views']
    torch.set_num_threads(1)
    sim = PegInsertionSim(image_size=(64, 48))
    try:
        demo, _ = expert_demonstration(sim, 0)
        rollouts = [rollout(sim, 1000 + 100 * b + k, behaviour, settle_steps=SETTLE_STEPS)
                    for b, (behaviour, n) in enumerate(zip(BEHAVIOURS, args.rollouts))
                    for k in range(n)]
    finally:
        sim.close()
    base = None
    for name in rigs:
        slots = RIGS[name]
        rig_demo = fill_episode(demo, slots)
        with tempfile.TemporaryDirectory() as folder:
            model, _ = adapt(None, Path(folder) / 'grm', steps=args.steps, episode=rig_demo,
                             log=lambda text: None)
        start, end = reference_frames(rig_demo)
        references = (rig_demo.views['front'][start], rig_demo.views['front'][end])
        rows = []
        for episode, label in rollouts:
            seen = fill_episode(episode, slots)
            metrics, curves = evaluate_episode(model, seen, every=args.every,
                                               references=references)
            rows.append((seen, label, metrics, curves))
        table = _rollout_table(rows, args.every)
        figures = {'voc_unseen_success_mean': table['voc_unseen_success_mean'],
                   'completion_accuracy': table['completion_accuracy'],
                   'completion_accuracy_detector': table['completion_accuracy_detector']}
        base = base or figures
        for key, value in figures.items():
            note = f'all three views {base[key]:.3f}; {table["unseen_expert_successes"]} ' \
                'expert rollouts succeeded' if figures is not base else \
                f'{table["unseen_expert_successes"]} expert rollouts succeeded'
            record('view slots', f'{name}: {key} ({len(rollouts)} held-out rollouts, GRM adapted '
                   "on the rig's own demo)", round(float(value), 4), '', note)
        print(name, {k: round(float(v), 3) for k, v in figures.items()}, flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
