# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rosbag2 in and out (ROS-free, with the rosbags library).

- read_episode(): a bag folder (sqlite3 or mcap; bag versions as Humble and Jazzy write them)
  into an Episode: synchronized (front, left wrist, right wrist) triplets, joint states,
  end-effector poses, commanded actions with intervention flags, and our ProgressStamped /
  RewardStamped messages when present. sensor_msgs/Image (rgb8, bgr8, rgba8, bgra8, mono8) and
  sensor_msgs/CompressedImage (jpeg, png) are decoded.
- EpisodeBagWriter / write_episode(): the same topics and types out, in either storage format.
  The bag is written into a temporary folder and renamed into place when complete, so a failed
  write never leaves a partial bag behind.

Keyframes and instruction paraphrases live beside the bag's metadata.yaml in the reference JSON
files (annotated_keyframes.json, task_instruction.json), as in the reference layout.
"""

from dataclasses import dataclass, fields
import heapq
import json
import logging
import os
from pathlib import Path
import shutil
import struct
import tempfile

import numpy as np

from robodopamine_ros import images, keyframes
from robodopamine_ros.episode import Episode, Stream, VIEWS
from robodopamine_ros.interfaces import deserialize, typestore
from robodopamine_ros.reference_layout import INSTRUCTION_FILE, read_instruction_file
from robodopamine_ros.sync import ApproximateTimeSynchronizer

LOG = logging.getLogger(__name__)

IMAGE = 'sensor_msgs/msg/Image'
COMPRESSED = 'sensor_msgs/msg/CompressedImage'
JOINT_STATE = 'sensor_msgs/msg/JointState'
POSE = 'geometry_msgs/msg/PoseStamped'
ACTION = 'robodopamine_interfaces/msg/ActionStamped'
PROGRESS = 'robodopamine_interfaces/msg/ProgressStamped'
REWARD = 'robodopamine_interfaces/msg/RewardStamped'
STORAGES = ('sqlite3', 'mcap')


class BagError(ValueError):
    """A bag that cannot be used; the message names the file, topic, stamp or index."""


@dataclass(frozen=True)
class TopicConfig:
    """Topic names of a recording; the defaults match launch/franka_insertion.launch.py."""

    front: str = '/cameras/front/image_raw'
    left_wrist: str = '/cameras/left_wrist/image_raw'
    right_wrist: str = '/cameras/right_wrist/image_raw'
    joint_states: str = '/joint_states'
    ee_pose: str = '/robodopamine/ee_pose'
    action: str = '/robodopamine/action'
    progress: str = '/robodopamine/progress'
    reward: str = '/robodopamine/reward'

    def camera(self, view):
        return getattr(self, view)

    @classmethod
    def from_dict(cls, values):
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f'unknown topic keys {unknown} (known: {sorted(known)})')
        return cls(**values)


def stamp_ns(header):
    return int(header.stamp.sec) * 1_000_000_000 + int(header.stamp.nanosec)


def _message_dict(msg):
    """Flatten one of our stamped messages into a plain dict (header -> stamp_ns, frame_id)."""
    out = {'stamp_ns': stamp_ns(msg.header), 'frame_id': msg.header.frame_id}
    for name in msg.__dataclass_fields__:
        if name not in ('header', '__msgtype__'):
            value = getattr(msg, name)
            out[name] = value.item() if isinstance(value, np.generic) else value
    return out


# --------------------------------------------------------------------------------------------
# reading

def _open_reader(path):
    from rosbags.rosbag2 import Reader

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'{path}: no such bag')
    try:
        reader = Reader(path)
        reader.open()
    except Exception as error:  # rosbags raises several types for broken bags
        raise BagError(f'{path}: cannot open bag ({type(error).__name__}: {error})') from error
    return reader


def _messages(reader, path, connections, store):
    """Yield (topic, msgtype, msg) of the given connections, naming the bag on failure."""
    if not connections:
        return  # rosbags reads every connection when given none
    for connection, raw in _raw_messages(reader, path, connections):
        try:
            msg = deserialize(store, raw, connection.msgtype)
        except Exception as error:
            raise BagError(f'{path}: {connection.topic}: cannot deserialize a '
                           f'{connection.msgtype} ({error})') from error
        yield connection.topic, connection.msgtype, msg


def _camera_connection(reader, path, topic):
    by_topic = {c.topic: c for c in reader.connections}
    for name in (topic, topic + '/compressed'):
        connection = by_topic.get(name)
        if connection is not None:
            if connection.msgtype not in (IMAGE, COMPRESSED):
                raise BagError(f'{path}: topic {name} has type {connection.msgtype}, expected '
                               f'{IMAGE} or {COMPRESSED}')
            return connection
    raise BagError(f'{path}: camera topic {topic} not found (nor {topic}/compressed); topics '
                   f'in the bag: {", ".join(sorted(by_topic)) or "none"}')


def _header_stamp(raw):
    """Read header.stamp straight from CDR bytes (every camera message starts with a Header)."""
    sec, nanosec = struct.unpack_from('<iI' if raw[1] else '>iI', raw, 4)
    return sec * 1_000_000_000 + nanosec


class _TripletDecoder:
    """
    Streaming three-camera synchronization and decoding, in one pass over the bag.

    Each camera goes through a small reorder buffer (messages released in header-stamp order;
    anything later than the window is dropped and counted), then the approximate-time
    synchronizer; only the messages of a synchronized triplet are deserialized and decoded,
    straight into preallocated arrays. Memory stays at the output plus a few messages.
    """

    def __init__(self, path, cameras, store, slop, image_size, reorder_window=16):
        self.path, self.cameras, self.store, self.size = path, cameras, store, image_size
        self.window = reorder_window
        self.sync = ApproximateTimeSynchronizer(len(VIEWS), slop, queue_size=64)
        self.sync.registerCallback(self._on_triplet)
        self.buffers = {v: [] for v in VIEWS}
        self.stamps = {v: [] for v in VIEWS}     # every stamp seen, for the statistics
        self.released = dict.fromkeys(VIEWS)
        self.late = dict.fromkeys(VIEWS, 0)
        self.duplicates = dict.fromkeys(VIEWS, 0)
        self.capacity = max(1, min(c.msgcount for c in cameras.values()))
        self.frames = dict.fromkeys(VIEWS)
        self.first_shape = dict.fromkeys(VIEWS)
        self.triplet_stamps = []

    def add(self, view, raw):
        stamp = _header_stamp(raw)
        self.stamps[view].append(stamp)
        heapq.heappush(self.buffers[view], (stamp, len(self.stamps[view]), raw))
        if len(self.buffers[view]) > self.window:
            self._release(view)

    def _release(self, view):
        stamp, _, raw = heapq.heappop(self.buffers[view])
        last = self.released[view]
        if last is not None and stamp <= last:
            if stamp == last:
                self.duplicates[view] += 1
            else:
                self.late[view] += 1
            return
        self.released[view] = stamp
        self.sync.add(VIEWS.index(view), stamp, raw)

    def finish(self):
        for view in VIEWS:
            while self.buffers[view]:
                self._release(view)
        self.sync.flush()

    def _on_triplet(self, *items):
        index = len(self.triplet_stamps)
        self.triplet_stamps.append(items[0][0])
        for view, (stamp, raw) in zip(VIEWS, items):
            connection = self.cameras[view]
            full, small = _decode(connection, raw, self.store, stamp, self.size,
                                  self.first_shape[view])
            if self.frames[view] is None:
                self.first_shape[view] = full.shape
                self.frames[view] = np.empty((self.capacity,) + small.shape, np.uint8)
            if index >= len(self.frames[view]):  # more triplets than the metadata promised
                self.frames[view] = np.concatenate([self.frames[view],
                                                    np.empty_like(self.frames[view])])
            self.frames[view][index] = small

    def warnings(self):
        out = []
        for view in VIEWS:
            topic, stamps = self.cameras[view].topic, np.array(self.stamps[view], np.int64)
            out_of_order = int(np.sum(np.diff(stamps) < 0))
            if out_of_order:
                out.append(f'{topic}: {out_of_order} messages with out-of-order header stamps '
                           f'(reordered within {self.window} messages; {self.late[view]} '
                           'arrived too late and were dropped)')
            if self.duplicates[view]:
                out.append(f'{topic}: {self.duplicates[view]} messages with a duplicate header '
                           'stamp dropped')
            stamps = np.unique(stamps)
            if len(stamps) > 2:
                period = float(np.median(np.diff(stamps)))
                for g in np.nonzero(np.diff(stamps) > max(5 * period, 0.5e9))[0]:
                    out.append(f'{topic}: no frames for {(stamps[g + 1] - stamps[g]) / 1e9:.2f}'
                               f' s after stamp {stamps[g]} ns')
        return out


def _decode(connection, raw, store, stamp, size, first_shape):
    where = f'{connection.topic} at stamp {stamp} ns'
    try:
        msg = deserialize(store, raw, connection.msgtype)
    except Exception as error:
        raise BagError(f'{where}: cannot deserialize ({error})') from error
    rgb = (images.decode_image(msg, where) if connection.msgtype == IMAGE
           else images.decode_compressed(msg, where))
    if first_shape is not None and rgb.shape != first_shape:
        raise BagError(f'{where}: image is {rgb.shape[1]} x {rgb.shape[0]}, but the stream '
                       f'started at {first_shape[1]} x {first_shape[0]}')
    return rgb, images.resize(rgb, size)


def _raw_messages(reader, path, connections):
    """Yield (connection, raw bytes); a broken bag raises BagError naming the file."""
    iterator = reader.messages(connections=connections)
    while True:
        try:
            connection, _, raw = next(iterator)
        except StopIteration:
            return
        except Exception as error:  # rosbags raises several types for broken bags
            raise BagError(f'{path}: bag is truncated or corrupt while reading '
                           f'({type(error).__name__}: {error})') from error
        yield connection, raw


def read_episode(path, topics=TopicConfig(), slop=0.02, image_size=None, distro='jazzy',
                 episode_id=None):
    """
    Read a bag folder into an Episode.

    slop: the largest stamp spread (seconds) within a synchronized triplet. image_size:
    (width, height) to resize to, or None for the recorded size.
    """
    path = Path(path)
    store = typestore(distro)
    reader = _open_reader(path)
    warnings = []
    try:
        cameras = {v: _camera_connection(reader, path, topics.camera(v)) for v in VIEWS}
        for view, connection in cameras.items():
            if connection.msgcount == 0:
                raise BagError(f'{path}: camera topic {connection.topic} has no messages')
        decoder = _TripletDecoder(path, cameras, store, slop, image_size)
        view_of = {c.topic: v for v, c in cameras.items()}
        for connection, raw in _raw_messages(reader, path, list(cameras.values())):
            decoder.add(view_of[connection.topic], raw)
        decoder.finish()
        stats = decoder.sync.stats
        count = len(decoder.triplet_stamps)
        if not count:
            raise BagError(f'{path}: no synchronized triplets within a slop of {slop} s '
                           f'(cameras {", ".join(topics.camera(v) for v in VIEWS)})')
        warnings.extend(decoder.warnings())
        for view, dropped in zip(VIEWS, stats.dropped):
            if dropped:
                warnings.append(f'{topics.camera(view)}: {dropped} of '
                                f'{len(decoder.stamps[view])} frames not synchronized '
                                f'(slop {slop} s), dropped')
        views = {v: decoder.frames[v][:count] for v in VIEWS}
        episode_streams, joint_names, progress, rewards = _other_streams(
            reader, path, topics, store)
    finally:
        reader.close()
    segments, instructions = _sidecar_files(path, count)
    for warning in warnings:
        LOG.warning('%s: %s', path, warning)
    return Episode(
        episode_id=episode_id or path.name,
        stamps=np.array(decoder.triplet_stamps, dtype=np.int64), views=views,
        streams=episode_streams, joint_names=joint_names, progress=progress, rewards=rewards,
        keyframes=segments, instructions=instructions,
        success=_success_from(rewards), sync=stats.as_dict(), warnings=warnings)


def _other_streams(reader, path, topics, store):
    wanted = {topics.joint_states: JOINT_STATE, topics.ee_pose: POSE, topics.action: ACTION,
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
    joints, poses, actions, progress, rewards = [], [], [], [], []
    joint_names = ()
    for topic, msgtype, msg in _messages(reader, path, connections, store):
        if msgtype == JOINT_STATE:
            joint_names = joint_names or tuple(msg.name)
            if tuple(msg.name) != joint_names:
                raise BagError(f'{path}: {topic} at stamp {stamp_ns(msg.header)} ns names '
                               f'joints {list(msg.name)}, expected {list(joint_names)}')
            joints.append((stamp_ns(msg.header), np.asarray(msg.position, dtype=float)))
        elif msgtype == POSE:
            p, q = msg.pose.position, msg.pose.orientation
            poses.append((stamp_ns(msg.header), np.array([p.x, p.y, p.z, q.x, q.y, q.z, q.w])))
        elif msgtype == ACTION:
            actions.append((stamp_ns(msg.header), np.asarray(msg.values, dtype=float),
                            bool(msg.intervention)))
        elif msgtype == PROGRESS:
            progress.append(_message_dict(msg))
        else:
            rewards.append(_message_dict(msg))
    streams = {}
    for name, items in (('joint_positions', joints), ('ee_pose', poses)):
        if items:
            items.sort(key=lambda item: item[0])
            streams[name] = Stream([s for s, _ in items], np.stack([v for _, v in items]))
    if actions:
        actions.sort(key=lambda item: item[0])
        stamps = [s for s, _, _ in actions]
        streams['action'] = Stream(stamps, np.stack([v for _, v, _ in actions]))
        streams['intervention'] = Stream(stamps, np.array([i for _, _, i in actions]))
    return streams, joint_names, progress, rewards


def _success_from(rewards):
    if not rewards:
        return None
    return bool(rewards[-1]['terminal'] and rewards[-1]['sparse_reward'] > 0)


def _sidecar_files(path, num_frames):
    segments, instructions = [], ('',)
    keyframe_file = path / keyframes.KEYFRAME_FILE
    if keyframe_file.is_file():
        segments = keyframes.load_keyframes(keyframe_file, num_frames=num_frames)
    instruction_file = path / INSTRUCTION_FILE
    if instruction_file.is_file():
        instructions = read_instruction_file(instruction_file)
    return segments, instructions


def bag_topics(path):
    """Return {topic: (msgtype, message count)} and the bag's storage and version."""
    reader = _open_reader(path)
    try:
        counts = {c.topic: (c.msgtype, c.msgcount) for c in reader.connections}
        info = {'duration_s': reader.duration / 1e9, 'messages': reader.message_count}
    finally:
        reader.close()
    metadata = Path(path) / 'metadata.yaml'
    if metadata.is_file():
        import yaml

        bag_info = yaml.safe_load(metadata.read_text())['rosbag2_bagfile_information']
        info.update(storage=bag_info.get('storage_identifier'), version=bag_info.get('version'))
    return counts, info


