# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine demo``: the main job, end to end, on the most complete pipeline available.

Today: a three-camera demonstration (default: the shared real example) is imported, its GRM
training labels are built, a compact GRM is adapted on it one-shot, its progress is scored
through the three-perspective tracker (and by the non-learned pixel baseline, for comparison),
rewards are shaped, the result is evaluated (VOC, VOC-, error against keyframes, forward-back
and stall tests, on frames the GRM never trained on) and written out: a report (PNG plots +
summary) and a rosbag2 with the camera images, ProgressStamped and RewardStamped messages, as
the ROS nodes will publish them.
"""

import json
from pathlib import Path
import time

DEFAULT_DEMO = Path(__file__).resolve().parents[3].parent / 'shared' / 'data' / \
    'robo_dopamine_example' / 'episode_001'


def add_arguments(parser):
    parser.add_argument('--demo', default=None,
                        help=f'demo to run on (bag or reference-layout folder); default '
                             f'{DEFAULT_DEMO}')
    parser.add_argument('-o', '--output', default='robodopamine_demo_out',
                        help='output folder (report.md, summary.json, progress.png, bag)')
    parser.add_argument('--steps', type=int, default=1500,
                        help='compact GRM adaptation steps (1500, a few CPU minutes)')
    parser.add_argument('--every', type=int, default=10, help='score every N-th frame (10)')
    parser.add_argument('--quick', action='store_true',
                        help='smoke run: the first 300 frames, 60 adaptation steps, every 20th '
                             'frame scored')


def run(args):
    from robodopamine_ros import bags, demos
    from robodopamine_ros.commands.adapt import adapt
    from robodopamine_ros.evaluation import evaluate_model, plot_progress
    from robodopamine_ros.grm.adapt_compact import reference_frames
    from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM
    from robodopamine_ros.labels import build_labels, Demonstration
    from robodopamine_ros.shaping import shape_episode, ShapingConfig

    started = time.perf_counter()
    demo = Path(args.demo) if args.demo else DEFAULT_DEMO
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    stop, every, steps = (300, 20, 60) if args.quick else (None, args.every, args.steps)

    print(f'[1/5] importing {demo}')
    episode = demos.load_demo(demo, image_size=(64, 48), stop=stop)
    print(f'      {episode.num_frames} synchronized triplets, {len(episode.keyframes)} '
          f'sub-tasks, task "{episode.instructions[0]}"')
    if not episode.keyframes:
        raise ValueError(f'{demo}: no keyframes; run `robodopamine keyframes propose {demo}`')

    print('[2/5] building GRM training labels (SPEC 2)')
    labels = build_labels([Demonstration(episode.episode_id, tuple(episode.keyframes),
                                         episode.num_frames, episode.instructions)])
    summary = labels.summary()
    states = summary['episodes'][episode.episode_id]
    print(f'      M = {states["num_intervals"]} intervals, {summary["pairs"]} balanced pairs, '
          f'{summary["zero_hop_anchors"]} zero-hop anchors')

    print(f'[3/5] adapting a compact GRM one-shot ({steps} steps), scoring every {every} '
          'frames (frames the GRM never trained on)')
    model, _ = adapt(demo, output / 'compact_grm', steps=steps, episode=episode,
                     log=lambda text: print('      ' + text))
    start, end = reference_frames(episode)
    references = (episode.views['front'][start], episode.views['front'][end])
    metrics, curves = evaluate_model(model, episode, references, every=every)
    baseline, _ = evaluate_model(PixelBaselineGRM(), episode, references, every=every)
    for name, m in (('compact GRM', metrics), ('pixel baseline', baseline)):
        print(f'      {name:14s}: VOC fused {m["voc_fused"]:.3f}, incremental '
              f'{m["voc_incremental"]:.3f}, VOC- {m["voc_minus"]:.3f}, error vs keyframes '
              f'{m.get("mae_vs_keyframes", float("nan")):.3f}')

    print('[4/5] shaping rewards (gamma 0.98, success at progress >= 0.95)')
    config = ShapingConfig(gamma=0.98)
    rewards = shape_episode(list(curves['fused']), config, truncated_at_end=True)
    episode_return = sum(r.reward for r in rewards)
    print(f'      {len(rewards)} steps, return {episode_return:.3f}, '
          f'{"ends in success" if rewards[-1].terminal else "no success reached"}')

    print(f'[5/5] writing {output}')
    plot_progress(curves, f'{episode.episode_id}: compact GRM', output / 'progress.png')
    bag_path = output / 'scored_episode'
    if bag_path.exists():
        import shutil
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
    bags.write_episode(bag_path, episode, storage='mcap', image_format='jpeg')
    result = {'demo': str(demo), 'grm': 'compact', 'metrics': metrics,
              'pixel_baseline_metrics': baseline, 'adaptation_steps': steps,
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


def _fmt(value):
    return f'{value:.3f}' if isinstance(value, float) else str(value)
