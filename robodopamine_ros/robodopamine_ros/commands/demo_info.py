# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine demo-info DEMO``: topics, frames, synchronization, duration, keyframes."""

from contextlib import contextmanager
import json
import logging

from robodopamine_ros.commands.reading import add_reading_arguments, read_options
from robodopamine_ros.commands.terminal import printable

FAILED = ('FAILED: the task was not completed in this recording (robodopamine adapt refuses it '
          'without --force; record another demonstration)')


@contextmanager
def readers_quiet():
    """Keep the demo readers (data.bags, data.reference_layout) from logging warnings."""
    logger = logging.getLogger('robodopamine_ros.data')
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


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
        # the simulator's verdict on the demonstration, when recorded (None: not recorded)
        info['demonstration_succeeded'] = bags.recorded_success(args.demo, options)
    # small images: demo-info needs stamps and counts, not pixels
    with readers_quiet():   # its warnings are printed below (or in the JSON), once
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
    print(f'{printable(args.demo)} ({kind})')
    if kind == 'bag':
        b = info['bag']
        print(f'  storage {b.get("storage")}, bag version {b.get("version") or "unknown"}'
              f'{"" if b["metadata"] else " (no metadata.yaml)"}, {b["messages"]} messages, '
              f'{b["duration_s"]:.2f} s')
        for topic, t in info['topics'].items():
            print(f'  {printable(topic):45s} {printable(t["type"]):45s} {t["messages"]:6d}')
    succeeded = info.get('demonstration_succeeded')
    if succeeded is not None:
        print(f'  demonstration: {"succeeded" if succeeded else FAILED} '
              f'({options.topics.success})')
    print(f'  synchronized triplets: {info["frames"]} over {info["duration_s"]:.2f} s')
    if episode.sync:
        sync = episode.sync
        print(f'  dropped per camera (front, left, right): {sync["dropped"]}, worst '
              f'skew {sync["worst_skew_ms"]:.1f} ms, synchronized by '
              f'{sync["synchronized_by"]} stamps, frame stamps on the {sync["clock"]} clock, '
              f'{len(sync["stretches"])} monotonic stretch'
              f'{"es" if len(sync["stretches"]) > 1 else ""}')
    timing = (episode.sync or {}).get('streams', {})
    for name, count in info['streams'].items():
        t = timing.get(name)
        print(f'  stream {name}: {count} samples' + (
            f', stamps {t["first_s"]:+.3f}..{t["last_s"]:+.3f} s of the first frame '
            f'({printable(t["topic"])}, {t["clock"]} clock)' if t else ''))
    print(f'  keyframes: {len(episode.keyframes)} segments'
          + ''.join(f'\n    {printable(s.annotation or "-")}: {s.start}..{s.end}'
                    for s in episode.keyframes))
    print('  instructions: '
          + printable('; '.join(i for i in episode.instructions if i) or 'none'))
    for warning in episode.warnings:
        print(f'  warning: {printable(warning)}')
    return 0
