# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine evaluate --model MODEL_DIR EPISODE...``: how good is a reward model."""

import json
import math
from pathlib import Path
import statistics

from robodopamine_ros.commands.reading import add_reading_arguments, read_options
from robodopamine_ros.data.topics import IMAGE_SIZE


def add_arguments(parser):
    parser.add_argument('episodes', nargs='+', help='episodes (bags or reference folders)')
    parser.add_argument('--model', required=True,
                        help='model folder, or "pixel-baseline" for the non-learned baseline')
    parser.add_argument('--every', type=int, default=10, help='score every N-th frame (10)')
    parser.add_argument('--labels', nargs='*', default=None,
                        help='success/partial/fail per episode, for completion accuracy '
                             '(default: the success flag recorded in a bag, when present)')
    parser.add_argument('--fusion', choices=('mean', 'consistency'), default='mean')
    parser.add_argument('-o', '--output', default=None, help='folder for progress plots')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, ...')
    parser.add_argument('--template', default=None, help='VLM prompt template file')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    parser.add_argument('--mix-contracts', action='store_true',
                        help='evaluate episodes scored under different reward contracts '
                             'together (refused by default: their progress does not compare)')
    add_reading_arguments(parser)


def run(args):
    from robodopamine_ros.data import demos
    from robodopamine_ros.data.images import FitPixels
    from robodopamine_ros.grm.vlm import MAX_PIXELS
    from robodopamine_ros.reward.evaluation import evaluate_model, plot_progress
    from robodopamine_ros.reward.metrics import completion_accuracy, OUTCOMES, outcome_ranking
    from robodopamine_ros.reward.progress import ProgressConfig
    from robodopamine_ros.reward.success import SuccessConfig, ticks_for_hold

    from robodopamine_ros.grm.loading import load_grm

    from robodopamine_ros.reward.contract import check_one_contract, recorded_contracts

    options = read_options(args)
    # episodes scored under different reward contracts do not compare: refused unless mixed
    contract = check_one_contract(recorded_contracts(args.episodes, options.storage),
                                  mix=args.mix_contracts)
    model, references = load_grm(args.model, args.device, args.template)
    # what the model sees, never more (memory: frames x that): a VLM's processor takes at most
    # MAX_PIXELS per image
    size = tuple(model.config['image_size']) if model.name == 'compact' else \
        (FitPixels(MAX_PIXELS) if model.name == 'vlm' else IMAGE_SIZE)
    if args.labels is not None and len(args.labels) != len(args.episodes):
        raise ValueError(f'--labels has {len(args.labels)} entries for {len(args.episodes)} '
                         'episodes')
    output = Path(args.output) if args.output else None
    if output:
        output.mkdir(parents=True, exist_ok=True)
    results, curves_all, labels, rates = [], [], [], []
    for index, path in enumerate(args.episodes):
        episode = demos.load_demo(path, image_size=size, options=options)
        if episode.duration > 0:   # triplets per s: the detector's ticks are every-th of them
            rates.append((episode.num_frames - 1) / episode.duration / args.every)
        refs = references or (episode.views['front'][0], episode.views['front'][-1])
        metrics, curves = evaluate_model(model, episode, refs, args.every,
                                         ProgressConfig(fusion=args.fusion))
        metrics['path'] = str(path)
        results.append(metrics)
        curves_all.append(curves['fused'])
        label = args.labels[index] if args.labels else \
            ('success' if episode.success else None) if episode.success is not None else None
        labels.append(label)
        if output:
            plot_progress(curves, f'{episode.episode_id} ({args.model})',
                          output / f'{index:03d}_{episode.episode_id}.png')
    summary = {'model': args.model, 'episodes': results,   # the bags' scoring contract
               'recorded_reward_contract': contract.digest if contract else None}
    known = [(c, lab) for c, lab in zip(curves_all, labels) if lab in OUTCOMES]
    if known:
        accuracy, confusion = completion_accuracy([c for c, _ in known], [lab for _, lab in known])
        summary['completion_accuracy'] = accuracy
        summary['confusion'] = confusion
        # the detector's hold (1 s) in ticks at the scoring's tick rate (median over episodes)
        hold = ticks_for_hold(float(statistics.median(rates))) if rates else \
            SuccessConfig().hold_ticks
        summary['completion_accuracy_detector'], _ = completion_accuracy(
            [c for c, _ in known], [lab for _, lab in known],
            success=SuccessConfig(hold_ticks=hold))
        summary.update(outcome_ranking([c[-1] for c, _ in known], [lab for _, lab in known]))
    for key in ('voc_fused', 'voc_incremental', 'voc_minus', 'mae_vs_keyframes'):
        values = [r[key] for r in results if key in r and not math.isnan(r[key])]
        if values:
            summary[f'mean_{key}'] = sum(values) / len(values)
    if args.json:
        print(json.dumps(summary))
        return 0
    for r in results:
        print(f'{r["path"]}: ' + ', '.join(f'{k} {v:.3f}' if isinstance(v, float) else f'{k} {v}'
                                           for k, v in r.items() if k not in ('path',)))
    for key, value in summary.items():
        shown = ('completion_accuracy', 'completion_accuracy_detector', 'kendall_tau',
                 'kendall_tau_max', 'pairs_ordered', 'success_fail_gap')
        if key.startswith('mean_') or key in shown:
            print(f'{key}: {value:.3f}')
    return 0
