# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine import-demo SRC -o BAG``: a reference-layout episode (or a bag) to a rosbag2."""

from robodopamine_ros.commands.reading import add_reading_arguments, read_options


def add_arguments(parser):
    parser.add_argument('src', help='reference-layout episode folder (three mp4 videos + '
                                    'annotated_keyframes.json) or a rosbag2 folder (or bare '
                                    '.mcap)')
    parser.add_argument('-o', '--output', required=True, help='new bag folder to write')
    parser.add_argument('--storage', choices=('sqlite3', 'mcap'), default='mcap',
                        help='storage of the bag written (mcap); --input-storage sets the '
                             'source bag storage')
    parser.add_argument('--version', type=int, choices=(8, 9), default=9,
                        help='rosbag2 format version (8 for older Jazzy/Iron readers)')
    parser.add_argument('--image-format', choices=('raw', 'jpeg', 'png'), default='jpeg')
    parser.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'), default=None,
                        help='resize the images (default: keep the recorded size)')
    add_reading_arguments(parser, storage_flag='--input-storage')


def run(args):
    from tqdm import tqdm

    from robodopamine_ros.data import bag_writer, demos, reference_layout
    from robodopamine_ros.data.keyframes import load_keyframes

    options = read_options(args)
    kind = demos.demo_kind(args.src)
    if kind == 'bag':
        episode = demos.load_demo(args.src, image_size=tuple(args.size) if args.size else None,
                                  options=options)
        bag_writer.write_episode(args.output, episode, args.storage, args.version,
                                 args.image_format)
        print(f'wrote {args.output}: {episode.num_frames} triplets')
        return 0
    # Stream the videos into the bag: constant memory at any resolution. The bag appears only
    # when complete, so keyframes past the last decodable frame leave nothing behind.
    reported = reference_layout.reported_frame_count(args.src)
    fps = reference_layout.video_fps(f'{args.src}/{reference_layout.CAMERA_FILES["front"]}')
    load_keyframes(args.src)  # a broken keyframe file fails before any decoding
    warnings = []
    with bag_writer.EpisodeBagWriter(args.output, storage=args.storage, version=args.version,
                                     image_format=args.image_format) as writer:
        frames = reference_layout.iter_frames(args.src, tuple(args.size) if args.size else None,
                                              warnings=warnings)
        total = 0
        for index, views in tqdm(frames, total=reported, unit='frame', desc='import'):
            writer.write_triplet(int(round(index / fps * 1e9)), views)
            total = index + 1
        segments = reference_layout.episode_keyframes(args.src, total, warnings)
        writer.keyframes = segments
        writer.instructions = tuple(i for i in reference_layout.load_instructions(args.src)
                                    if i) or None
    print(f'wrote {args.output}: {total} triplets, {len(segments)} keyframe segments, '
          f'{args.storage} storage, bag version {args.version}, {args.image_format} images')
    return 0
