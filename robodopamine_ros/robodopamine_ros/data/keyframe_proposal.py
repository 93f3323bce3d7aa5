# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Automatic sub-task boundary proposals, for a person to check and correct.

Sources, best first:
- gripper events: the gripper command (last action component) changes sign (open <-> close);
- waypoints of the hand's path: the corners a piecewise-linear fit in time of the end
  effector's position needs to stay within ``WAYPOINT_TOLERANCE_M`` of it (recursive splitting
  at the largest deviation, Douglas-Peucker in time; the waypoints of AWE, Shi et al. 2023,
  "Waypoint-Based Imitation Learning for Robotic Manipulation");
- pauses in image motion: local minima of the smoothed frame-to-frame image change, over all
  three views, between the first and the last moment of motion.

'auto' takes the gripper events and adds the waypoints between them (a boundary closer than
the shortest segment to one already taken is dropped); without an end-effector stream, the
gripper events alone; without either, the motion pauses. Why waypoints: a GRM reads progress
linearly in time within a segment, so one segment from the grasp to the end reads the peg at
the hole's mouth as about 0.9 done, and the success detector fired there
(docs/decisions.md, keyframe proposal).
"""

import numpy as np

from robodopamine_ros.data.images import resize
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.topics import VIEWS


SOURCES = ('auto', 'gripper', 'waypoints', 'motion')
# [ours] the shortest proposed segment, s: between waypoints (an insertion's last straight
# push lasts about 1 s), between motion pauses
WAYPOINT_MIN_SEGMENT_S, MOTION_MIN_SEGMENT_S = 0.5, 1.0
WAYPOINT_TOLERANCE_M = 0.01  # [ours] m a straight line between waypoints may miss the hand by


def motion_energy(episode, size=(32, 24)):
    """Mean absolute grey-level change per frame (frame 0 gets 0), averaged over the views."""
    energy = np.zeros(episode.num_frames)
    for view in VIEWS:
        grey = np.stack([resize(f, size).mean(axis=2) for f in episode.views[view]])
        energy[1:] += np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))
    return energy / len(VIEWS)


def _smooth(values, window):
    window = max(1, int(window))
    kernel = np.ones(window) / window
    padded = np.pad(values, (window // 2, window - 1 - window // 2), mode='edge')
    return np.convolve(padded, kernel, mode='valid')


def _fps(episode):
    if episode.num_frames < 2:
        return 30.0
    return 1e9 / float(np.median(np.diff(episode.stamps)))


def _segments(boundaries, start, end, names):
    points = [start] + sorted(b for b in set(boundaries) if start < b < end) + [end]
    return [Segment(int(a), int(b), f'{names}{i + 1}') for i, (a, b) in
            enumerate(zip(points, points[1:]))]


def gripper_boundaries(episode):
    """Frames where the gripper command changes sign, or None without an action stream."""
    if 'action' not in episode.streams:
        return None
    gripper = np.sign(episode.stream_at_frames('action')[:, -1])
    changes = np.nonzero(np.diff(gripper) != 0)[0] + 1
    return changes.tolist() if len(changes) else None


def waypoint_boundaries(episode, start, end, tolerance=None):
    """
    Frames (between start and end) where the hand's path turns: AWE-style waypoints.

    The end effector's positions (stream 'ee_pose', m) are fit by straight lines in time
    between waypoints; a segment whose largest deviation exceeds `tolerance` (m, default
    WAYPOINT_TOLERANCE_M) is split at that frame, recursively. Returns the frames in the
    order they were found (coarse splits first), or None without an 'ee_pose' stream.
    """
    if 'ee_pose' not in episode.streams:
        return None
    tolerance = WAYPOINT_TOLERANCE_M if tolerance is None else tolerance
    position = np.asarray(episode.stream_at_frames('ee_pose'), float)[:, :3]
    found, pending = [], [(start, end)]
    while pending:
        a, b = pending.pop(0)
        if b - a < 2:
            continue
        t = np.arange(a, b + 1)
        line = position[a] + (position[b] - position[a]) * ((t - a) / (b - a))[:, None]
        deviation = np.linalg.norm(position[a:b + 1] - line, axis=1)
        k = int(np.argmax(deviation))
        if deviation[k] > tolerance:
            found.append(a + k)
            pending += [(a, a + k), (a + k, b)]
    return found


def propose_keyframes(episode, num_segments=None, min_segment_s=None, source='auto'):
    """
    Propose sub-task segments for an episode.

    num_segments: the wanted number of segments (motion source), or None to keep every clear
    pause. min_segment_s: the shortest segment, s (None: WAYPOINT_MIN_SEGMENT_S between
    waypoints, MOTION_MIN_SEGMENT_S between motion pauses). source:
    'auto' (module docstring), 'gripper', 'waypoints' (gripper events too, when there are
    any) or 'motion'. Returns (segments, source used).
    """
    if episode.num_frames < 3:
        raise ValueError(f'episode {episode.episode_id}: {episode.num_frames} frames are too '
                         'few to propose keyframes')
    if source not in SOURCES:
        raise ValueError(f'source must be one of {", ".join(SOURCES)}, got {source!r}')
    fps = _fps(episode)
    energy = _smooth(motion_energy(episode), max(1, fps / 4))
    moving = np.nonzero(energy > 0.2 * np.percentile(energy, 90))[0]
    start, end = (int(moving[0]), int(moving[-1])) if len(moving) > 1 else \
        (0, episode.num_frames - 1)

    def gap(default):   # frames
        return max(1, int((default if min_segment_s is None else min_segment_s) * fps))

    events = gripper_boundaries(episode) if source != 'motion' else None
    if source == 'gripper' and not events:
        raise ValueError(f'episode {episode.episode_id}: no gripper events (no action '
                         'stream, or the gripper command never changes)')
    corners = waypoint_boundaries(episode, start, end) if source in ('auto', 'waypoints') \
        else None
    if source == 'waypoints' and corners is None:
        raise ValueError(f'episode {episode.episode_id}: no end-effector stream (ee_pose) for '
                         'waypoints')
    if corners:
        chosen = [e for e in events or [] if start < e < end]
        min_gap = gap(WAYPOINT_MIN_SEGMENT_S)
        for t in corners:
            if all(abs(t - c) >= min_gap for c in chosen + [start, end]):
                chosen.append(t)
        used = 'gripper + waypoints' if events else 'waypoints'
        return _segments(chosen, start, end, 'waypoint_phase'), used
    if events:
        return _segments(events, start, end, 'gripper_phase'), 'gripper'
    min_gap = gap(MOTION_MIN_SEGMENT_S)
    inner = np.arange(start + min_gap, end - min_gap + 1)
    minima = [t for t in inner if energy[t] <= energy[t - 1] and energy[t] < energy[t + 1]]
    minima.sort(key=lambda t: energy[t])
    if num_segments is None:
        threshold = 0.5 * float(np.median(energy[start:end + 1]))
        minima = [t for t in minima if energy[t] < threshold]
    chosen = []
    for t in minima:
        if all(abs(t - c) >= min_gap for c in chosen):
            chosen.append(t)
        if num_segments is not None and len(chosen) == num_segments - 1:
            break
    return _segments(chosen, start, end, 'subtask'), 'motion'
