# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rosbag2 out (ROS-free, with the rosbags library): the topics and types bags.read_episode reads.

EpisodeBagWriter / write_episode(): an episode's camera triplets, joint states, end-effector
poses, commanded actions with intervention flags and our ProgressStamped / RewardStamped
messages, in sqlite3 or mcap. The bag is written into a temporary folder and renamed into place
when complete, so a failed write never leaves a partial bag behind. Keyframes and instruction
paraphrases go beside metadata.yaml in the reference layout's JSON files.
"""

import json
import os
from pathlib import Path
import shutil
import tempfile

import numpy as np

from robodopamine_ros.data import images, keyframes
from robodopamine_ros.data.bag_location import BagError, check_custom_data
from robodopamine_ros.data.bags import (ACTION, COMPRESSED, IMAGE, JOINT_STATE, POSE,
                                        POSE_ARRAY, PROGRESS, REWARD, STORAGES, TopicConfig)
from robodopamine_ros.data.interfaces import typestore
from robodopamine_ros.data.reference_layout import INSTRUCTION_FILE
from robodopamine_ros.data.topics import VIEWS


class EpisodeBagWriter:
    """
    Write an episode's topics to a new rosbag2 folder, atomically.

    Use as a context manager; the bag appears at `path` only when the block completes.
    image_format: 'raw' (sensor_msgs/Image rgb8) or 'jpeg' / 'png' (CompressedImage on
    <camera topic>/compressed). custom_data: {key: text} for metadata.yaml's custom_data
    (bag_location.bag_custom_data reads it back); more may be set in ``self.custom_data``
    until the block ends.
    """

    def __init__(self, path, topics=TopicConfig(), storage='sqlite3', version=9,
                 image_format='raw', jpeg_quality=90, distro='jazzy', frame_ids=None,
                 custom_data=None):
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
        self.custom_data = check_custom_data(custom_data)

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
                for key, value in check_custom_data(self.custom_data).items():
                    self._writer.set_custom_data(key, value)
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
        """
        Write the camera images (dict view -> RGB array) of one instant.

        A view left out of the dict is not written (a rig without that camera).
        """
        for view in VIEWS:
            if view not in views:
                continue
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

    def write_joint_state(self, stamp, names, positions, velocities=(), header_stamp=None):
        """stamp: receive time (ns); header_stamp: the header's when it differs (default)."""
        msg = self._types(JOINT_STATE)(
            header=self._header(stamp if header_stamp is None else header_stamp, 'base'),
            name=list(names),
            position=np.asarray(positions, dtype=np.float64),
            velocity=np.asarray(velocities, dtype=np.float64),
            effort=np.zeros(0, dtype=np.float64))
        self._write(self.topics.joint_states, JOINT_STATE, msg, stamp)

    def _pose(self, values):
        types = self._types
        x, y, z, qx, qy, qz, qw = (float(v) for v in values)
        return types('geometry_msgs/msg/Pose')(
            position=types('geometry_msgs/msg/Point')(x=x, y=y, z=z),
            orientation=types('geometry_msgs/msg/Quaternion')(x=qx, y=qy, z=qz, w=qw))

    def write_ee_pose(self, stamp, pose, frame_id='base', header_stamp=None):
        """pose: x, y, z, qx, qy, qz, qw; header_stamp as in write_joint_state."""
        msg = self._types(POSE)(header=self._header(stamp if header_stamp is None
                                                    else header_stamp, frame_id),
                                pose=self._pose(pose))
        self._write(self.topics.ee_pose, POSE, msg, stamp)

    def write_object_poses(self, stamp, poses, frame_id='base'):
        """poses: (objects, 7) or flat objects * 7 rows of x, y, z, qx, qy, qz, qw."""
        rows = np.asarray(poses, dtype=float).reshape(-1, 7)
        msg = self._types(POSE_ARRAY)(header=self._header(stamp, frame_id),
                                      poses=[self._pose(row) for row in rows])
        self._write(self.topics.object_poses, POSE_ARRAY, msg, stamp)

    def write_action(self, stamp, values, intervention=False, source='policy'):
        msg = self._types(ACTION)(header=self._header(stamp),
                                  values=np.asarray(values, dtype=np.float32),
                                  intervention=bool(intervention), source=source)
        self._write(self.topics.action, ACTION, msg, stamp)

    def _write_ours(self, topic, msgtype, fields_dict):
        values = dict(fields_dict)
        stamp = int(values.pop('stamp_ns'))
        frame_id = values.pop('frame_id', '')
        if msgtype == REWARD:  # its progress's stamp (NAME_ns as read); default: the header's
            values['progress_stamp'] = self._header(
                int(values.pop('progress_stamp_ns', stamp))).stamp
        msg = self._types(msgtype)(header=self._header(stamp, frame_id), **values)
        self._write(topic, msgtype, msg, stamp)

    def write_progress(self, fields_dict):
        """
        Write a ProgressStamped given as a dict with stamp_ns and the message fields.

        ``stalled`` (added to the message on 2026-12-07) defaults to False: a dict read from an
        earlier recording has none.
        """
        self._write_ours(self.topics.progress, PROGRESS, dict({'stalled': False}, **fields_dict))

    def write_reward(self, fields_dict):
        """
        Write a RewardStamped given as a dict with stamp_ns and the message fields.

        progress_stamp is given as progress_stamp_ns (int ns, as read back); default stamp_ns.
        """
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
        if 'object_poses' in streams:
            for stamp, poses in zip(streams['object_poses'].stamps,
                                    streams['object_poses'].values):
                writer.write_object_poses(int(stamp), poses)
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
