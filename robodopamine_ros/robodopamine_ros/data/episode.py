# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
An episode: synchronized three-camera frames plus the robot's stamped streams.

Bags, the reference layout, the simulator and logged RL episodes all become this object.
Images are H x W x 3 uint8 RGB; stamps are integer nanoseconds.
"""

from dataclasses import dataclass, field

import numpy as np

from robodopamine_ros.data.keyframes import parse_segments
from robodopamine_ros.data.topics import VIEWS


@dataclass
class Stream:
    """A stamped signal: values[i] holds from stamps[i] until the next stamp."""

    stamps: np.ndarray   # (N,) int64 ns, increasing
    values: np.ndarray   # (N, D)

    def __post_init__(self):
        self.stamps = np.asarray(self.stamps, dtype=np.int64)
        self.values = np.asarray(self.values)
        if self.values.ndim == 1:
            self.values = self.values[:, None]
        if len(self.stamps) != len(self.values):
            raise ValueError(f'stream has {len(self.stamps)} stamps but {len(self.values)} '
                             'values')
        if len(self.stamps) > 1 and np.any(np.diff(self.stamps) < 0):
            raise ValueError('stream stamps must not decrease')

    def __len__(self):
        return len(self.stamps)

    def at(self, stamps):
        """Values in effect at the given stamps (the latest at or before; the first before)."""
        if not len(self.stamps):
            raise ValueError('empty stream')
        index = np.searchsorted(self.stamps, np.asarray(stamps, dtype=np.int64), side='right')
        return self.values[np.clip(index - 1, 0, len(self.stamps) - 1)]


@dataclass
class Episode:
    """One demonstration or rollout."""

    episode_id: str
    stamps: np.ndarray              # (T,) int64 ns: the front camera stamp of each triplet
    views: dict                     # view name -> (T, H, W, 3) uint8 RGB
    streams: dict = field(default_factory=dict)  # e.g. joint_positions, ee_pose, action
    joint_names: tuple = ()
    progress: list = field(default_factory=list)  # ProgressStamped fields, as dicts
    rewards: list = field(default_factory=list)   # RewardStamped fields, as dicts
    keyframes: list = field(default_factory=list)  # keyframes.Segment
    instructions: tuple = ('',)
    success: object = None          # True / False when known, else None
    sync: dict = None               # synchronization statistics when read from streams
    warnings: list = field(default_factory=list)

    def __post_init__(self):
        self.stamps = np.asarray(self.stamps, dtype=np.int64)
        missing = [v for v in VIEWS if v not in self.views]
        if missing:
            raise ValueError(f'episode {self.episode_id}: missing views {missing}')
        for view in VIEWS:
            frames = self.views[view]
            if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
                raise ValueError(f'episode {self.episode_id}: view {view} must be (T, H, W, 3) '
                                 f'uint8, got {frames.dtype} {frames.shape}')
            if len(frames) != len(self.stamps):
                raise ValueError(f'episode {self.episode_id}: view {view} has {len(frames)} '
                                 f'frames for {len(self.stamps)} stamps')
        if self.keyframes:
            parse_segments([s.to_json() for s in self.keyframes], num_frames=self.num_frames,
                           source=f'episode {self.episode_id} keyframes')

    @property
    def num_frames(self):
        return len(self.stamps)

    @property
    def image_size(self):
        """Return (width, height) of the front view."""
        return self.views['front'].shape[2], self.views['front'].shape[1]

    @property
    def duration(self):
        return (self.stamps[-1] - self.stamps[0]) / 1e9 if self.num_frames > 1 else 0.0

    def triplet(self, index):
        """Return the (front, left wrist, right wrist) images of frame index."""
        return tuple(self.views[v][index] for v in VIEWS)

    def stream_at_frames(self, name):
        """Return stream `name` sampled at every frame stamp (T, D)."""
        if name not in self.streams:
            raise KeyError(f'episode {self.episode_id} has no {name!r} stream '
                           f'(has {sorted(self.streams)})')
        return self.streams[name].at(self.stamps)
