# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rosbag2 in (ROS-free, with the rosbags library).

- read_episode(): a recording (bag folder in sqlite3 or mcap, bag versions as Humble and Jazzy
  write them; or a bare .mcap, see bag_location) into an Episode: synchronized (front, left
  wrist, right wrist) triplets, joint states, end-effector poses, commanded actions with
  intervention flags, and our ProgressStamped / RewardStamped messages when present. Images
  are decoded by images.py (raw encodings and jpeg/png CompressedImage). How it reads is set by
  one ReadOptions: camera and robot topics, slop, storage, which stamps synchronize.
- writing the same topics and types: bag_writer.py (EpisodeBagWriter, write_episode).

Reading makes two passes over the camera messages: the first collects header and receive stamps
only and plans the triplets (triplets.py: clock choice, monotonic stretches, synchronization),
the second deserializes and decodes just the chosen messages straight into preallocated arrays.
Memory stays at the output plus one message.

Keyframes and instruction paraphrases live beside the bag's metadata.yaml in the reference JSON
files (annotated_keyframes.json, task_instruction.json), as in the reference layout.
"""

from dataclasses import dataclass, field, fields
import logging
import math
from pathlib import Path
import struct

import numpy as np

from robodopamine_ros.data import images, keyframes
from robodopamine_ros.data.bag_location import BagError, locate, open_reader, STORAGE_CHOICES
from robodopamine_ros.data.episode import Episode, Stream
from robodopamine_ros.data.interfaces import deserialize, typestore
from robodopamine_ros.data.joints import JointOrder, non_finite_joints
from robodopamine_ros.data.reference_layout import INSTRUCTION_FILE, read_instruction_file
from robodopamine_ros.data.sync import CAMERA_SLOP_S
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.data.triplets import (CameraStamps, plan_triplets, robot_stream_stamps,
                                            STAMP_CHOICES)
from robodopamine_ros.data.view_slots import ViewSlots

LOG = logging.getLogger(__name__)

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
JOINT_STATE = 'sensor_msgs/msg/JointState'
POSE = 'geometry_msgs/msg/PoseStamped'
POSE_ARRAY = 'geometry_msgs/msg/PoseArray'
ACTION = 'robodopamine_interfaces/msg/ActionStamped'
PROGRESS = 'robodopamine_interfaces/msg/ProgressStamped'
REWARD = 'robodopamine_interfaces/msg/RewardStamped'
BOOL = 'std_msgs/msg/Bool'
STORAGES = ('sqlite3', 'mcap')
COMPRESSED_SUFFIX = '/compressed'


@dataclass(frozen=True)
class TopicConfig:
    """Topic names of a recording; the defaults match launch/franka_insertion.launch.py."""

    front: str = '/cameras/front/image_raw'
    left_wrist: str = '/cameras/left_wrist/image_raw'
    right_wrist: str = '/cameras/right_wrist/image_raw'
    joint_states: str = '/joint_states'
    ee_pose: str = '/robodopamine/ee_pose'
    object_poses: str = '/robodopamine/object_poses'
    action: str = '/robodopamine/action'
    progress: str = '/robodopamine/progress'
    reward: str = '/robodopamine/reward'
    success: str = '/sim_robot/success'   # the simulator's ground truth (recorded_success)

    def camera(self, view):
        return getattr(self, view)

    @classmethod
    def from_dict(cls, values, source='topics'):
        """Build from {key: topic}; keys are this class's fields. Raises ValueError naming them."""
        known = {f.name for f in fields(cls)}
        if not isinstance(values, dict):
            raise ValueError(f'{source}: expected a mapping of {sorted(known)} to topic names, '
                             f'got {type(values).__name__}')
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'{source}: unknown topic keys {unknown} (known: {sorted(known)})')
        for key, topic in values.items():
            if not isinstance(topic, str) or not topic.strip():
                raise ValueError(f'{source}: {key} must be a topic name, got {topic!r}')
        return cls(**{k: v.strip() for k, v in values.items()})

    @classmethod
    def from_yaml(cls, path):
        """Read {key: topic} from a YAML file (e.g. front: /front/color/image_raw)."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f'{path}: topic file not found')
        try:
            values = yaml.safe_load(path.read_text(encoding='utf-8'))
        except yaml.YAMLError as error:
            raise ValueError(f'{path}: not valid YAML ({error})') from error
        return cls.from_dict(values if values is not None else {}, source=str(path))


@dataclass(frozen=True)
class ReadOptions:
    """
    How to read a recorded demonstration; every command that reads one takes these.

    topics: TopicConfig (camera topic per view, robot topics). slop: largest stamp spread
    within a synchronized triplet, seconds. storage: 'auto' (metadata.yaml, else the file
    extension), 'sqlite3' or 'mcap'. stamps: 'auto' (header stamps unless unusable, then the
    bag's receive time), 'header' or 'receive'. max_pixels: an image larger than this is
    refused before it is decoded (images.MAX_PIXELS), naming its topic and stamp. contract:
    None, or the rosetta.Contract the topics came from: a bag without its topics is refused
    (Contract.check_bag). slots: a view_slots.ViewSlots whose empty views the rig has no camera
    for (their topics are not read; each frame's empty views are filled by its rule); None:
    all three. Raises ValueError naming a bad value.
    """

    topics: TopicConfig = field(default_factory=TopicConfig)
    slop: float = CAMERA_SLOP_S
    storage: str = 'auto'
    stamps: str = 'auto'
    max_pixels: int = images.MAX_PIXELS
    contract: object = None
    slots: object = None

    def __post_init__(self):
        if not isinstance(self.topics, TopicConfig):
            raise ValueError(f'topics must be a TopicConfig, got {type(self.topics).__name__}')
        if not (isinstance(self.slop, (int, float)) and math.isfinite(self.slop)
                and self.slop > 0):
            raise ValueError(f'slop must be a number of seconds > 0, got {self.slop!r}')
        if self.storage not in STORAGE_CHOICES:
            raise ValueError(f'storage must be one of {STORAGE_CHOICES}, got {self.storage!r}')
        if self.stamps not in STAMP_CHOICES:
            raise ValueError(f'stamps must be one of {STAMP_CHOICES}, got {self.stamps!r}')
        if not (isinstance(self.max_pixels, int) and not isinstance(self.max_pixels, bool)
                and self.max_pixels > 0):
            raise ValueError(f'max_pixels must be an integer > 0, got {self.max_pixels!r}')
        if self.slots is not None and not isinstance(self.slots, ViewSlots):
            raise ValueError(f'slots must be a ViewSlots, got {type(self.slots).__name__}')
        if self.contract is not None and not hasattr(self.contract, 'check_bag'):
            raise ValueError(f'contract must be a rosetta.Contract, got '
                             f'{type(self.contract).__name__}')


def stamp_ns(header):
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def _message_dict(msg):
    """Flatten one of our stamped messages into a plain dict (header -> stamp_ns, frame_id)."""
    out = {'stamp_ns': stamp_ns(msg.header), 'frame_id': msg.header.frame_id}
    for name in msg.__dataclass_fields__:
        if name not in ('header', '__msgtype__'):
            value = getattr(msg, name)
            if hasattr(value, 'nanosec'):   # a builtin_interfaces/Time field: NAME_ns
                out[f'{name}_ns'] = int(value.sec) * 1_000_000_000 + int(value.nanosec)
                continue
            out[name] = value.item() if isinstance(value, np.generic) else value
    return out


# --------------------------------------------------------------------------------------------
# reading

def _raw_messages(reader, path, connections):
    """Yield (connection, receive stamp ns, raw bytes); a broken bag raises BagError."""
    if not connections:
        return  # rosbags reads every connection when given none
    iterator = reader.messages(connections=connections)
    while True:
        try:
            connection, timestamp, raw = next(iterator)
        except StopIteration:
            return
        except Exception as error:  # rosbags raises several types for broken bags
            raise BagError(f'{path}: bag is truncated or corrupt while reading '
                           f'({type(error).__name__}: {error})') from error
        yield connection, timestamp, raw


def _sibling(topic):
    """Return the compressed topic of a raw one, and the reverse."""
    if topic.endswith(COMPRESSED_SUFFIX):
        return topic[:-len(COMPRESSED_SUFFIX)]
    return topic + COMPRESSED_SUFFIX


class MissingCameraError(BagError):
    """
    A view's camera topic (nor its raw/compressed sibling) is not in a bag or holds nothing.

    Raised as MissingCameraError(message, view); ``view``: the view (topics.VIEWS) at fault.
    """

    @property
    def view(self):
        return self.args[1]

    def __str__(self):
        return str(self.args[0])


def _camera_connections(reader, path, topic, warnings, view=None):
    """
    Return the connections of one camera: its topic, or its raw/compressed sibling.

    The asked topic is used when it has messages; else its sibling (``/compressed`` added or
    removed) when that has some, with a warning if the asked topic exists but is empty.
    Raises MissingCameraError (naming ``view``) when neither exists or has messages.
    """
    by_topic = {}
    for connection in reader.connections:
        by_topic.setdefault(connection.topic, []).append(connection)
    candidates = [name for name in (topic, _sibling(topic)) if name in by_topic]
    if not candidates:
        raise MissingCameraError(f'{path}: camera topic {topic} not found (nor '
                                 f'{_sibling(topic)}); topics in the bag: '
                                 f'{", ".join(sorted(by_topic)) or "none"}', view)
    for name in candidates:
        for connection in by_topic[name]:
            if connection.msgtype not in (IMAGE, COMPRESSED):
                raise BagError(f'{path}: topic {name} has type {connection.msgtype}, expected '
                               f'{IMAGE} or {COMPRESSED}')
    counts = {name: sum(c.msgcount for c in by_topic[name]) for name in candidates}
    chosen = next((name for name in candidates if counts[name]), None)
    if chosen is None:
        raise MissingCameraError(f'{path}: camera topic {" and ".join(candidates)} has no '
                                 'messages', view)
    if chosen != topic and topic in by_topic:
        warnings.append(f'{topic} has no messages: reading {chosen} ({counts[chosen]} '
                        'messages) instead')
    return by_topic[chosen]


def _header_stamp(raw, topic, index):
    """Read header.stamp straight from CDR bytes (every camera message starts with a Header)."""
    try:
        sec, nanosec = struct.unpack_from('<iI' if raw[1] else '>iI', raw, 4)
    except (struct.error, IndexError) as error:
        raise BagError(f'{topic}: message {index} is too short for a header '
                       f'({len(raw)} bytes)') from error
    return sec * 1_000_000_000 + nanosec


@dataclass
class _Cameras:
    """The camera connections of a bag, per view, and the stamps of their messages."""

    connections: dict    # view -> [connection]
    stamps: list         # CameraStamps per view a camera fills, in VIEWS order

    @property
    def topics(self):
        return [s.topic for s in self.stamps]


def _present(options):
    """Return the views a camera fills (VIEWS order): all three unless slots empty some."""
    return options.slots.present if options.slots is not None else VIEWS


def _camera_stamps(reader, path, options, warnings):
    """First pass: the header and receive stamps of every camera message, in bag order."""
    present = _present(options)
    connections = {v: _camera_connections(reader, path, options.topics.camera(v), warnings, v)
                   for v in present}
    view_of = {c.id: v for v, cs in connections.items() for c in cs}
    header, receive = {v: [] for v in present}, {v: [] for v in present}
    for connection, timestamp, raw in _raw_messages(
            reader, path, [c for cs in connections.values() for c in cs]):
        view = view_of[connection.id]
        header[view].append(_header_stamp(raw, connection.topic, len(header[view])))
        receive[view].append(timestamp)
    stamps = [CameraStamps(connections[v][0].topic, header[v], receive[v]) for v in present]
    return _Cameras(connections, stamps)


def plan_episode(path, options=None):
    """
    Plan a bag's synchronized triplets from stamps alone (no image is decoded).

    Returns (plan, location): a triplets.TripletPlan whose warnings include the location's
    (and are logged), and the bag_location.BagLocation. Raises FileNotFoundError, BagError or
    triplets.NoTripletsError naming the bag.
    """
    options = options or ReadOptions()
    location = locate(path, options.storage)
    with open_reader(location) as reader:
        plan, _ = _plan(reader, location, options)
    _log(location.path, plan.warnings)
    return plan, location


def _plan(reader, location, options):
    """Both passes start here: camera stamps, then the plan (warnings: location's first)."""
    warnings = list(location.warnings)
    if options.contract is not None:
        options.contract.check_bag({c.topic: c.msgtype for c in reader.connections},
                                   location.path)
    cameras = _camera_stamps(reader, location.path, options, warnings)
    plan = plan_triplets(cameras.stamps, options.slop, options.stamps,
                         where=str(location.path))
    plan.warnings[:0] = warnings
    return plan, cameras


def _log(path, warnings):
    for warning in warnings:
        LOG.warning('%s: %s', path, warning)


def read_episode(path, options=None, image_size=None, distro='jazzy', episode_id=None,
                 images=True):
    """
    Read a recording (bag folder, or a bare .mcap folder or file) into an Episode.

    options: ReadOptions (topics, slop, storage, stamps). image_size: (width, height) to
    resize to, or None for the recorded size (each image is decoded and resized on its own,
    straight into the output: memory is frames x image_size, never the recorded size).
    images: False decodes no image at all (the views are (T, 0, 0, 3): a reader that needs
    the robot's streams and the frame stamps only, as the agent's demonstrations). Warnings
    (what was dropped, reordered, which clock was used and why) are logged and kept in
    Episode.warnings; Episode.sync holds the synchronization statistics, under 'streams'
    each robot stream's topic, clock and stamp range, and under 'camera_sizes' each view's
    recorded (width, height) before any resize (empty when images is False). Raises
    FileNotFoundError, BagError, NoTripletsError or images.ImageDecodeError naming the bag,
    topic and stamp.
    """
    options = options or ReadOptions()
    store = typestore(distro)
    location = locate(path, options.storage)
    path = location.path
    with open_reader(location) as reader:
        plan, cameras = _plan(reader, location, options)
        recorded = {}   # view -> (width, height) as recorded
        views = _decode_planned(reader, path, cameras, plan, store, image_size,
                                options.max_pixels, recorded) if images \
            else {v: np.zeros((len(plan), 0, 0, 3), np.uint8) for v in _present(options)}
        if options.slots is not None:   # the rig's empty views, filled by its rule
            views = dict(zip(VIEWS, options.slots.complete(views)))
        timing = {}
        streams, joint_names, progress, rewards = _other_streams(
            reader, path, options.topics, store, _FrameClock.of(plan, cameras), plan.warnings,
            timing)
    segments, instructions = sidecar_files(location.folder, len(plan))
    _log(path, plan.warnings)
    sync = dict(plan.sync_dict(), streams=timing, camera_sizes=recorded)
    return Episode(
        episode_id=episode_id or (path.name if path.is_dir() else path.stem),
        stamps=plan.stamps, views=views, streams=streams, joint_names=joint_names,
        progress=progress, rewards=rewards, keyframes=segments, instructions=instructions,
        success=_success_from(rewards), sync=sync, warnings=list(plan.warnings))


@dataclass(frozen=True)
class _FrameClock:
    """The frames' clock, what the robot streams are read on (triplets.robot_stream_stamps)."""

    clock: str              # 'header' or 'receive'
    stamps: np.ndarray      # (T,) the frame stamps
    offset_ns: int          # the frames' clock minus the receive clock (front camera, median)

    @classmethod
    def of(cls, plan, cameras):
        front = cameras.stamps[0]
        used = plan.indices[:, 0]
        offset = 0 if plan.clock == 'receive' else \
            int(np.median(front.header[used] - front.receive[used]))
        return cls(plan.clock, plan.stamps, offset)


def _decode_planned(reader, path, cameras, plan, store, size, max_pixels=images.MAX_PIXELS,
                    recorded=None):
    """
    Second pass: decode the planned messages into (T, H, W, 3) arrays per view.

    recorded: a dict that gets each view's recorded (width, height), before the resize.
    """
    present = list(cameras.connections)   # the views a camera fills, in VIEWS order
    wanted = {v: {} for v in present}
    for triplet, row in enumerate(plan.indices):
        for view, index in zip(present, row):
            wanted[view][int(index)] = triplet
    view_of = {c.id: v for v, cs in cameras.connections.items() for c in cs}
    seen = dict.fromkeys(present, 0)
    frames, first_shape = dict.fromkeys(present), dict.fromkeys(present)
    for connection, _, raw in _raw_messages(
            reader, path, [c for cs in cameras.connections.values() for c in cs]):
        view = view_of[connection.id]
        index = seen[view]
        seen[view] += 1
        triplet = wanted[view].get(index)
        if triplet is None:
            continue
        header = cameras.stamps[present.index(view)].header[index]
        where = f'{connection.topic} at stamp {header} ns'
        full, small = _decode(connection, raw, store, where, size, first_shape[view],
                              max_pixels)
        if frames[view] is None:
            first_shape[view] = full.shape
            if recorded is not None:
                recorded[view] = (int(full.shape[1]), int(full.shape[0]))
            frames[view] = np.empty((len(plan),) + small.shape, np.uint8)
        frames[view][triplet] = small
    return frames


def _decode(connection, raw, store, where, size, first_shape, max_pixels=images.MAX_PIXELS):
    try:
        msg = deserialize(store, raw, connection.msgtype)
    except Exception as error:
        raise BagError(f'{where}: cannot deserialize a {connection.msgtype} ({error})') \
            from error
    rgb = (images.decode_image(msg, where, max_pixels) if connection.msgtype == IMAGE
           else images.decode_compressed(msg, where, max_pixels))
    if first_shape is not None and rgb.shape != first_shape:
        raise BagError(f'{where}: image is {rgb.shape[1]} x {rgb.shape[0]}, but the stream '
                       f'started at {first_shape[1]} x {first_shape[0]}')
    return rgb, images.resize(rgb, size)


def _other_streams(reader, path, topics, store, frames, warnings, timing):
    """
    Joint states, poses, actions, progress and rewards of a bag.

    frames: the _FrameClock the robot streams are read on (each by
    triplets.robot_stream_stamps: header stamps, else receive time, warned about); warnings
    gets those, and the joints whose positions are not finite (NaN or inf: named, counted);
    timing gets per robot stream its topic, the clock read and its stamp range.
    """
    wanted = {topics.joint_states: JOINT_STATE, topics.ee_pose: POSE,
              topics.object_poses: POSE_ARRAY, topics.action: ACTION,
              topics.progress: PROGRESS, topics.reward: REWARD}
    connections = []
    for connection in reader.connections:
        expected = wanted.get(connection.topic)
        if expected is None:
            continue
        if connection.msgtype != expected:
            raise BagError(f'{path}: topic {connection.topic} has type {connection.msgtype}, '
                           f'expected {expected}')
        connections.append(connection)
    # stream name -> [(header stamp, receive stamp, value)]; the topic of each
    items = {name: [] for name in ('joint_positions', 'ee_pose', 'object_poses', 'action')}
    stream_topic = {'joint_positions': topics.joint_states, 'ee_pose': topics.ee_pose,
                    'object_poses': topics.object_poses, 'action': topics.action}
    progress, rewards, flags = [], [], []
    order = None    # the first joint_states message's names: every later one is mapped to it
    for connection, received, raw in _raw_messages(reader, path, connections):
        topic, msgtype = connection.topic, connection.msgtype
        try:
            msg = deserialize(store, raw, msgtype)
        except Exception as error:
            raise BagError(f'{path}: {topic}: cannot deserialize a {msgtype} ({error})') \
                from error
        header = stamp_ns(msg.header)
        if msgtype == JOINT_STATE:   # positions by name (data/joints.py), never by index
            where = f'{topic} at stamp {header} ns'
            try:
                order = order or JointOrder(msg.name, f'{topic} (its first message)')
                items['joint_positions'].append(
                    (header, received, order.positions(msg.name, msg.position, where)))
            except ValueError as error:
                raise BagError(f'{path}: {error}') from error
        elif msgtype == POSE:
            items['ee_pose'].append((header, received, _pose_values(msg.pose)))
        elif msgtype == POSE_ARRAY:
            values = np.concatenate([_pose_values(p) for p in msg.poses]) if msg.poses \
                else np.zeros(0)
            objects = items['object_poses']
            if objects and len(values) != len(objects[0][2]):
                raise BagError(f'{path}: {topic} at stamp {header} ns holds '
                               f'{len(msg.poses)} poses, earlier messages '
                               f'{len(objects[0][2]) // 7}')
            objects.append((header, received, values))
        elif msgtype == ACTION:
            items['action'].append((header, received, np.asarray(msg.values, dtype=float)))
            flags.append(bool(msg.intervention))
        elif msgtype == PROGRESS:
            progress.append(_message_dict(msg))
        else:
            rewards.append(_message_dict(msg))
    if order is not None:
        _warn_non_finite(topics.joint_states, order.names,
                         np.stack([v for _, _, v in items['joint_positions']]), warnings)
    streams = {}
    for name, recorded in items.items():
        if not recorded:
            continue
        topic = stream_topic[name]
        try:
            stamps, clock, warning = robot_stream_stamps(
                topic, [h for h, _, _ in recorded], [r for _, r, _ in recorded],
                frames.stamps, frames.clock, frames.offset_ns)
        except ValueError as error:
            raise BagError(f'{path}: {error}') from error
        if warning:
            warnings.append(warning)
        sort = np.argsort(stamps, kind='stable')
        values = np.stack([recorded[k][2] for k in sort])
        streams[name] = Stream(stamps[sort], values)
        if name == 'action':
            streams['intervention'] = Stream(stamps[sort], np.array(flags)[sort])
        first = int(frames.stamps[0])
        timing[name] = {'topic': topic, 'clock': clock, 'messages': len(stamps),
                        'first_s': (int(stamps.min()) - first) / 1e9,
                        'last_s': (int(stamps.max()) - first) / 1e9}
    return streams, order.names if order else (), progress, rewards


def _warn_non_finite(topic, names, positions, warnings):
    """Warn naming the joints whose recorded positions are NaN or inf, and in how many."""
    bad = non_finite_joints(names, positions)
    if bad:
        rows = int((~np.isfinite(positions)).any(axis=1).sum())
        warnings.append(f'{topic}: positions of {bad} are not finite (NaN or inf) in {rows} of '
                        f'{len(positions)} messages')


def _pose_values(pose):
    """Return a geometry_msgs Pose as x, y, z, qx, qy, qz, qw."""
    p, q = pose.position, pose.orientation
    return np.array([p.x, p.y, p.z, q.x, q.y, q.z, q.w])


def _success_from(rewards):
    if not rewards:
        return None
    return bool(rewards[-1]['terminal'] and rewards[-1]['sparse_reward'] > 0)


def sidecar_files(folder, num_frames):
    """Keyframes (checked against num_frames) and instructions stored in a bag's folder."""
    segments, instructions = [], ('',)
    keyframe_file = folder / keyframes.KEYFRAME_FILE
    if keyframe_file.is_file():
        segments = keyframes.load_keyframes(keyframe_file, num_frames=num_frames)
    instruction_file = folder / INSTRUCTION_FILE
    if instruction_file.is_file():
        instructions = read_instruction_file(instruction_file)
    return segments, instructions


def bag_topics(path, storage='auto'):
    """
    Return ({topic: (msgtype, message count)}, info) of a recording.

    info: duration_s, messages, storage, version (None for a bare file), metadata (False for a
    bare file) and warnings.
    """
    location = locate(path, storage)
    with open_reader(location) as reader:
        counts = {}
        for c in reader.connections:
            msgtype, count = counts.get(c.topic, (c.msgtype, 0))
            counts[c.topic] = (msgtype, count + c.msgcount)
        info = {'duration_s': reader.duration / 1e9, 'messages': reader.message_count,
                'storage': location.storage, 'version': location.version,
                'metadata': not location.bare, 'warnings': list(location.warnings)}
    return counts, info


def recorded_success(path, options=None, distro='jazzy'):
    """
    Return the robot's own verdict on a recording: True (succeeded), False (failed) or None.

    The simulated robot publishes std_msgs/Bool on ``sim_robot/success`` after every step (True
    once the peg is in) and the launch file records it in collect mode. A recording holding
    that topic (options.topics.success) succeeded when any message is true, and failed
    otherwise: the scripted expert gave up on the layout, or the recording stopped first.
    None without the topic (a real arm has no such ground truth). Raises BagError for the
    topic with another type.
    """
    options = options or ReadOptions()
    location = locate(path, options.storage)
    with open_reader(location) as reader:
        connections = [c for c in reader.connections if c.topic == options.topics.success]
        if not connections:
            return None
        for connection in connections:
            if connection.msgtype != BOOL:
                raise BagError(f'{location.path}: topic {connection.topic} has type '
                               f'{connection.msgtype}, expected {BOOL}')
        store = typestore(distro)
        return any(deserialize(store, raw, BOOL).data
                   for _, _, raw in _raw_messages(reader, location.path, connections))
