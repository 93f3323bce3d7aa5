# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Automatic sub-task boundary proposals, for a person to check and correct.

Two sources, best first:
- gripper events: the gripper command (last action component) changes sign (open <-> close);
- pauses in image motion: local minima of the smoothed frame-to-frame image change, over all
  three views, between the first and the last moment of motion.
"""

import numpy as np

from robodopamine_ros.data.images import resize
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.topics import VIEWS


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


def propose_keyframes(episode, num_segments=None, min_segment_s=1.0, source='auto'):
    """
    Propose sub-task segments for an episode.

    num_segments: the wanted number of segments (motion source), or None to keep every clear
    pause. source: 'auto' (gripper events if any, else motion), 'gripper' or 'motion'.
    Returns (segments, source used).
    """
    if episode.num_frames < 3:
        raise ValueError(f'episode {episode.episode_id}: {episode.num_frames} frames are too '
                         'few to propose keyframes')
    if source not in ('auto', 'gripper', 'motion'):
        raise ValueError(f'source must be auto, gripper or motion, got {source!r}')
    fps = _fps(episode)
    energy = _smooth(motion_energy(episode), max(1, fps / 4))
    moving = np.nonzero(energy > 0.2 * np.percentile(energy, 90))[0]
    start, end = (int(moving[0]), int(moving[-1])) if len(moving) > 1 else \
        (0, episode.num_frames - 1)
    if source in ('auto', 'gripper'):
        events = gripper_boundaries(episode)
        if events:
            return _segments(events, start, end, 'gripper_phase'), 'gripper'
        if source == 'gripper':
            raise ValueError(f'episode {episode.episode_id}: no gripper events (no action '
                             'stream, or the gripper command never changes)')
    min_gap = max(1, int(min_segment_s * fps))
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
