# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Core values <-> our messages. Pure field copying: no logic lives here."""

import array

from builtin_interfaces.msg import Time
from robodopamine_interfaces.msg import ProgressStamped, RewardStamped
from robodopamine_ros.images import encode_image
from sensor_msgs.msg import Image


def time_from_ns(stamp_ns):
    return Time(sec=int(stamp_ns // 1_000_000_000), nanosec=int(stamp_ns % 1_000_000_000))


def ns_from_time(stamp):
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def reward_msg(reward, step, episode_id, stamp, confidence=1.0):
    """Build a RewardStamped from a shaping.ShapedReward."""
    msg = RewardStamped()
    msg.header.stamp = stamp
    msg.episode_id, msg.step = int(episode_id), int(step)
    msg.reward, msg.sparse_reward, msg.shaping = reward.reward, reward.sparse_reward, \
        reward.shaping
    msg.progress_before, msg.progress_after = reward.progress_before, reward.progress_after
    msg.gamma, msg.confidence = reward.gamma, float(confidence)
    msg.terminal, msg.truncated = reward.terminal, reward.truncated
    return msg


def progress_msg(estimate, episode_id, stamp, frame_id, latency):
    """Build a ProgressStamped from a progress.ProgressEstimate."""
    msg = ProgressStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.episode_id, msg.tick = int(episode_id), int(estimate.tick)
    msg.progress = estimate.progress
    msg.progress_incremental, msg.progress_forward = estimate.incremental, estimate.forward
    msg.progress_backward, msg.hop = estimate.backward, estimate.hop
    msg.confidence, msg.success = estimate.confidence, bool(estimate.success)
    msg.inference_latency = float(latency)
    return msg


def image_msg(rgb, stamp, frame_id):
    """
    Build an rgb8 sensor_msgs/Image from an RGB array.

    The pixel bytes go in as array.array: rclpy checks a bytes value element by element (5 ms
    for 160 x 120, 80 ms for 640 x 480), an array.array of typecode 'B' not at all.
    """
    height, width, encoding, bigendian, step, data = encode_image(rgb)
    msg = Image(height=height, width=width, encoding=encoding, is_bigendian=bigendian,
                step=step, data=array.array('B', data))
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg
