# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine keyframes propose|sheet DEMO``: propose sub-task boundaries, and check them."""

from pathlib import Path

from robodopamine_ros.commands.reading import add_reading_arguments, read_options
from robodopamine_ros.data.keyframe_proposal import MOTION_MIN_SEGMENT_S, SOURCES, \
    WAYPOINT_MIN_SEGMENT_S
from robodopamine_ros.data.topics import IMAGE_SIZE


def add_arguments(parser):
    sub = parser.add_subparsers(dest='action', metavar='ACTION', required=True)
    propose = sub.add_parser('propose', help='propose boundaries and write the keyframe JSON '
                                             'beside the demo')
    propose.add_argument('demo', help='rosbag2 folder or reference-layout episode folder')
    propose.add_argument('--segments', type=int, default=None,
                         help='number of sub-tasks wanted (default: every clear pause)')
    propose.add_argument('--source', choices=SOURCES, default='auto',
                         help="auto: gripper events and the waypoints of the hand's path "
                         'between them; gripper; waypoints; motion (pauses in the images)')
    propose.add_argument('--min-segment', type=float, default=None,
                         help=f'shortest sub-task, seconds ({WAYPOINT_MIN_SEGMENT_S} between '
                         f'waypoints, {MOTION_MIN_SEGMENT_S} between motion pauses)')
    propose.add_argument('-o', '--output', default=None,
                         help='keyframe file (default: annotated_keyframes.json in the demo)')
    propose.add_argument('--force', action='store_true', help='replace existing keyframes')
    add_reading_arguments(propose)
    sheet = sub.add_parser('sheet', help='render a contact sheet PNG with the boundaries')
    sheet.add_argument('demo', help='rosbag2 folder or reference-layout episode folder')
    sheet.add_argument('-o', '--output', default=None,
                       help='PNG path (default: keyframes_sheet.png in the demo)')
    sheet.add_argument('--every', type=int, default=30, help='a tile every N frames (30)')
    sheet.add_argument('--columns', type=int, default=8)
    add_reading_arguments(sheet)


def run(args):
    from robodopamine_ros.data import demos
    from robodopamine_ros.data.contact_sheet import render_contact_sheet
    from robodopamine_ros.data.images import save_png
    from robodopamine_ros.data.keyframe_proposal import propose_keyframes
    from robodopamine_ros.data.keyframes import KEYFRAME_FILE, save_keyframes

    demo = Path(args.demo)
    options = read_options(args)
    folder = demos.sidecar_folder(demo)  # the bag or episode folder (a bare .mcap's folder)
    if args.action == 'propose':
        output = Path(args.output) if args.output else folder / KEYFRAME_FILE
        if output.exists() and not args.force:
            raise ValueError(f'{output}: keyframes exist already; pass --force to replace them')
        episode = demos.load_demo(demo, image_size=IMAGE_SIZE, options=options)
        segments, source = propose_keyframes(episode, args.segments, args.min_segment,
                                             args.source)
        save_keyframes(output, segments)
        print(f'wrote {output}: {len(segments)} segments from {source} '
              f'({", ".join(f"{s.start}..{s.end}" for s in segments)})')
        print(f'check them: robodopamine keyframes sheet {demo}')
        return 0
    episode = demos.load_demo(demo, image_size=(320, 240), options=options)
    output = Path(args.output) if args.output else folder / 'keyframes_sheet.png'
    sheet = render_contact_sheet(episode, every=args.every, columns=args.columns)
    save_png(output, sheet)
    print(f'wrote {output}: {sheet.shape[1]} x {sheet.shape[0]} px, '
          f'{len(episode.keyframes)} segments drawn')
    return 0
