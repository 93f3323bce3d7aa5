# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Evaluating a GRM on an episode: more than VOC, which saturates.

The metrics: docs/method.md#reward-model-metrics.

evaluate_episode() scores the frames of an episode with a ProgressEstimator and reports:
- VOC of fused progress and of the incremental-only chain (the reference protocol), and of each
  anchored perspective;
- VOC-: the episode time-reversed, incremental chain started at 1 (a good model: close to -1);
- mean absolute error against keyframe progress (equalized rule, linear between states) when
  the episode has keyframes;
- the completion class of the fused curve.
"""

import math
import os
from typing import Iterable, Optional, Union

import numpy as np

from robodopamine_ros.data.episode import Episode
from robodopamine_ros.grm.base import (GRM, GRMQuery, perspective_curves, progress_curve,
                                       ProgressEstimator, run_episode)
from robodopamine_ros.reward.labels import equalized_states
from robodopamine_ros.reward.metrics import classify_completion, voc
from robodopamine_ros.reward.progress import incremental_update, ProgressConfig


def incremental_chain(hops: Iterable[float], start: float = 0.0) -> np.ndarray:
    """Fold hops with the incremental rule from `start`; a NaN hop leaves progress as it is."""
    values, progress = [start], start
    for hop in hops:
        if math.isfinite(hop):
            progress = incremental_update(progress, hop)
        values.append(progress)
    return np.array(values)


def reversed_incremental_hops(model: GRM, episode: Episode, frame_ids: Iterable[int], task: str,
                              references: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Hops of consecutive scored frames, played backwards (BEFORE = the later frame)."""
    start, end = references
    backwards = list(frame_ids)[::-1]
    queries = [GRMQuery(task, start, end, episode.triplet(a), episode.triplet(b))
               for a, b in zip(backwards, backwards[1:])]
    return model.hops(queries)


def evaluate_episode(model: GRM, episode: Episode, every: int = 10,
                     config: ProgressConfig = ProgressConfig(), task: Optional[str] = None,
                     references: Optional[tuple[np.ndarray, np.ndarray]] = None
                     ) -> tuple[dict, dict[str, np.ndarray]]:
    """Return (metrics dict, curves dict) for one episode scored every `every` frames."""
    if episode.num_frames < 2:
        raise ValueError(f'episode {episode.episode_id} has {episode.num_frames} frame(s): at '
                         'least two are needed to evaluate progress')
    frame_ids = list(range(0, episode.num_frames, max(1, every)))
    if frame_ids[-1] != episode.num_frames - 1:
        frame_ids.append(episode.num_frames - 1)
    task = task if task is not None else episode.instructions[0]
    references = references or (episode.views['front'][0], episode.views['front'][-1])
    ticks = run_episode(model, episode, frame_ids, task, references, config)
    fused = progress_curve(ticks)
    perspectives = perspective_curves(ticks)
    incremental_only = incremental_chain([t.hops[0] for t in ticks])
    reverse = incremental_chain(reversed_incremental_hops(model, episode, frame_ids, task,
                                                          references), start=1.0)
    metrics = {
        'episode': episode.episode_id, 'frames_scored': len(frame_ids),
        'voc_fused': voc(fused), 'voc_incremental': voc(incremental_only),
        'voc_forward': voc(np.nan_to_num(perspectives['forward'])),
        'voc_backward': voc(np.nan_to_num(perspectives['backward'])),
        'voc_minus': voc(reverse),
        'completion': classify_completion(fused),
        'no_answer_rate': float(np.mean([not math.isfinite(h) for t in ticks for h in t.hops])),
        'tick_latency_ms': 1000 * float(np.median([t.latency_s for t in ticks])),
    }
    curves = {'frames': np.array(frame_ids), 'fused': fused, 'incremental_only': incremental_only,
              'confidence': np.array([1.0] + [t.estimate.confidence for t in ticks]),
              **{k: np.concatenate([[0.0], v]) for k, v in perspectives.items()}}
    if episode.keyframes:
        truth = equalized_states(episode.keyframes).dense_progress(frame_ids)
        curves['keyframe_progress'] = truth
        metrics['mae_vs_keyframes'] = float(np.mean(np.abs(fused - truth)))
    return metrics, curves


