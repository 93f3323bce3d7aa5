# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Core values <-> our messages. Pure field copying: no logic lives here."""

import array
from typing import Sequence

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose, PoseArray, PoseStamped, TwistStamped
import numpy as np
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from robodopamine_interfaces.msg import (ActionStamped, EpisodeSummary, ProgressStamped,
                                         RewardStamped)
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.data.images import encode_image
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

# the message type of each ros2_control adapter (robot.controller_adapters.ADAPTERS)
ADAPTER_TYPES = {'twist': TwistStamped, 'float64_array': Float64MultiArray,
                 'joint_trajectory': JointTrajectory, 'pose': PoseStamped}
# a value published once and kept for late subscribers (the reward contract): reliable,
# transient local, the newest one
LATCHED = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                     durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
# the RewardStamped fields the control loop reads (rl.agent_loop.ControlLoop.observe_reward)
REWARD_FIELDS = ('reward', 'sparse_reward', 'progress_before', 'progress_after', 'terminal',
                 'truncated')


def time_from_ns(stamp_ns: int) -> Time:
    return Time(sec=int(stamp_ns // 1_000_000_000), nanosec=int(stamp_ns % 1_000_000_000))


def ns_from_time(stamp: Time) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def seconds_from_header(msg) -> float:
    """Return a stamped message's header stamp in seconds (float)."""
    return ns_from_time(msg.header.stamp) * 1e-9


def action_msg(action: Sequence[float], source: ActionSource, stamp: Time) -> ActionStamped:
    """Build an ActionStamped from an action (4,) and its data.action_source.ActionSource."""
    source = ActionSource(source)
    msg = ActionStamped(values=[float(v) for v in action],
                        intervention=source.is_human_or_demonstrator, source=source.value)
    msg.header.stamp = stamp
    return msg


def reward_values(msg: RewardStamped) -> dict:
    """Return the RewardStamped fields the control loop reads, as a dict (+ progress_stamp_ns)."""
    return dict({f: getattr(msg, f) for f in REWARD_FIELDS},
                progress_stamp_ns=ns_from_time(msg.progress_stamp))


def _values(pose: Pose) -> list:
    q, o = pose.position, pose.orientation
    return [q.x, q.y, q.z, o.x, o.y, o.z, o.w]


def pose_values(msg: PoseStamped) -> np.ndarray:
    """Return a PoseStamped as (x, y, z, qx, qy, qz, qw) float32, m."""
    return np.array(_values(msg.pose), dtype=np.float32)


def _pose(values: Sequence[float]) -> Pose:
    x, y, z, qx, qy, qz, qw = (float(v) for v in values)
    pose = Pose()
    pose.position.x, pose.position.y, pose.position.z = x, y, z
    o = pose.orientation
    o.x, o.y, o.z, o.w = qx, qy, qz, qw
    return pose


def pose_msg(pose: Sequence[float], stamp: Time, frame_id: str) -> PoseStamped:
    """Build a PoseStamped from (x, y, z, qx, qy, qz, qw), m."""
    msg = PoseStamped(pose=_pose(pose))
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg


def pose_array_msg(poses, stamp: Time, frame_id: str) -> PoseArray:
    """Build a PoseArray from (n, 7) rows of (x, y, z, qx, qy, qz, qw), m."""
    msg = PoseArray(poses=[_pose(row) for row in np.asarray(poses).reshape(-1, 7)])
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    return msg


def pose_array_values(msg: PoseArray) -> np.ndarray:
    """Return a PoseArray as (n, 7) float32 rows of (x, y, z, qx, qy, qz, qw), m."""
    return np.array([_values(pose) for pose in msg.poses], dtype=np.float32).reshape(-1, 7)


def joint_state_msg(names: Sequence[str], positions: Sequence[float],
                    stamp: Time) -> JointState:
    """Build a JointState of positions (rad / m) only."""
    msg = JointState(name=list(names), position=[float(v) for v in positions])
    msg.header.stamp = stamp
    return msg


def summary_msg(summary: dict, stamp: Time) -> EpisodeSummary:
    """Build an EpisodeSummary from ControlLoop's episode summary dict."""
    msg = EpisodeSummary(episode_id=summary['episode_id'], steps=summary['steps'],
                         success=summary['success'],
                         episode_return=float(summary['return']),
                         final_progress=float(summary['final_progress']),
                         intervention_rate=float(summary['intervention_rate']))
    msg.header.stamp = stamp
    return msg


def adapter_msg(command, stamp: Time, frame_id: str):
    """Copy a controller_adapters.Command into its adapter's message type (ADAPTER_TYPES)."""
    kind = command.kind
    if kind == 'float64_array':
        return Float64MultiArray(data=[float(v) for v in command.velocity])
    if kind == 'twist':
        msg = TwistStamped()
        msg.header.stamp, msg.header.frame_id = stamp, frame_id
        t = msg.twist
        t.linear.x, t.linear.y, t.linear.z = (float(v) for v in command.velocity[:3])
        t.angular.x, t.angular.y, t.angular.z = (float(v) for v in command.velocity[3:])
        return msg
    if kind == 'pose':
        return pose_msg(command.pose, stamp, frame_id)
    msg = JointTrajectory(joint_names=list(command.joint_names))  # the positions' order
    msg.header.stamp = stamp
    point = JointTrajectoryPoint(positions=[float(v) for v in command.positions])
    point.time_from_start.nanosec = int(command.time_from_start * 1e9)
    msg.points = [point]
    return msg


def reward_msg(reward, step: int, episode_id: int, stamp: Time,
               confidence: float = 1.0, progress_stamp: Time = None) -> RewardStamped:
    """Build a RewardStamped from a shaping.ShapedReward (progress_stamp: its progress's)."""
    msg = RewardStamped()
    msg.header.stamp = stamp
    if progress_stamp is not None:
        msg.progress_stamp = progress_stamp
    msg.episode_id, msg.step = int(episode_id), int(step)
    msg.reward, msg.sparse_reward, msg.shaping = reward.reward, reward.sparse_reward, \
        reward.shaping
    msg.progress_before, msg.progress_after = reward.progress_before, reward.progress_after
    msg.gamma, msg.confidence = reward.gamma, float(confidence)
    msg.terminal, msg.truncated = reward.terminal, reward.truncated
    return msg


def progress_msg(estimate, episode_id: int, stamp: Time, frame_id: str,
                 latency: float, stalled: bool = False) -> ProgressStamped:
    """Build a ProgressStamped from a progress.ProgressEstimate and the stall flag."""
    msg = ProgressStamped()
    msg.header.stamp, msg.header.frame_id = stamp, frame_id
    msg.episode_id, msg.tick = int(episode_id), int(estimate.tick)
    msg.progress = estimate.progress
    msg.progress_incremental, msg.progress_forward = estimate.incremental, estimate.forward
    msg.progress_backward, msg.hop = estimate.backward, estimate.hop
    msg.confidence, msg.success = estimate.confidence, bool(estimate.success)
    msg.inference_latency, msg.stalled = float(latency), bool(stalled)
    return msg


def image_msg(rgb: np.ndarray, stamp: Time, frame_id: str) -> Image:
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


def diagnostic_status(name, level, message, values, hardware_id=''):
    """Return a DiagnosticStatus; level 'ok', 'warn' or 'error'; values {key: text}."""
    from diagnostic_msgs.msg import DiagnosticStatus, KeyValue

    levels = {'ok': DiagnosticStatus.OK, 'warn': DiagnosticStatus.WARN,
              'error': DiagnosticStatus.ERROR}
    return DiagnosticStatus(level=levels[level], name=name, message=message,
                            hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])


def episode_request(request, robot_id, uid, data):
    """Fill a SubmitEpisode request: the packed episode's bytes as its uint8[] data."""
    request.robot_id, request.uid, request.data = robot_id, uid, array.array('B', data)
    return request


def weights_msg(msg, version, data, stamp):
    """Fill a PolicyWeights message: version, the packed weights' bytes, the stamp."""
    msg.header.stamp, msg.version, msg.data = stamp, int(version), array.array('B', data)
    return msg
