# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine demo``: the main job, end to end.

On the built-in simulated robot (default): one expert demonstration is recorded (a rosbag2 like
a real recording), a compact GRM is adapted on it one-shot, fresh expert and non-expert rollouts
(noisy expert, random, stopped halfway) on layouts it never saw are recorded and labelled by the
simulator, and the GRM is evaluated on them (VOC on the unseen expert rollouts, completion
classification against the simulator's labels), beside the non-learned pixel baseline. Rewards
are shaped for one rollout and written with its images, ProgressStamped and RewardStamped
messages to a bag, as the ROS nodes will publish them. Then the RL stage: expert demonstrations
for the policy, the default back-end (TrainConfig.algorithm) trained online on the GRM-shaped
reward (``robodopamine train``), its success curve as a PNG and a table. A report (PNG plots,
tables) closes.

With --demo PATH (a bag or reference-layout folder, e.g. the shared real demonstration) the same
pipeline runs on that recording, evaluated on its own held-out frames.
"""

import json
from pathlib import Path
import time

from robodopamine_ros.commands.reading import add_reading_arguments, read_options
from robodopamine_ros.commands.terminal import printable
from robodopamine_ros.data.topics import IMAGE_SIZE

DEFAULT_DEMO = Path(__file__).resolve().parents[3].parent / 'shared' / 'data' / \
    'robo_dopamine_example' / 'episode_001'


def add_arguments(parser):
    parser.add_argument('--demo', default=None,
                        help='a recorded demo to run on instead of the simulated robot (bag or '
                             f'reference-layout folder, e.g. {DEFAULT_DEMO})')
    parser.add_argument('--rollouts', type=int, nargs=4, default=(10, 10, 5, 5),
                        metavar=('EXPERT', 'NOISY', 'RANDOM', 'HALFWAY'),
                        help='held-out simulated rollouts per behaviour (10 10 5 5)')
    parser.add_argument('--settle-steps', type=int, default=None,
                        help='held-out rollouts: steps the arm holds still after a success, '
                        'as on a robot waiting for the success detector (default: its hold '
                        'and 1 s, sim/rollouts.py SETTLE_STEPS)')
    parser.add_argument('--seed', type=int, default=0, help='layout seed of the demonstration')
    parser.add_argument('-o', '--output', default='robodopamine_demo_out',
                        help='output folder (report.md, summary.json, progress.png, bag)')
    parser.add_argument('--steps', type=int, default=300,
                        help='compact GRM adaptation steps (300, about a CPU minute)')
    parser.add_argument('--every', type=int, default=10, help='score every N-th frame (10)')
    parser.add_argument('--rl-episodes', type=int, default=20,
                        help='simulated robot: online Dopamine-RL episodes after the GRM '
                             'stage (the default back-end, GRM-shaped reward; 0 skips; 20 is a '
                             'first look, bench/bench_rl.py runs the full comparison)')
    parser.add_argument('--init', default='auto', metavar='auto|pretrained|scratch|DIR',
                        help='where one-shot adaptation starts, as `adapt --init` (default '
                             'auto: the pre-trained GRM shipped with the package when it '
                             "knows the demo's images, else random weights); the pre-trained "
                             'model checked or used is also scored zero-shot')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run (under a minute): 60 adaptation steps, a few short '
                             'rollouts (recorded demo: its first 300 frames)')
    add_reading_arguments(parser)


def run(args):
    if args.demo:
        return run_recorded(args)
    return run_simulated(args)


def run_recorded(args):
    """Run the pipeline on a recorded demonstration (bag or reference layout)."""
    from robodopamine_ros.data import demos
    from robodopamine_ros.grm.adapt_compact import reference_frames
    from robodopamine_ros.grm.one_shot import adapt
    from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
    from robodopamine_ros.reward.evaluation import evaluate_model, plot_progress
    from robodopamine_ros.reward.labels import build_labels, Demonstration
    from robodopamine_ros.reward.shaping import shape_episode, ShapingConfig

    started = time.perf_counter()
    demo = Path(args.demo)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    stop, every, steps = (300, 20, 60) if args.quick else (None, args.every, args.steps)

    print(f'[1/5] importing {demo}')
    episode = demos.load_demo(demo, image_size=IMAGE_SIZE, options=read_options(args), stop=stop)
    print(f'      {episode.num_frames} synchronized triplets, {len(episode.keyframes)} '
          f'sub-tasks, task "{printable(episode.instructions[0])}"')
    if not episode.keyframes:
        raise ValueError(f'{demo}: no keyframes; run `robodopamine keyframes propose {demo}`')

    print('[2/5] building GRM training labels (docs/method.md#hop-labels)')
    labels = build_labels([Demonstration(episode.episode_id, tuple(episode.keyframes),
                                         episode.num_frames, episode.instructions)])
    summary = labels.summary()
    states = summary['episodes'][episode.episode_id]
    print(f'      M = {states["num_intervals"]} intervals, {summary["pairs"]} balanced pairs, '
          f'{summary["zero_hop_anchors"]} zero-hop anchors')

    print(f'[3/5] adapting a compact GRM one-shot ({steps} steps), scoring every {every} '
          'frames (frames the GRM never trained on)')
    model, history = adapt(demo, output / 'compact_grm', steps=steps, episode=episode,
                           log=lambda text: print('      ' + text), init=args.init)
    start, end = reference_frames(episode)
    references = (episode.views['front'][start], episode.views['front'][end])
    metrics, curves = evaluate_model(model, episode, references, every=every)
    baseline, _ = evaluate_model(PixelBaselineGRM(), episode, references, every=every)
    for name, m in (('compact GRM', metrics), ('pixel baseline', baseline)):
        print(f'      {name:14s}: VOC fused {m["voc_fused"]:.3f}, incremental '
              f'{m["voc_incremental"]:.3f}, VOC- {m["voc_minus"]:.3f}, error vs keyframes '
              f'{m.get("mae_vs_keyframes", float("nan")):.3f}')

    config = ShapingConfig()
    print(f'[4/5] shaping rewards (gamma {config.gamma}, success at progress >= '
          f'{1 - config.success_delta})')
    rewards = shape_episode(list(curves['fused']), config, truncated_at_end=True)
    episode_return = sum(r.reward for r in rewards)
    print(f'      {len(rewards)} steps, return {episode_return:.3f}, '
          f'{"ends in success" if rewards[-1].terminal else "no success reached"}')

    print(f'[5/5] writing {output}')
    plot_progress(curves, f'{episode.episode_id}: compact GRM', output / 'progress.png')
    bag_path = output / 'scored_episode'
    write_scored_bag(bag_path, episode, curves, rewards)
    result = {'demo': str(demo), 'grm': 'compact', 'metrics': metrics,
              'pixel_baseline_metrics': baseline, 'adaptation_steps': steps,
              'start': history['start'],
              'labels': {k: summary[k] for k in ('samples', 'pairs', 'zero_hop_anchors')},
              'return': episode_return, 'steps': len(rewards),
              'wall_time_s': round(time.perf_counter() - started, 1)}
    (output / 'summary.json').write_text(json.dumps(result, indent=2) + '\n')
    rows = '\n'.join(
        f'| {k} | {_fmt(v)} | {_fmt(baseline.get(k, ""))} |' for k, v in metrics.items())
    (output / 'report.md').write_text(
        f'# robodopamine demo\n\nDemo: `{demo}`; compact GRM adapted one-shot ({steps} steps);'
        f' {result["wall_time_s"]} s in all.\n\n| metric | compact GRM | pixel baseline |\n'
        f'|---|---|---|\n{rows}\n\n![progress](progress.png)\n')
    print(f'done in {result["wall_time_s"]} s: {output}/compact_grm/ (the adapted model),'
          f' {output}/report.md, progress.png, summary.json, '
          f'{bag_path.name}/ (rosbag2 with images, progress and rewards)')
    return 0


def write_scored_bag(bag_path, episode, curves, rewards):
    """Write the episode with the ProgressStamped / RewardStamped messages of its scoring."""
    import shutil

    from robodopamine_ros.data import bag_writer

    if bag_path.exists():
        shutil.rmtree(bag_path)
    stamps = [int(episode.stamps[f]) for f in curves['frames']]
    episode.progress = [
        {'stamp_ns': stamps[k], 'frame_id': 'front', 'episode_id': 1, 'tick': k,
         'progress': float(curves['fused'][k]), 'progress_incremental':
         float(curves['incremental'][k]), 'progress_forward': float(curves['forward'][k]),
         'progress_backward': float(curves['backward'][k]), 'hop': float('nan'),
         'confidence': float(curves['confidence'][k]),
         'success': bool(curves['fused'][k] >= 0.95), 'inference_latency': 0.0}
        for k in range(len(stamps))]
    episode.rewards = [
        {'stamp_ns': stamps[k + 1], 'frame_id': '', 'episode_id': 1, 'step': k,
         'reward': r.reward, 'sparse_reward': r.sparse_reward, 'shaping': r.shaping,
         'progress_before': r.progress_before, 'progress_after': r.progress_after,
         'gamma': r.gamma, 'confidence': float(curves['confidence'][k + 1]),
         'terminal': r.terminal, 'truncated': r.truncated}
        for k, r in enumerate(rewards)]
    bag_writer.write_episode(bag_path, episode, storage='mcap', image_format='jpeg')


def run_simulated(args):
    """Run the pipeline on the built-in simulated peg insertion."""
    from tqdm import tqdm

    from robodopamine_ros.data import bag_writer
    from robodopamine_ros.grm.adapt_compact import reference_frames
    from robodopamine_ros.grm.one_shot import adapt
    from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
    from robodopamine_ros.grm.pretrain import initial_model, start_text
    from robodopamine_ros.reward.evaluation import evaluate_episode, plot_progress
    from robodopamine_ros.reward.labels import build_labels, Demonstration
    from robodopamine_ros.reward.metrics import OUTCOMES
    from robodopamine_ros.reward.progress import ProgressConfig
    from robodopamine_ros.reward.shaping import shape_episode, ShapingConfig
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim
    from robodopamine_ros.sim.rollouts import BEHAVIOURS, expert_demonstration, rollout, \
        SETTLE_STEPS

    started = time.perf_counter()
    if args.settle_steps is None:
        args.settle_steps = SETTLE_STEPS
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    steps, every = (60, 4) if args.quick else (args.steps, 2)
    counts = (2, 1, 1, 1) if args.quick else tuple(args.rollouts)
    sim = PegInsertionSim(image_size=IMAGE_SIZE, max_steps=120 if args.quick else 200)
    try:
        print('[1/7] recording one expert demonstration on the simulated robot')
        demo, demo_seed = expert_demonstration(sim, args.seed)
        demo_bag = output / 'expert_demo'
        if demo_bag.exists():
            import shutil
            shutil.rmtree(demo_bag)
        bag_writer.write_episode(demo_bag, demo, storage='mcap', image_format='png',
                                 action_source='expert')
        print(f'      layout seed {demo_seed}: {demo.num_frames} frames, phases '
              + ', '.join(f'{printable(s.annotation)} {s.start}-{s.end}'
                          for s in demo.keyframes)
              + f'; written to {demo_bag}')

        print('[2/7] building GRM training labels (docs/method.md#hop-labels)')
        labels = build_labels([Demonstration(demo.episode_id, tuple(demo.keyframes),
                                             demo.num_frames, demo.instructions)])
        summary = labels.summary()
        print(f'      M = {summary["episodes"][demo.episode_id]["num_intervals"]} intervals, '
              f'{summary["pairs"]} balanced pairs, {summary["zero_hop_anchors"]} zero-hop '
              'anchors')

        print(f'[3/7] adapting a compact GRM one-shot on it ({steps} steps)')
        model, history = adapt(demo_bag, output / 'compact_grm', steps=steps, episode=demo,
                               log=lambda text: print('      ' + text), init=args.init)
        start, end = reference_frames(demo)
        references = (demo.views['front'][start], demo.views['front'][end])

        total = sum(counts)
        print(f'[4/7] recording {total} held-out rollouts on unseen layouts '
              f'({", ".join(f"{n} {b}" for n, b in zip(counts, BEHAVIOURS))})')
        rollouts = []
        bar = tqdm(total=total, unit='rollout', desc='rollouts', mininterval=1.0)
        for b, (behaviour, n) in enumerate(zip(BEHAVIOURS, counts)):
            for k in range(n):
                rollouts.append(rollout(sim, 1000 + 100 * b + k, behaviour,
                                        settle_steps=args.settle_steps))
                bar.update(1)
        bar.close()
    finally:
        sim.close()

    print(f'[5/7] scoring every {every}th frame with the compact GRM and the pixel baseline')
    results = {'compact GRM': (model, 'mean'),
               'compact GRM, consistency fusion': (model, 'consistency'),
               'pixel baseline': (PixelBaselineGRM(), 'mean')}
    checked = history['start'].get('checked')   # the pre-trained model, before adapting
    if checked:
        results['pre-trained GRM, zero-shot'] = (
            initial_model(checked, model.config['image_size']), 'mean')
    table, curves_of = {}, {}
    for name, (grm, fusion) in results.items():
        rows = []
        for episode, label in rollouts:
            metrics, curves = evaluate_episode(grm, episode, every=every,
                                               references=references,
                                               config=ProgressConfig(fusion=fusion))
            rows.append((episode, label, metrics, curves))
        table[name] = _rollout_table(rows, every)
        curves_of[name] = rows
        print(f'      {name}: VOC on unseen expert rollouts '
              f'{table[name]["voc_unseen_expert_mean"]:.3f} (min '
              f'{table[name]["voc_unseen_expert_min"]:.3f}; incremental-only '
              f'{table[name]["voc_incremental_unseen_expert_mean"]:.3f}; on the '
              f'{table[name]["unseen_expert_successes"]} that succeeded '
              f'{table[name]["voc_unseen_success_mean"]:.3f}, min '
              f'{table[name]["voc_unseen_success_min"]:.3f}), VOC- '
              f'{table[name]["voc_minus_unseen_expert_mean"]:.3f}, completion accuracy '
              f'{table[name]["completion_accuracy"]:.1%} (success detector '
              f'{table[name]["completion_accuracy_detector"]:.1%}) over {len(rows)} rollouts, '
              f'Kendall tau {table[name]["kendall_tau"]:.2f} (at most '
              f'{table[name]["kendall_tau_max"]:.2f} for these outcomes; pairs in order '
              f'{table[name]["pairs_ordered"]:.1%}), success-fail gap '
              f'{table[name]["success_fail_gap"]:.2f}')

    print('[6/7] shaping rewards and writing the report')
    rows = curves_of['compact GRM']
    episode, label, _, curves = rows[0]
    rewards = shape_episode(list(curves['fused']), ShapingConfig())
    write_scored_bag(output / 'scored_rollout', episode, curves, rewards)
    plot_progress(curves, f'{episode.episode_id} ({label}): compact GRM',
                  output / 'progress.png')
    _plot_rollouts(rows, output / 'rollouts.png')
    result = {'demo_seed': demo_seed, 'adaptation_steps': steps, 'start': history['start'],
              'rollouts': dict(zip(BEHAVIOURS, counts)), 'settle_steps': args.settle_steps,
              'grm': table,
              'labels': [lab for _, lab, _, _ in rows],
              'predicted': [m['completion'] for _, _, m, _ in rows],
              'wall_time_s': round(time.perf_counter() - started, 1)}
    rl_section = ''
    if args.rl_episodes > 0:
        rl_section = _rl_stage(args, output, result)
    result['wall_time_s'] = round(time.perf_counter() - started, 1)
    (output / 'summary.json').write_text(json.dumps(result, indent=2) + '\n')
    lines = ['| metric | ' + ' | '.join(table) + ' |', '|---|' + '---|' * len(table)]
    for key in ('voc_unseen_expert_mean', 'voc_unseen_expert_min', 'voc_unseen_success_mean',
                'voc_unseen_success_min', 'unseen_expert_successes',
                'voc_incremental_unseen_expert_mean', 'voc_minus_unseen_expert_mean',
                'completion_accuracy', 'completion_accuracy_detector', 'kendall_tau',
                'kendall_tau_max', 'pairs_ordered', 'success_fail_gap', 'tick_latency_ms'):
        lines.append(f'| {key} | ' + ' | '.join(_fmt(t[key]) for t in table.values()) + ' |')
    confusion = table['compact GRM']['confusion']
    lines += ['', 'Completion classes of the compact GRM (mean fusion) against the simulator:', '',
              '| true \\ predicted | ' + ' | '.join(OUTCOMES) + ' |',
              '|---|' + '---|' * len(OUTCOMES)]
    lines += [f'| {t} | ' + ' | '.join(str(confusion[t][p]) for p in OUTCOMES) + ' |'
              for t in OUTCOMES]
    final = table['compact GRM']['final_progress']
    lines += ['', 'Final progress of the compact GRM (mean fusion) per simulator outcome:', '',
              '| outcome | n | mean | min | median | max |', '|---|---|---|---|---|---|']
    lines += [f'| {o} | {d["n"]} | ' + ' | '.join(f'{d[k]:.2f}' for k in (
        'mean', 'min', 'median', 'max')) + ' |' for o, d in final.items()]
    (output / 'report.md').write_text(
        '# robodopamine demo: simulated peg insertion\n\n'
        f'One expert demonstration (layout seed {demo_seed}), compact GRM adapted one-shot '
        f'({steps} steps; start: {start_text(history["start"])}), '
        f'evaluated on {len(rows)} rollouts on layouts it never saw (a '
        f'success runs on {args.settle_steps} steps with the arm still, for the success '
        'detector). '
        f'{result["wall_time_s"]} s in all.\n\n' + '\n'.join(lines)
        + '\n\n![rollouts](rollouts.png)\n\n![progress](progress.png)\n' + rl_section)
    print(f'done in {result["wall_time_s"]} s: {output}/report.md, rollouts.png, progress.png, '
          'summary.json, expert_demo/ and scored_rollout/ (rosbag2), compact_grm/ (the model)')
    return 0


def _rl_stage(args, output, result):
    """Train the default learner on the GRM-shaped reward; return the report's RL section."""
    from robodopamine_ros.rl.report import write_report
    from robodopamine_ros.rl.sim_training import train, TrainConfig

    quick = args.quick
    # the learner's defaults (TrainConfig); --quick shrinks everything to a smoke run
    small = {'policy_demos': 1, 'successful_demos_only': False, 'pretrain_updates': 10,
             'offline_updates': 10, 'max_steps': 30, 'eval_episodes': 1,
             'final_eval_episodes': 1, 'agent': {'batch_size': 32}} if quick else {}
    config = TrainConfig(**{
        'reward': 'grm', 'grm_dir': str(output / 'compact_grm'), 'episodes': args.rl_episodes,
        'grm_every': 2, 'eval_every': max(1, args.rl_episodes // 4),
        'final_eval_every': args.rl_episodes or 1, 'final_eval_episodes': 20,
        'seed': args.seed, **small})
    name = {'calql': 'Cal-QL', 'conrft': 'ConRFT'}[config.algorithm]
    bound = (' UPPER BOUND, privileged: ' + '; '.join(config.privileged)
             if config.privileged else '')
    print(f'[7/7] Dopamine-RL: {config.policy_demos} expert demos for the policy, '
          f'{config.pretrain_updates} imitation + {config.offline_updates} offline updates, '
          f'{config.episodes} online {name} episodes on the GRM-shaped reward.{bound}')
    rl_dir = output / 'rl'
    summary = train(config, rl_dir, resume=False, log=lambda text: print('      ' + text))
    write_report(rl_dir, {f'Dopamine-RL, {name}': [summary]}, 'Dopamine-RL')
    result['rl'] = {'eval': summary['eval'], 'wall_time_s': round(summary['wall_time_s'], 1),
                    'env_steps': summary['env_steps'], 'offline': summary['offline']}
    table = (rl_dir / 'report.md').read_text().split('\n', 2)[2]
    return (f'\n## Dopamine-RL ({name}, GRM-shaped reward)\n\n'
            + (f'**{bound.strip()}** (what a real arm cannot sense: this figure is an upper '
               "bound of the product's loop).\n\n" if bound else '') +
            f'{config.episodes} online episodes; deterministic-policy evaluation success on '
            f'{config.eval_episodes} fixed layouts (episode 0: after imitation and the offline '
            'stage). Training log: rl/episodes.csv, rl/tensorboard/.\n\n'
            + table.replace('success.png', 'rl/success.png'))


def _rollout_table(rows, every):
    """
    Summarize VOC over the unseen expert rollouts and completion accuracy over all.

    every: the control steps between scored frames (the detector's hold is in those ticks).
    """
    import numpy as np

    from robodopamine_ros.reward.metrics import completion_accuracy, outcome_ranking
    from robodopamine_ros.reward.success import SuccessConfig, ticks_for_hold
    from robodopamine_ros.sim.rollouts import CONTROL_PERIOD_NS

    experts = [(label, m) for e, label, m, _ in rows if e.episode_id.startswith('expert')]
    expert = [m for _, m in experts]
    # VOC's premise (progress rises with time) holds on the expert rollouts that succeed; the
    # scripted expert fails on some layouts (bench_sim: 16 %) and such a rollout's progress
    # stalls or falls, so both figures are reported
    succeeded = [m for label, m in experts if label == 'success']
    curves, labels = [c['fused'] for _, _, _, c in rows], [label for _, label, _, _ in rows]
    accuracy, confusion = completion_accuracy(curves, labels)
    hold = ticks_for_hold(1e9 / CONTROL_PERIOD_NS / every)
    detected, _ = completion_accuracy(curves, labels, success=SuccessConfig(hold_ticks=hold))
    ranking = outcome_ranking([c[-1] for c in curves], labels)

    def over_experts(key, reduce, among=expert):
        return float(reduce([m[key] for m in among])) if among else float('nan')

    return {'voc_unseen_expert_mean': over_experts('voc_fused', np.mean),
            'voc_unseen_expert_min': over_experts('voc_fused', np.min),
            'voc_unseen_success_mean': over_experts('voc_fused', np.mean, succeeded),
            'voc_unseen_success_min': over_experts('voc_fused', np.min, succeeded),
            'unseen_expert_successes': f'{len(succeeded)} of {len(expert)}',
            'voc_incremental_unseen_expert_mean': over_experts('voc_incremental', np.mean),
            'voc_minus_unseen_expert_mean': over_experts('voc_minus', np.mean),
            'completion_accuracy': accuracy, 'confusion': confusion,
            'completion_accuracy_detector': detected, 'kendall_tau': ranking['kendall_tau'],
            'kendall_tau_max': ranking['kendall_tau_max'],
            'pairs_ordered': ranking['pairs_ordered'],
            'success_fail_gap': ranking['success_fail_gap'],
            'final_progress': ranking['final_progress'],
            'tick_latency_ms': float(np.median([m['tick_latency_ms'] for _, _, m, _ in rows]))}


def _plot_rollouts(rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    colours = {'success': 'tab:green', 'partial': 'tab:orange', 'fail': 'tab:red'}
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    for _episode, label, _, curves in rows:
        axis.plot(curves['frames'], curves['fused'], color=colours[label], alpha=0.7, lw=1.2)
    for label, colour in colours.items():
        axis.plot([], [], color=colour, label=f'{label} (simulator label)')
    axis.set_ylim(-0.05, 1.05)
    axis.set_xlabel('step')
    axis.set_ylabel('fused progress (compact GRM)')
    axis.set_title('held-out simulated rollouts')
    axis.legend(loc='upper left', fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def _fmt(value):
    return f'{value:.3f}' if isinstance(value, float) else str(value)