# --------------------------------------------------------------------------------------------
# writing

class EpisodeBagWriter:
    """
    Write an episode's topics to a new rosbag2 folder, atomically.

    Use as a context manager; the bag appears at `path` only when the block completes.
    image_format: 'raw' (sensor_msgs/Image rgb8) or 'jpeg' / 'png' (CompressedImage on
    <camera topic>/compressed).
    """

    def __init__(self, path, topics=TopicConfig(), storage='sqlite3', version=9,
                 image_format='raw', jpeg_quality=90, distro='jazzy', frame_ids=None):
        if storage not in STORAGES:
            raise ValueError(f'storage must be one of {STORAGES}, got {storage!r}')
        if version not in (8, 9):
            raise ValueError(f'bag version must be 8 or 9, got {version!r}')
        if image_format not in ('raw',) + images.COMPRESSED_FORMATS:
            raise ValueError(f'image_format must be raw, jpeg or png, got {image_format!r}')
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f'{self.path}: already exists; choose a new bag path')
        self.topics, self.storage, self.version = topics, storage, version
        self.image_format, self.jpeg_quality = image_format, jpeg_quality
        self.store = typestore(distro)
        self.frame_ids = frame_ids or {v: f'{v}_camera_optical_frame' for v in VIEWS}
        self._writer = None
        self._connections = {}
        self._tmp = None
        self.keyframes, self.instructions = [], None

    # context manager ------------------------------------------------------------------------
    def __enter__(self):
        from rosbags.rosbag2 import StoragePlugin, Writer

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(prefix=f'.{self.path.name}.', dir=self.path.parent))
        plugin = StoragePlugin.SQLITE3 if self.storage == 'sqlite3' else StoragePlugin.MCAP
        self._writer = Writer(self._tmp / 'bag', version=self.version, storage_plugin=plugin)
        self._writer.open()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self._writer.close()
                bag = self._tmp / 'bag'
                if self.keyframes:
                    keyframes.save_keyframes(bag / keyframes.KEYFRAME_FILE, self.keyframes)
                if self.instructions:
                    (bag / INSTRUCTION_FILE).write_text(json.dumps(list(self.instructions),
                                                                   indent=4) + '\n')
                os.replace(bag, self.path)
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
        return False

    # messages -------------------------------------------------------------------------------
    def _types(self, name):
        return self.store.types[name]

    def _header(self, stamp, frame_id=''):
        time = self._types('builtin_interfaces/msg/Time')(sec=int(stamp // 1_000_000_000),
                                                          nanosec=int(stamp % 1_000_000_000))
        return self._types('std_msgs/msg/Header')(stamp=time, frame_id=frame_id)

    def _write(self, topic, msgtype, msg, stamp):
        self.write_raw(topic, msgtype, self.store.serialize_cdr(msg, msgtype), stamp)

    def write_raw(self, topic, msgtype, raw, stamp):
        """
        Write one message as serialized CDR bytes, as `ros2 bag record` does.

        msgtype: 'pkg/msg/Name'; it must be known to this writer's typestore (the ROS
        standard messages of the distro and ours).
        """
        if topic not in self._connections and msgtype not in self.store.types:
            raise BagError(f'{self.path}: topic {topic} has type {msgtype}, which the bag '
                           'writer does not know (the standard ROS 2 messages and '
                           'robodopamine_interfaces only)')
        connection = self._connections.get(topic)
        if connection is None:
            connection = self._writer.add_connection(topic, msgtype, typestore=self.store)
            self._connections[topic] = connection
        self._writer.write(connection, int(stamp), bytes(raw))

    def write_triplet(self, stamp, views):
        """Write the three camera images (dict view -> RGB array) of one instant."""
        for view in VIEWS:
            rgb = views[view]
            header = self._header(stamp, self.frame_ids[view])
            topic = self.topics.camera(view)
            if self.image_format == 'raw':
                height, width, encoding, bigendian, step, data = images.encode_image(rgb)
                msg = self._types(IMAGE)(header=header, height=height, width=width,
                                         encoding=encoding, is_bigendian=bigendian, step=step,
                                         data=np.frombuffer(data, dtype=np.uint8))
                self._write(topic, IMAGE, msg, stamp)
            else:
                fmt, data = images.encode_compressed(rgb, self.image_format, self.jpeg_quality)
                msg = self._types(COMPRESSED)(header=header, format=fmt,
                                              data=np.frombuffer(data, dtype=np.uint8))
                self._write(topic + '/compressed', COMPRESSED, msg, stamp)

    def write_joint_state(self, stamp, names, positions, velocities=()):
        msg = self._types(JOINT_STATE)(
            header=self._header(stamp, 'base'), name=list(names),
            position=np.asarray(positions, dtype=np.float64),
            velocity=np.asarray(velocities, dtype=np.float64),
            effort=np.zeros(0, dtype=np.float64))
        self._write(self.topics.joint_states, JOINT_STATE, msg, stamp)

    def write_ee_pose(self, stamp, pose, frame_id='base'):
        """pose: x, y, z, qx, qy, qz, qw."""
        types = self._types
        x, y, z, qx, qy, qz, qw = (float(v) for v in pose)
        msg = types(POSE)(header=self._header(stamp, frame_id), pose=types(
            'geometry_msgs/msg/Pose')(
                position=types('geometry_msgs/msg/Point')(x=x, y=y, z=z),
                orientation=types('geometry_msgs/msg/Quaternion')(x=qx, y=qy, z=qz, w=qw)))
        self._write(self.topics.ee_pose, POSE, msg, stamp)

    def write_action(self, stamp, values, intervention=False, source='policy'):
        msg = self._types(ACTION)(header=self._header(stamp),
                                  values=np.asarray(values, dtype=np.float32),
                                  intervention=bool(intervention), source=source)
        self._write(self.topics.action, ACTION, msg, stamp)

    def _write_ours(self, topic, msgtype, fields_dict):
        values = dict(fields_dict)
        stamp = int(values.pop('stamp_ns'))
        frame_id = values.pop('frame_id', '')
        msg = self._types(msgtype)(header=self._header(stamp, frame_id), **values)
        self._write(topic, msgtype, msg, stamp)

    def write_progress(self, fields_dict):
        """Write a ProgressStamped given as a dict with stamp_ns and the message fields."""
        self._write_ours(self.topics.progress, PROGRESS, fields_dict)

    def write_reward(self, fields_dict):
        """Write a RewardStamped given as a dict with stamp_ns and the message fields."""
        self._write_ours(self.topics.reward, REWARD, fields_dict)


def write_episode(path, episode, storage='sqlite3', version=9, image_format='raw',
                  topics=TopicConfig(), distro='jazzy', action_source=None):
    """
    Write an in-memory Episode to a new bag folder; returns the path.

    action_source names who acted ('expert', 'policy', ...); by default 'teleop' during an
    intervention and 'policy' otherwise.
    """
    with EpisodeBagWriter(path, topics, storage, version, image_format,
                          distro=distro) as writer:
        for index, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][index] for v in VIEWS})
        streams = episode.streams
        if 'joint_positions' in streams:
            s = streams['joint_positions']
            names = episode.joint_names or tuple(f'joint{i + 1}'
                                                 for i in range(s.values.shape[1]))
            for stamp, positions in zip(s.stamps, s.values):
                writer.write_joint_state(int(stamp), names, positions)
        if 'ee_pose' in streams:
            for stamp, pose in zip(streams['ee_pose'].stamps, streams['ee_pose'].values):
                writer.write_ee_pose(int(stamp), pose)
        if 'action' in streams:
            flags = streams.get('intervention')
            for i, (stamp, values) in enumerate(zip(streams['action'].stamps,
                                                    streams['action'].values)):
                active = bool(flags.values[i, 0]) if flags is not None else False
                source = action_source or ('teleop' if active else 'policy')
                writer.write_action(int(stamp), values, active, source)
        for fields_dict in episode.progress:
            writer.write_progress(fields_dict)
        for fields_dict in episode.rewards:
            writer.write_reward(fields_dict)
        writer.keyframes = list(episode.keyframes)
        writer.instructions = tuple(i for i in episode.instructions if i) or None
    return Path(path)
