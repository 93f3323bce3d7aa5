# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The GRM interface and the per-episode progress estimator.

The method: docs/method.md#one-query and docs/method.md#three-perspectives-and-fusion.

A GRM takes a batch of queries, each: the task text, reference START and END images (front
camera), and BEFORE and AFTER view triplets (front, left wrist, right wrist); it returns one hop
in [-1, 1] per query, or NaN for "no answer". A robot with one wrist camera passes that camera
in both wrist slots (ProgressEstimator does it when given two views).
"""

from dataclasses import dataclass
import time
from typing import Iterable, Optional, Sequence, Union

import numpy as np

from robodopamine_ros.data.episode import Episode
from robodopamine_ros.reward.progress import ProgressConfig, ProgressEstimate, ProgressTracker


@dataclass(frozen=True)
class GRMQuery:
    """One question to a GRM: how far did the robot move from BEFORE to AFTER."""

    task: str
    reference_start: np.ndarray   # front view at the start of the task (anchor)
    reference_end: np.ndarray     # front view with the task completed (goal, anchor)
    before: tuple[np.ndarray, np.ndarray, np.ndarray]  # (front, left wrist, right wrist)
    after: tuple[np.ndarray, np.ndarray, np.ndarray]   # (front, left wrist, right wrist)


class GRM:
    """Base class of GRM backends."""

    name = 'grm'

    def hops(self, queries: Sequence[GRMQuery]) -> np.ndarray:
        """Return a float array of hops in [-1, 1], NaN where the model gave no answer."""
        raise NotImplementedError

    @staticmethod
    def sanitize(hops: Union[Sequence[float], np.ndarray]) -> np.ndarray:
        """Clip to [-1, 1]; NaN and infinite values become NaN (no answer)."""
        hops = np.asarray(hops, dtype=float)
        return np.where(np.isfinite(hops), np.clip(hops, -1.0, 1.0), np.nan)


def as_triplet(views: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accept (front, left, right) or (front, wrist): a single wrist camera fills both slots."""
    views = tuple(views)
    if len(views) == 2:
        return (views[0], views[1], views[1])
    if len(views) != 3:
        raise ValueError(f'expected 2 or 3 views (front, wrist[, wrist]), got {len(views)}')
    return views


@dataclass
class Tick:
    """What one estimator tick produced."""

    estimate: ProgressEstimate
    hops: tuple[float, float, float]  # (incremental, forward, backward), NaN = no answer
    latency_s: float
    source: str = ''   # who answered, for a served GRM (grm/served.py): model@server


class ProgressEstimator:
    """
    Progress of one episode from a GRM: start() captures s_0, tick() scores the newest views.

    Each tick asks three queries in one batch: incremental (previous scored views -> now),
    forward-anchored (episode start -> now) and backward-anchored (goal -> now; the goal front
    image fills the three BEFORE slots unless goal wrist views are given).
    """

    def __init__(self, model: GRM, task: str, reference_start: np.ndarray,
                 reference_end: np.ndarray, goal_views: Optional[Sequence[np.ndarray]] = None,
                 config: ProgressConfig = ProgressConfig()) -> None:
        self.model, self.task = model, task
        self.reference_start, self.reference_end = reference_start, reference_end
        self.goal = as_triplet(goal_views) if goal_views is not None else \
            (reference_end, reference_end, reference_end)
        self.tracker = ProgressTracker(config)
        self.start_views = None
        self.previous = None

    def start(self, views: Sequence[np.ndarray]) -> ProgressEstimate:
        """Begin an episode at these views (progress 0)."""
        self.start_views = self.previous = as_triplet(views)
        self.tracker.reset()
        return self.tracker.estimate

    def queries(self, views: Sequence[np.ndarray]) -> list[GRMQuery]:
        views = as_triplet(views)
        make = lambda before: GRMQuery(self.task, self.reference_start,  # noqa: E731
                                       self.reference_end, before, views)
        return [make(self.previous), make(self.start_views), make(self.goal)]

    def tick(self, views: Sequence[np.ndarray], frame: object = None) -> Tick:
        """Score the views (one batched model call) and fold the three hops into progress."""
        if self.start_views is None:
            raise RuntimeError('ProgressEstimator.tick() before start()')
        begin = time.perf_counter()
        hops = self.model.hops(self.queries(views))
        latency = time.perf_counter() - begin
        h_i, h_f, h_b = (float(h) for h in hops)
        estimate = self.tracker.update(h_i, h_f, h_b, frame=frame)
        self.previous = as_triplet(views)
        return Tick(estimate, (h_i, h_f, h_b), latency, getattr(self.model, 'last_source', ''))


def run_episode(model: GRM, episode: Episode, frame_ids: Iterable[int],
                task: Optional[str] = None,
                references: Optional[tuple[np.ndarray, np.ndarray]] = None,
                config: ProgressConfig = ProgressConfig()) -> list[Tick]:
    """
    Score an Episode at the given frame indices (the first is the start) with a GRM.

    references: (start image, end image); default the episode's own first and last front
    frames. Returns the list of Ticks (one per scored frame after the first).
    """
    frame_ids = list(frame_ids)
    if len(frame_ids) < 2:
        raise ValueError(f'episode {episode.episode_id}: at least two frames are needed to '
                         f'score progress, got {len(frame_ids)}')
    start_image, end_image = references or (episode.views['front'][0],
                                            episode.views['front'][-1])
    estimator = ProgressEstimator(model, task if task is not None else episode.instructions[0],
                                  start_image, end_image, config=config)
    estimator.start(episode.triplet(frame_ids[0]))
    return [estimator.tick(episode.triplet(f), frame=f) for f in frame_ids[1:]]


def progress_curve(ticks: Sequence[Tick]) -> np.ndarray:
    """Fused progress of a scored episode, the start (0) included."""
    return np.array([0.0] + [t.estimate.progress for t in ticks])


def perspective_curves(ticks: Sequence[Tick]) -> dict[str, np.ndarray]:
    """Incremental, forward and backward progress per tick (NaN where not answered)."""
    return {name: np.array([getattr(t.estimate, name) for t in ticks])
            for name in ('incremental', 'forward', 'backward')}


def label_queries(episode: Episode, samples: int = 1000,
                  seed: int = 0) -> tuple[list, list[GRMQuery]]:
    """
    Return (label samples, queries) of the balanced label set of an episode.

    The label set: docs/method.md#hop-labels.

    References are the front views at the first sub-task start and the last sub-task end;
    each query carries the sample's instruction paraphrase.
    """
    from robodopamine_ros.reward.labels import build_labels, Demonstration, LabelConfig

    demo = Demonstration(episode.episode_id, tuple(episode.keyframes), episode.num_frames,
                         episode.instructions)
    labels = build_labels([demo], LabelConfig(samples_per_episode=samples), seed=seed)
    start = episode.views['front'][episode.keyframes[0].start]
    end = episode.views['front'][episode.keyframes[-1].end]
    queries = [GRMQuery(s.instruction, start, end, episode.triplet(s.before_frame),
                        episode.triplet(s.after_frame)) for s in labels.samples]
    return labels.samples, queries
