# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine demo-info DEMO``: topics, frames, synchronization, duration, keyframes."""

import json

from robodopamine_ros.commands.reading import add_reading_arguments, read_options


def add_arguments(parser):
    parser.add_argument('demo', help='rosbag2 folder (or bare .mcap) or reference-layout '
                                     'episode folder')
    parser.add_argument('--json', action='store_true', help='print one JSON object')
    add_reading_arguments(parser)


def run(args):
    from robodopamine_ros.data import bags, demos

    options = read_options(args)
    kind = demos.demo_kind(args.demo)
    info = {'demo': str(args.demo), 'kind': kind}
    if kind == 'bag':
        topics, bag_info = bags.bag_topics(args.demo, options.storage)
        bag_info.pop('warnings')  # the episode's warnings repeat them
        info['bag'] = bag_info
        info['topics'] = {t: {'type': m, 'messages': n} for t, (m, n) in sorted(topics.items())}
    # small images: demo-info needs stamps and counts, not pixels
    episode = demos.load_demo(args.demo, image_size=(32, 24), options=options)
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
        print(f'  storage {b.get("storage")}, bag version {b.get("version") or "unknown"}'
              f'{"" if b["metadata"] else " (no metadata.yaml)"}, {b["messages"]} messages, '
              f'{b["duration_s"]:.2f} s')
        for topic, t in info['topics'].items():
            print(f'  {topic:45s} {t["type"]:45s} {t["messages"]:6d}')
    print(f'  synchronized triplets: {info["frames"]} over {info["duration_s"]:.2f} s')
    if episode.sync:
        sync = episode.sync
        print(f'  dropped per camera (front, left, right): {sync["dropped"]}, worst '
              f'skew {sync["worst_skew_ms"]:.1f} ms, synchronized by '
              f'{sync["synchronized_by"]} stamps, frame stamps on the {sync["clock"]} clock, '
              f'{len(sync["stretches"])} monotonic stretch'
              f'{"es" if len(sync["stretches"]) > 1 else ""}')
    for name, count in info['streams'].items():
        print(f'  stream {name}: {count} samples')
    print(f'  keyframes: {len(episode.keyframes)} segments'
          + ''.join(f'\n    {s.annotation or "-"}: {s.start}..{s.end}' for s in episode.keyframes))
    print(f'  instructions: {"; ".join(i for i in episode.instructions if i) or "none"}')
    for warning in episode.warnings:
        print(f'  warning: {warning}')
    return 0
