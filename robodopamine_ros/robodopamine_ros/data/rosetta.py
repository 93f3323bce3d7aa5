# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Rosetta contracts read into our topics (ROS-free).

A Rosetta contract (github.com/iblnkn/rosetta, contract format v2, the one its loader reads)
says which topics the frames of a robot's LeRobot dataset come from. ``load_contract(path)``
reads one, its structure checked as strictly as Rosetta's loader checks it (rosetta_schema.py:
unknown keys, duplicate YAML keys, empty or null sections, the v1 list form, a missing
``channel`` or ``align``, ...: ContractError naming the file and the field), and maps it onto
what our reader reads (bags.TopicConfig):

- ``observations`` ``observation.images.<name>``: a camera, one of our views (topics.VIEWS)
  by its name. The name's words (split at ``.``, ``_`` and ``-``; the words cam, camera,
  image, rgb and color left out) are, in any order, ``front``, ``left wrist`` or ``right
  wrist``: ``front``, ``front_camera``, ``left_wrist``, ``wrist_left``, ``wrist.left``. A
  contract may name the view of any image key in its top-level ``x-robodopamine`` key, which
  Rosetta ignores (``x-robodopamine: {views: {front: observation.images.top}}``). Each view
  gets one image key and each image key a view, else the contract is refused naming both.
- ``observations`` ``observation.state``: its sensor_msgs/msg/JointState source is our
  joint_states, its geometry_msgs/msg/PoseStamped source our ee_pose (one of each at most).
- ``actions`` ``action``: our action topic when it is a robodopamine_interfaces ActionStamped.
- ``fps``, ``robot_type`` and the ``tasks`` topics are kept; topics the contract does not
  give keep TopicConfig's defaults.