def forward_back_correlation(model: GRM, episode: Episode,
                             references: tuple[np.ndarray, np.ndarray], every: int = 10,
                             config: ProgressConfig = ProgressConfig()) -> float:
    """
    Play the episode forward to 2/3, then backward to 1/4: progress should rise and fall.

    Returns the Pearson correlation between fused progress and keyframe progress.
    """
    if not episode.keyframes:
        raise ValueError(f'episode {episode.episode_id}: the forward-back test needs keyframes')
    turn = 2 * episode.num_frames // 3
    frames = list(range(0, turn, every)) + list(range(turn, episode.num_frames // 4, -every))
    ticks = run_episode(model, episode, frames, episode.instructions[0], references, config)
    truth = equalized_states(episode.keyframes).dense_progress(frames)
    return float(np.corrcoef(progress_curve(ticks), truth)[0, 1])


def stall_drift(model: GRM, episode: Episode, references: tuple[np.ndarray, np.ndarray],
                ticks: int = 40, every: int = 10, noise: int = 2,
                config: ProgressConfig = ProgressConfig(),
                seed: int = 0) -> tuple[float, float]:
    """
    Reach the frame at keyframe progress 0.5, then score near-identical copies of it.

    Returns (fused drift, incremental-only drift) over `ticks` ticks: what spurious small hops
    add up to while nothing happens.
    """
    if not episode.keyframes:
        raise ValueError(f'episode {episode.episode_id}: the stall test needs keyframes')
    truth = equalized_states(episode.keyframes).dense_progress(np.arange(episode.num_frames))
    middle = int(np.argmin(np.abs(truth - 0.5)))
    rng = np.random.default_rng(seed)
    base = episode.triplet(middle)

    frames = list(range(0, middle, every)) + [middle]
    copies = [tuple(np.clip(v.astype(np.int16) + rng.integers(-noise, noise + 1, v.shape),
                            0, 255).astype(np.uint8) for v in base) for _ in range(ticks)]
    estimator = ProgressEstimator(model, episode.instructions[0], *references, config=config)
    estimator.start(episode.triplet(0))
    arrived = [estimator.tick(episode.triplet(f)) for f in frames[1:]][-1]
    stalled = [estimator.tick(views) for views in copies]
    fused = stalled[-1].estimate.progress - arrived.estimate.progress
    incremental = incremental_chain([t.hops[0] for t in stalled],
                                    start=arrived.estimate.progress)
    return float(fused), float(incremental[-1] - incremental[0])


def evaluate_model(model: GRM, episode: Episode,
                   references: Optional[tuple[np.ndarray, np.ndarray]], every: int = 10,
                   config: ProgressConfig = ProgressConfig()
                   ) -> tuple[dict, dict[str, np.ndarray]]:
    """evaluate_episode plus, when keyframes exist, the forward-back and stall tests."""
    metrics, curves = evaluate_episode(model, episode, every, config, references=references)
    if episode.keyframes and episode.num_frames >= 4 * every:
        metrics['forward_back_corr'] = forward_back_correlation(model, episode, references,
                                                                every, config)
        fused, incremental = stall_drift(model, episode, references, every=every, config=config)
        metrics['stall_drift_fused'] = fused
        metrics['stall_drift_incremental'] = incremental
    return metrics, curves


def plot_progress(curves: dict[str, np.ndarray], title: str,
                  path: Union[str, os.PathLike]) -> None:
    """Save a PNG of the three perspectives, fused progress, confidence and keyframe truth."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    frames = curves['frames']
    figure, axis = plt.subplots(figsize=(8, 4), dpi=100)
    if 'keyframe_progress' in curves:
        axis.plot(frames, curves['keyframe_progress'], 'k--', lw=2, label='keyframe truth')
    for name, style in (('incremental', ':'), ('forward', ':'), ('backward', ':')):
        axis.plot(frames, curves[name], style, lw=1, label=name)
    axis.plot(frames, curves['fused'], lw=2.5, label='fused progress')
    axis.plot(frames, curves['confidence'], lw=1, alpha=0.5, label='confidence')
    axis.set_ylim(-0.05, 1.05)
    axis.set_xlabel('frame')
    axis.set_ylabel('progress')
    axis.set_title(title)
    axis.legend(loc='upper left', fontsize=7)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
