# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine pretrain``: pre-train the compact GRM on a multi-task corpus (grm/pretrain.py).

Writes a model folder (model.safetensors, config.json, history.json, MODEL_CARD.md with the
data, steps, metrics and this command) that `robodopamine adapt --init` starts from.
"""

import json
from pathlib import Path
import shlex
import sys


def add_arguments(parser):
    from robodopamine_ros.grm.pretrain import PretrainConfig

    d = PretrainConfig
    parser.add_argument('corpus', help='corpus folder written by `robodopamine corpus`')
    parser.add_argument('-o', '--output', required=True, help='model folder to write')
    parser.add_argument('--steps', type=int, default=d.steps)
    parser.add_argument('--pool', type=int, default=d.pool)
    parser.add_argument('--lr', type=float, default=d.lr)
    parser.add_argument('--holdout-tasks', type=int, default=d.holdout_tasks,
                        help='every n-th task is held out and evaluated (0: none)')
    parser.add_argument('--references', choices=('episode', 'task'), default=d.references,
                        help='reference views per step from a random expert episode of the '
                        'task (episode) or the stored ones of the task (task)')
    parser.add_argument('--eval-every', type=int, default=d.eval_every)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--seed', type=int, default=d.seed)


def run(args):
    import torch
    from tqdm import tqdm

    from robodopamine_ros.grm.pretrain import pretrain, PretrainConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    config = PretrainConfig(steps=args.steps, pool=args.pool, lr=args.lr,
                            holdout_tasks=args.holdout_tasks, eval_every=args.eval_every,
                            references=args.references, seed=args.seed)
    output = Path(args.output)
    bar = tqdm(total=config.steps, unit='step', desc='pretrain compact GRM', mininterval=2.0)

    def on_step(step, loss):
        bar.update(1)
        if step % 50 == 0:
            bar.set_postfix(loss=f'{loss:.4f}')

    def on_eval(step, metrics):
        shown = ', '.join(f'{k} {v:.3f}' for k, v in metrics.items() if k != 'step')
        bar.write(f'step {step}: {shown}')

    model, history = pretrain(args.corpus, config, on_step, on_eval)
    bar.close()
    command = 'robodopamine pretrain ' + ' '.join(shlex.quote(a) for a in sys.argv[2:]) \
        if len(sys.argv) > 1 and sys.argv[1] == 'pretrain' else 'robodopamine pretrain ...'
    final = history['eval'][-1] if history['eval'] else {}
    model.save(output, extra={'checkpoint_step': config.steps, 'pretraining': {
        'corpus': Path(args.corpus).name, 'steps': config.steps, 'seconds': history['seconds'],
        'references': config.references,
        'train_tasks': len(history['train_tasks']), 'held_out': history['held_out'],
        'final': final}})
    (output / 'history.json').write_text(json.dumps(history, indent=1) + '\n')
    rows = '\n'.join(f'| {k} | {v:.3f} |' for k, v in final.items() if k != 'step')
    (output / 'MODEL_CARD.md').write_text(
        '# Compact GRM, pre-trained on the simulated multi-task corpus\n\n'
        f'- Data: `{Path(args.corpus).name}`, {len(history["train_tasks"])} Meta-World tasks '
        'on the camera rig (expert, halfway and random episodes; the peg insertion and its '
        'reverse excluded); held out (never trained on): '
        f'{", ".join(history["held_out"]) or "none"}.\n'
        f'- Training: {config.steps} steps, pool {config.pool}, lr {config.lr}, references '
        f'per step: {config.references} (`PretrainConfig.references`), '
        f'{history["seconds"]} s on one CPU thread.\n'
        f'- Command: `{command}`\n'
        '- Use: `robodopamine adapt DEMO -o MODEL --init pretrained` starts one-shot adaptation '
        "from it; the default `--init auto` does when it knows the demo's images; "
        '`--init scratch` does not.\n\n'
        f'| metric at step {final.get("step", config.steps)} | value |\n|---|---|\n{rows}\n')
    print(f'wrote {output} ({history["seconds"]} s)')
    return 0