Ignored by the reader, always: ``align`` (it synchronizes the three cameras by their stamps,
--slop and --stamps, and reads the robot streams on the frames' clock), ``fps``, ``qos``,
``dtype``, ``kind``, ``decoder``, ``encoder``, ``safety`` and image ``apply`` (the commands
choose the image size). What else a contract holds that the reader does not read (a
``select`` of joints: every joint is read, by name; ``apply: [rad2deg]``; another observation
or action key; a non-ActionStamped action; tasks, rewards, signals, info,
complementary_data, adjunct, teleop) is listed in ``Contract.ignored``.

``Contract.topics`` (every section's but teleop's) are what recorder_node records, and
``Contract.custom_data()`` embeds the contract in the bag as Rosetta's recorder does:
metadata.yaml custom_data ``rosetta.contract_yaml`` (the file's text) and
``rosetta.contract_hash`` (sha256 of its bytes). ``Contract.check_bag`` refuses a bag without
the contract's observation and action topics, listing the contract's topics and the bag's.
"""

from dataclasses import dataclass, field, replace
import hashlib
from pathlib import Path
import re

from robodopamine_ros.data.bag_location import BagError
from robodopamine_ros.data.bags import (ACTION, COMPRESSED, IMAGE, JOINT_STATE, POSE,
                                        TopicConfig)
from robodopamine_ros.data.rosetta_schema import (contract_error, ContractError,
                                                  EXTENDED_SECTIONS, IMAGE_PREFIX,
                                                  read_document)
from robodopamine_ros.data.topics import VIEWS

__all__ = ['Contract', 'ContractError', 'load_contract', 'parse_contract', 'recorded_topics']

BAG_CONTRACT_KEY = 'rosetta.contract_yaml'
BAG_CONTRACT_HASH_KEY = 'rosetta.contract_hash'
STATE_KEY, ACTION_KEY = 'observation.state', 'action'
OUR_KEY = 'x-robodopamine'
# the words of an image key's name that name a view; FILLER words are left out
VIEW_WORDS = {'front': {'front'}, 'left_wrist': {'left', 'wrist'},
              'right_wrist': {'right', 'wrist'}}
FILLER = {'cam', 'camera', 'image', 'rgb', 'color'}


@dataclass(frozen=True, eq=False)
class Contract:
    """A Rosetta contract mapped onto our reader (module docstring); from load_contract."""

    path: str
    text: str                   # the file as read, embedded in a recorded bag
    sha256: str                 # of the file's bytes
    robot_type: str
    fps: int
    views: dict                 # view -> camera topic
    image_keys: dict            # view -> its image key
    joint_states: str = None
    ee_pose: str = None
    action: str = None
    tasks: dict = field(default_factory=dict)      # task key -> topic
    topics: dict = field(default_factory=dict)     # every topic named -> its type, in order
    checked: tuple = ()         # the topics a bag must hold: observations' and actions'
    ignored: tuple = ()         # what the reader does not read, one line each

    def topic_config(self, base=None):
        """Return bags.TopicConfig: `base` (default TopicConfig()) with the contract's topics."""
        given = {'joint_states': self.joint_states, 'ee_pose': self.ee_pose,
                 'action': self.action}
        return replace(base or TopicConfig(), **self.views,
                       **{k: v for k, v in given.items() if v is not None})

    def with_views(self, topics):
        """
        Return a copy whose views {view: topic} are replaced (the per-view reading options).

        The contract's own topics of those views are no longer required in a bag.
        """
        if not topics:
            return self
        views = dict(self.views, **topics)
        dropped = {self.views[v] for v in topics} - set(views.values()) \
            - {self.joint_states, self.ee_pose, self.action}
        return replace(self, views=views,
                       checked=tuple(t for t in self.checked if t not in dropped))

    def check_bag(self, bag_topics, where):
        """
        Refuse a bag without the contract's observation and action topics, or of other types.

        bag_topics: {topic: msgtype} of the bag. Raises BagError naming the bag and the
        contract, listing the contract's topics and the bag's.
        """
        missing = [t for t in self.checked if t not in bag_topics]
        if missing:
            raise BagError(f'{where}: contract {self.path} names topics the bag does not '
                           f'hold: {", ".join(missing)} (the contract\'s topics: '
                           f'{", ".join(self.checked)}; the bag\'s: '
                           f'{", ".join(sorted(bag_topics)) or "none"})')
        for topic in self.checked:
            if bag_topics[topic] != self.topics[topic]:
                raise BagError(f'{where}: topic {topic} has type {bag_topics[topic]}, but '
                               f'contract {self.path} says {self.topics[topic]}')

    def custom_data(self):
        """Return the bag metadata custom_data embedding this contract, as Rosetta's does."""
        return {BAG_CONTRACT_KEY: self.text, BAG_CONTRACT_HASH_KEY: self.sha256}


def recorded_topics(contract, topics, default_topics):
    """
    Return the topics recorder_node records: `topics` without a contract.

    With one: the contract's topics, then those of `topics` it does not name, unless `topics`
    is `default_topics` (the parameter left at its default).
    """
    if contract is None:
        return list(topics)
    extra = [] if list(topics) == list(default_topics) else list(topics)
    return list(dict.fromkeys(list(contract.topics) + extra))


def load_contract(path):
    """Read a Rosetta contract file; FileNotFoundError, or ContractError naming the field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: contract file not found')
    raw = path.read_bytes()
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError as error:
        raise ContractError(f'{path}: not a UTF-8 text file ({error})') from None
    return parse_contract(text, str(path), hashlib.sha256(raw).hexdigest())


def parse_contract(text, path='contract', sha256=None):
    """Parse a contract's YAML text (module docstring); ContractError naming the field."""
    try:
        document = read_document(text, path)
        return _Mapper(path).contract(document, text,
                                      sha256 or hashlib.sha256(text.encode()).hexdigest())
    except (TypeError, RecursionError) as error:   # e.g. a list used as a mapping key
        raise ContractError(f'{path}: not a contract of the expected structure '
                            f'({type(error).__name__}: {error})') from None


class _Mapper:
    """A contract's Document onto our reader; what it does not read goes to `ignored`."""

    def __init__(self, path):
        self.path = path
        self.ignored = []

    def error(self, where, problem):
        return contract_error(self.path, where, problem)

    def contract(self, document, text, sha256):
        sections = document.sections
        views, image_keys = self.views(sections['observations'],
                                       document.extensions.get(OUR_KEY))
        state = self.state(sections['observations'].get(STATE_KEY, ()))
        action = self.action(sections['actions'])
        for key in sections['observations']:
            if key != STATE_KEY and not key.startswith(IMAGE_PREFIX):
                self.ignored.append(f'observations.{key}: recorded, not read')
        for section in EXTENDED_SECTIONS:
            self.ignored += [f'{section}.{key}: recorded, not read' for key in sections[section]]
        self.ignored += [f'tasks.{key}: {topic} recorded, not read (the instructions are '
                         'task_instruction.json beside the bag)'
                         for key, (topic, _) in document.tasks.items()]
        self.ignored += [f'adjunct[{i}]: {topic} recorded, not read'
                         for i, (topic, _) in enumerate(document.adjunct)]
        if document.teleop:
            self.ignored.append('teleop: ignored (neither recorded nor read)')
        sources = [s for entries in sections.values() for e in entries.values() for s in e]
        topics = {}
        for topic, msgtype in [(s.topic, s.msgtype) for s in sources] \
                + list(document.tasks.values()) + document.adjunct:
            topics.setdefault(topic, msgtype)
        checked = [s.topic for section in ('observations', 'actions')
                   for e in sections[section].values() for s in e]
        return Contract(path=self.path, text=text, sha256=sha256,
                        robot_type=document.robot_type, fps=document.fps, views=views,
                        image_keys=image_keys, **state, action=action,
                        tasks={k: t for k, (t, _) in document.tasks.items()}, topics=topics,
                        checked=tuple(dict.fromkeys(checked)), ignored=tuple(self.ignored))

    def views(self, observations, ours):
        """({view: topic}, {view: image key}) by VIEW_WORDS and x-robodopamine.views."""
        images = {k: s for k, s in observations.items() if k.startswith(IMAGE_PREFIX)}
        for key, sources in images.items():
            where = f'observations.{key}'
            if len(sources) > 1:
                raise self.error(where, 'an image key has one source, not a list')
            if sources[0].msgtype not in (IMAGE, COMPRESSED):
                raise self.error(f'{where}.channel.type', f'an image is {IMAGE} or '
                                 f'{COMPRESSED}, got {sources[0].msgtype}')
            if sources[0].select is not None:
                raise self.error(f'{where}.select', 'an image takes no select')
        chosen = self.our_views(ours, images)
        for key in images:
            words = set(re.split(r'[._-]', key[len(IMAGE_PREFIX):].lower())) - FILLER
            view = next((v for v, w in VIEW_WORDS.items() if w == words), None)
            if key not in chosen.values() and view is not None:
                chosen.setdefault(view, key)
        unmapped = [k for k in images if k not in chosen.values()]
        missing = [v for v in VIEWS if v not in chosen]
        if unmapped or missing:
            raise self.error('observations', (
                f'image keys {unmapped} map to none of our views (or to one another key '
                'has)' if unmapped else
                f'no image key for our view(s) {missing}')
                + f' (views: {", ".join(VIEWS)}; image keys: {", ".join(images) or "none"}; '
                'a key names a view by its words, front, left wrist or right wrist, or in '
                f'{OUR_KEY}: {{views: {{front: {IMAGE_PREFIX}top, ...}}}})')
        return ({v: images[chosen[v]][0].topic for v in VIEWS},
                {v: chosen[v] for v in VIEWS})

    def our_views(self, ours, images):
        """{view: image key} that x-robodopamine.views names."""
        if ours is None:
            return {}
        if not isinstance(ours, dict) or set(ours) - {'views'}:
            raise self.error(OUR_KEY, f'must be {{views: {{view: image key}}}}, got {ours!r}')
        views = ours.get('views') or {}
        if not isinstance(views, dict) or set(views) - set(VIEWS):
            raise self.error(f'{OUR_KEY}.views', f'must map our views ({", ".join(VIEWS)}) to '
                             f'image keys, got {views!r}')
        for view, key in views.items():
            if key not in images:
                raise self.error(f'{OUR_KEY}.views.{view}', f'{key!r} is not an image key of '
                                 f'the contract ({", ".join(images) or "none"})')
        if len(set(views.values())) < len(views):
            raise self.error(f'{OUR_KEY}.views', f'one image key for two views: {views}')
        return dict(views)

    def state(self, sources):
        """joint_states and ee_pose from observation.state; the rest is noted as not read."""
        found = {}
        for source in sources:
            name = {JOINT_STATE: 'joint_states', POSE: 'ee_pose'}.get(source.msgtype)
            if name is None:
                self.ignored.append(f'{source.where}: {source.topic} ({source.msgtype}) not read '
                                    f'(the reader reads a {JOINT_STATE} and a {POSE})')
                continue
            if name in found:
                raise self.error(source.where, f'a second {source.msgtype} source; the reader '
                                 f'reads one ({found[name]})')
            found[name] = source.topic
            if source.select is not None and name == 'joint_states':
                self.ignored.append(f'{source.where}: select ignored: every joint of '
                                    f'{source.topic} is read, by name')
            if source.apply:
                self.ignored.append(f'{source.where}: apply {list(source.apply)} ignored: '
                                    'values are read as recorded')
        return found

    def action(self, actions):
        """Our action topic (ActionStamped), or None; the rest is noted as not read."""
        topic = None
        for key, sources in actions.items():
            for source in sources:
                if key == ACTION_KEY and len(sources) == 1 and source.msgtype == ACTION:
                    topic = source.topic
                else:
                    self.ignored.append(f'{source.where}: {source.topic} ({source.msgtype}) '
                                        f'recorded, not read (the reader reads one {ACTION})')
        return topic
