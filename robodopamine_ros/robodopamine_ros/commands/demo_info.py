# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine demo-info DEMO``: topics, frames, synchronization, duration, keyframes."""

import json


def add_arguments(parser):
    parser.add_argument('demo', help='rosbag2 folder or reference-layout episode folder')
    parser.add_argument('--slop', type=float, default=0.02,
                        help='largest stamp spread in a synchronized triplet, seconds (0.02)')
    parser.add_argument('--json', action='store_true', help='print one JSON object')


def run(args):
    from robodopamine_ros import bags, demos

    kind = demos.demo_kind(args.demo)
    info = {'demo': str(args.demo), 'kind': kind}
    if kind == 'bag':
        topics, bag_info = bags.bag_topics(args.demo)
        info['bag'] = bag_info
        info['topics'] = {t: {'type': m, 'messages': n} for t, (m, n) in sorted(topics.items())}
    # small images: demo-info needs stamps and counts, not pixels
    episode = demos.load_demo(args.demo, image_size=(32, 24), slop=args.slop)
    info.update({
        'frames': episode.num_frames, 'duration_s': round(episode.duration, 3),
        'sync': episode.sync, 'streams': {k: len(s) for k, s in episode.streams.items()},
        'progress_messages': len(episode.progress), 'reward_messages': len(episode.rewards),
        'keyframes': [s.to_json() for s in episode.keyframes],
        'instructions': list(episode.instructions), 'warnings': episode.warnings})
    if args.json:
        print(json.dumps(info))
        return 0
    print(f'{args.demo} ({kind})')
    if kind == 'bag':
        b = info['bag']
        print(f'  storage {b.get("storage")}, bag version {b.get("version")}, '
              f'{b["messages"]} messages, {b["duration_s"]:.2f} s')
        for topic, t in info['topics'].items():
            print(f'  {topic:45s} {t["type"]:45s} {t["messages"]:6d}')
    print(f'  synchronized triplets: {info["frames"]} over {info["duration_s"]:.2f} s')
    if episode.sync:
        print(f'  dropped per camera (front, left, right): {episode.sync["dropped"]}, worst '
              f'skew {episode.sync["worst_skew_ms"]:.1f} ms')
    for name, count in info['streams'].items():
        print(f'  stream {name}: {count} samples')
    print(f'  keyframes: {len(episode.keyframes)} segments'
          + ''.join(f'\n    {s.annotation or "-"}: {s.start}..{s.end}' for s in episode.keyframes))
    print(f'  instructions: {"; ".join(i for i in episode.instructions if i) or "none"}')
    for warning in episode.warnings:
        print(f'  warning: {warning}')
    return 0
