# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A bag written by our (rosbags-based) writer holds what real rclpy message classes read."""

from geometry_msgs.msg import PoseStamped
import numpy as np
import pytest
from rclpy.serialization import deserialize_message, serialize_message
from robodopamine_interfaces.msg import ActionStamped, ProgressStamped, RewardStamped
from robodopamine_ros.data import bag_writer
from robodopamine_ros.data.images import decode_compressed, decode_image
from robodopamine_ros.data.interfaces import deserialize, typestore
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import CompressedImage, Image, JointState

RCLPY_TYPES = {
    'sensor_msgs/msg/Image': Image, 'sensor_msgs/msg/CompressedImage': CompressedImage,
    'sensor_msgs/msg/JointState': JointState, 'geometry_msgs/msg/PoseStamped': PoseStamped,
    'robodopamine_interfaces/msg/ActionStamped': ActionStamped,
    'robodopamine_interfaces/msg/ProgressStamped': ProgressStamped,
    'robodopamine_interfaces/msg/RewardStamped': RewardStamped,
}


def _plain(value):
    """Return a comparable form of a message (rclpy or rosbags) or field."""
    if hasattr(value, 'get_fields_and_field_types'):
        return {k: _plain(getattr(value, k)) for k in value.get_fields_and_field_types()}
    if hasattr(value, '__dataclass_fields__'):
        return {k: _plain(getattr(value, k)) for k in value.__dataclass_fields__
                if k != '__msgtype__'}
    if isinstance(value, (bytes, bytearray)) or (hasattr(value, 'tolist')
                                                 and not np.isscalar(value)):
        return [float(x) for x in (value.tolist() if hasattr(value, 'tolist') else value)]
    if isinstance(value, (list, tuple)) or type(value).__name__ == 'array':
        return [_plain(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return pytest.approx(float(value), rel=1e-6)
    return value.item() if isinstance(value, np.generic) else value


@pytest.mark.parametrize('storage, image_format', [('sqlite3', 'raw'), ('mcap', 'jpeg')])
def test_every_message_deserializes_with_rclpy(tmp_path, storage, image_format):
    rng = np.random.default_rng(0)
    stamp = 1_700_000_000_123_456_789
    path = tmp_path / 'bag'
    rgb = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    with bag_writer.EpisodeBagWriter(path, storage=storage, image_format=image_format) as writer:
        writer.write_triplet(stamp, {'front': rgb, 'left_wrist': rgb[::-1].copy(),
                                     'right_wrist': rgb[:, ::-1].copy()})
        writer.write_joint_state(stamp, [f'j{i}' for i in range(7)], rng.normal(size=7),
                                 rng.normal(size=7))
        writer.write_ee_pose(stamp, [0.4, 0.1, 0.3, 0.0, 0.0, 0.7071, 0.7071])
        writer.write_action(stamp, [0.5, -0.25, 0.125, 1.0], intervention=True, source='teleop')
        writer.write_progress({
            'stamp_ns': stamp, 'frame_id': 'front', 'episode_id': 4, 'tick': 9,
            'progress': 0.5, 'progress_incremental': 0.25, 'progress_forward': 0.75,
            'progress_backward': 0.5, 'hop': 0.125, 'confidence': 0.875, 'success': False,
            'inference_latency': 0.01})
        writer.write_reward({
            'stamp_ns': stamp, 'frame_id': '', 'episode_id': 4, 'step': 3, 'reward': 0.5,
            'sparse_reward': 1.0, 'shaping': -0.5, 'progress_before': 0.5,
            'progress_after': 0.96, 'gamma': 0.98, 'confidence': 1.0, 'terminal': True,
            'truncated': False})
    store = typestore('jazzy')
    seen = set()
    with Reader(path) as reader:
        for connection, _, raw in reader.messages():
            rclpy_type = RCLPY_TYPES[connection.msgtype]
            ours = store.deserialize_cdr(raw, connection.msgtype)
            theirs = deserialize_message(bytes(raw), rclpy_type)
            assert _plain(theirs) == _plain(ours), connection.topic
            assert theirs.header.stamp.sec == stamp // 10**9
            assert theirs.header.stamp.nanosec == stamp % 10**9
            # rclpy's bytes (Fast-CDR, with its end padding) read back through our reader path
            again = deserialize(store, serialize_message(theirs), connection.msgtype)
            assert _plain(again) == _plain(ours)
            seen.add(connection.msgtype)
            if rclpy_type is Image:
                expected = rgb if 'front' in connection.topic else decode_image(ours)
                np.testing.assert_array_equal(decode_image(theirs), expected)
            if rclpy_type is CompressedImage:
                assert decode_compressed(theirs).shape == rgb.shape
    unused = 'sensor_msgs/msg/CompressedImage' if image_format == 'raw' else \
        'sensor_msgs/msg/Image'
    assert seen == set(RCLPY_TYPES) - {unused}
