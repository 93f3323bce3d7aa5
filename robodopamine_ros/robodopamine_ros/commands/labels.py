# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine labels DEMO``: the GRM training labels one demonstration yields.

The labels: docs/method.md#hop-labels.
"""

import json
from pathlib import Path

from robodopamine_ros.commands.reading import add_reading_arguments, read_options


def add_arguments(parser):
    parser.add_argument('demo', help='demo: a rosbag2 folder (or bare .mcap), a reference-layout '
                                     'episode folder (three videos + annotated_keyframes.json), '
                                     'or a keyframe JSON file')
    parser.add_argument('--chunk', type=int, default=20, help='frames per interval C (20)')
    parser.add_argument('--samples', type=int, default=1000,
                        help='balanced pairs per episode (1000)')
    parser.add_argument('--num-frames', type=int, default=None,
                        help='episode length, when DEMO is a keyframe file without videos')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    add_reading_arguments(parser)


def load_demonstration(demo, num_frames=None, options=None):
    """
    Build a labels.Demonstration from a demo (bag or episode folder) or a keyframe file.

    A demo's frame count is its synchronized triplets (bag) or decodable video frames (episode
    folder), read without decoding images; options: demos.ReadOptions for a bag. num_frames
    applies to a keyframe file only. Raises FileNotFoundError or ValueError naming the input.
    """
    from robodopamine_ros.data import bag_location, demos, keyframes
    from robodopamine_ros.reward.labels import Demonstration

    demo = Path(demo)
    if not demo.exists():
        raise FileNotFoundError(f'{demo}: no such demo folder or keyframe file')
    if demo.is_file() and not bag_location.looks_like_bag(demo):
        segments = keyframes.load_keyframes(demo, num_frames=num_frames)
        return Demonstration(episode_id=demo.stem, segments=tuple(segments),
                             num_frames=num_frames or segments[-1].end + 1,
                             instructions=('',))
    outline = demos.demo_outline(demo, options)
    if not outline.keyframes:
        raise ValueError(f'{demo}: no keyframes; run `robodopamine keyframes propose {demo}`')
    return Demonstration(episode_id=outline.episode_id, segments=tuple(outline.keyframes),
                         num_frames=outline.num_frames, instructions=outline.instructions)


def run(args):
    from robodopamine_ros.reward.labels import build_labels, LabelConfig

    demo = load_demonstration(args.demo, args.num_frames, read_options(args))
    config = LabelConfig(chunk=args.chunk, samples_per_episode=args.samples)
    summary = build_labels([demo], config, seed=args.seed).summary()
    summary['num_frames'] = demo.num_frames
    summary['segments'] = len(demo.segments)
    if args.json:
        print(json.dumps(summary))
        return 0
    episode = summary['episodes'][demo.episode_id]
    print(f'{args.demo}: {demo.num_frames} frames, {len(demo.segments)} sub-task segments, '
          f'{episode["intervals_per_segment"]} intervals each, M = {episode["num_intervals"]}')
    print('sampled states (frame: progress):')
    pairs = [f'{f}:{p:.3f}' for f, p in zip(episode['frames'], episode['progress'])]
    for start in range(0, len(pairs), 8):
        print('  ' + '  '.join(pairs[start:start + 8]))
    print(f'samples: {summary["samples"]} ({summary["pairs"]} pairs from a pool of '
          f'{episode["candidate_pool"]}, {summary["zero_hop_anchors"]} zero-hop anchors, '
          f'{summary["reference_swapped"]} with swapped references)')
    edges = summary['hop_bin_edges']
    print('hop bin          count')
    for k, count in enumerate(summary['hop_bin_counts']):
        print(f'  [{edges[k]:+.2f}, {edges[k + 1]:+.2f})  {count:5d}')
    print('gap bin counts (|p - q|, 4 equal-width bins over [1, M]): '
          + ' '.join(str(c) for c in summary['gap_bin_counts']))
    return 0
