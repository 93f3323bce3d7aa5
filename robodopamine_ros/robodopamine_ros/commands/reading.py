# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The demo-reading options every command that reads a demonstration takes, defined once.

``add_reading_arguments(parser)`` adds them; ``read_options(args)`` turns them into the one
bags.ReadOptions the reader takes (demos.load_demo / demo_outline):

- ``--topics FILE.yaml``: {key: topic} with keys front, left_wrist, right_wrist (cameras),
  joint_states, ee_pose, object_poses, action, progress, reward;
- ``--contract FILE.yaml``: a Rosetta contract (data/rosetta.py) gives the topics instead:
  its image keys the three views, ``observation.state`` joint_states (and ee_pose), ``action``
  the action topic; what it holds that the reader does not read is logged once; a bag without
  the contract's observation and action topics is refused. Not with ``--topics``;
- ``--front-topic``, ``--left-wrist-topic``, ``--right-wrist-topic``: camera topic per view,
  over ``--topics`` or ``--contract`` (a raw Image topic with no messages falls back to its
  ``/compressed`` sibling, and back);
- ``--slop S``: seconds, the largest stamp spread within a synchronized triplet (0.02);
- ``--storage auto|sqlite3|mcap``: the bag's storage (auto: metadata.yaml, else the file
  extension); ``import-demo`` calls it ``--input-storage``, its ``--storage`` is the output's;
- ``--stamps auto|header|receive``: which stamps synchronize (auto: header stamps unless
  zero or constant, then the bag's receive time);
- ``--empty-views VIEW...`` and ``--fill RULE``: a rig without all three views
  (data/view_slots.py): the empty views' topics are not read, each frame's empty views are
  filled by the rule (repeat:<view> or blank);
- ``--max-pixels N``: an image of more pixels is refused before it is decoded, naming its
  topic and stamp (default 4096 x 4096; data/images.py).
"""

import logging

from robodopamine_ros.data.bag_location import STORAGE_CHOICES
from robodopamine_ros.data.triplets import STAMP_CHOICES

LOG = logging.getLogger(__name__)
_LOGGED = set()
CAMERA_OPTIONS = {'front': '--front-topic', 'left_wrist': '--left-wrist-topic',
                  'right_wrist': '--right-wrist-topic'}


def add_reading_arguments(parser, storage_flag='--storage'):
    """Add the reading options to an argparse parser (an argument group 'reading a demo')."""
    group = parser.add_argument_group(
        'reading a demo', 'how a recorded bag is read (the reference layout ignores these)')
    group.add_argument('--topics', dest='read_topics', default=None, metavar='FILE.yaml',
                       help='YAML mapping of front, left_wrist, right_wrist (and joint_states, '
                            'ee_pose, object_poses, action, progress, reward) to topic names')
    group.add_argument('--contract', dest='read_contract', default=None, metavar='FILE.yaml',
                       help='a Rosetta contract (v2) naming the topics: image keys -> views, '
                            'observation.state -> joint_states, action (not with --topics)')
    for view, flag in CAMERA_OPTIONS.items():
        group.add_argument(flag, dest=f'read_{view}_topic', default=None, metavar='TOPIC',
                           help=f'{view.replace("_", " ")} camera topic (default '
                                f'/cameras/{view}/image_raw)')
    group.add_argument('--slop', dest='read_slop', type=float, default=0.02, metavar='S',
                       help='largest stamp spread in a synchronized triplet, seconds (0.02)')
    group.add_argument(storage_flag, dest='read_storage', choices=STORAGE_CHOICES,
                       default='auto',
                       help='bag storage: auto (metadata.yaml, else the file extension)')
    group.add_argument('--stamps', dest='read_stamps', choices=STAMP_CHOICES, default='auto',
                       help='stamps that synchronize the cameras: auto (header stamps unless '
                            'zero or constant, then receive time), header, receive')
    group.add_argument('--empty-views', dest='read_empty_views', nargs='+', default=(),
                       metavar='VIEW', help='views the rig has no camera for (front, '
                                            'left_wrist, right_wrist): not read, filled by '
                                            '--fill')
    group.add_argument('--fill', dest='read_fill', default='', metavar='RULE',
                       help="the rule for an empty view: repeat:<view> (another view's image) "
                            'or blank (a black image)')
    group.add_argument('--max-pixels', dest='read_max_pixels', type=int, default=None,
                       metavar='N', help='refuse an image of more pixels before decoding it '
                                         '(default 16777216: 4096 x 4096)')


def read_options(args):
    """Build bags.ReadOptions from parsed arguments; raises ValueError naming a bad option."""
    from robodopamine_ros.data.bags import ReadOptions, TopicConfig

    values, contract = {}, None
    views = {view: getattr(args, f'read_{view}_topic') for view in CAMERA_OPTIONS}
    views = {view: topic for view, topic in views.items() if topic is not None}
    if getattr(args, 'read_contract', None):
        from robodopamine_ros.data.rosetta import load_contract

        if args.read_topics:
            raise ValueError('--contract and --topics both name the topics: give one')
        contract = load_contract(args.read_contract)
        for note in contract.ignored:
            if (contract.path, note) not in _LOGGED:   # once per run, however often read
                _LOGGED.add((contract.path, note))
                LOG.warning('%s: %s', contract.path, note)
        contract = contract.with_views(views)
        values = dict(vars(contract.topic_config()))
    elif args.read_topics:
        values = dict(vars(TopicConfig.from_yaml(args.read_topics)))
    values.update(views)
    topics = TopicConfig.from_dict(values, source='camera topic options') if values \
        else TopicConfig()
    extra = {} if getattr(args, 'read_max_pixels', None) is None \
        else {'max_pixels': args.read_max_pixels}
    empty, fill = getattr(args, 'read_empty_views', ()), getattr(args, 'read_fill', '')
    if empty or fill:   # a rig without all three views (data/view_slots.py)
        from robodopamine_ros.data.view_slots import ViewSlots

        extra['slots'] = ViewSlots.without({v: topics.camera(v) for v in CAMERA_OPTIONS},
                                           empty, fill)
    return ReadOptions(topics=topics, slop=args.read_slop, storage=args.read_storage,
                       stamps=args.read_stamps, contract=contract, **extra)
