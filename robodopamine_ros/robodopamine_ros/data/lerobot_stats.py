# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The feature statistics of a LeRobotDataset (meta/stats.json, the episodes' ``stats/*``).

As lerobot computes them (0.6.1 ``datasets/compute_stats.py``): per feature min, max, mean,
std, count and the quantiles q01, q10, q50, q90, q99, each a list shaped like one value of the
feature ([x] for a scalar, [a, b, c] for a vector). A video's are per channel, shape
(3, 1, 1), of pixel / 255 (in [0, 1]), over the frames sampled_frames spreads evenly over the
episode (images over 300 pixels on a side are strided down to about 150, as lerobot
does). A bool feature keeps bool min and max. The dataset's statistics aggregate the
episodes': count-weighted means and quantiles, the pooled variance.

Two departures, neither visible to a reader of the format: quantiles are exact
(numpy.quantile) where lerobot estimates them from 5000-bin histograms, and an episode's
video statistics come from the frames before encoding, as lerobot's do (it computes them on
the frames it is about to encode).
"""

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
QUANTILE_KEYS = tuple(f'q{int(round(q * 100)):02d}' for q in QUANTILES)
SAMPLED_FRAMES = 100   # lerobot's estimate_num_samples: all frames up to 100, then T ** 0.75
MAX_SAMPLED_FRAMES = 10_000


def feature_stats(values):
    """
    Statistics of one feature over an episode.

    values: (T,) or (T, D), numeric or bool. Returns {stat: numpy array}: shape (1,) for a
    scalar feature, (D,) for a vector; count (1,) = T.
    """
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    numbers = values.astype(np.float64)
    stats = {'min': values.min(axis=0), 'max': values.max(axis=0),
             'mean': numbers.mean(axis=0), 'std': numbers.std(axis=0),
             'count': np.array([len(values)], dtype=np.int64)}
    for key, q in zip(QUANTILE_KEYS, QUANTILES):
        stats[key] = np.quantile(numbers, q, axis=0)
    return stats


def sampled_frames(count):
    """Return the indices of the frames (of `count`) that an episode's video statistics read."""
    samples = min(count, max(SAMPLED_FRAMES, min(int(count ** 0.75), MAX_SAMPLED_FRAMES)))
    return np.round(np.linspace(0, count - 1, samples)).astype(int)


def video_stats(frames):
    """
    Per-channel statistics of a view (T, H, W, 3) uint8, in [0, 1], each shaped (3, 1, 1).

    count is the number of frames read (sampled_frames).
    """
    frames = np.asarray(frames)
    chosen = frames[sampled_frames(len(frames))]
    height, width = chosen.shape[1:3]
    if max(height, width) >= 300:   # lerobot's auto_downsample_height_width
        step = int((width if width > height else height) / 150)
        chosen = chosen[:, ::step, ::step]
    pixels = chosen.reshape(-1, 3).astype(np.float64) / 255.0
    stats = feature_stats(pixels)
    stats = {k: v if k == 'count' else v.reshape(3, 1, 1) for k, v in stats.items()}
    stats['count'] = np.array([len(chosen)], dtype=np.int64)
    return stats


def aggregate(episode_stats):
    """
    Dataset statistics from a list of per-episode {feature: {stat: array}}.

    lerobot's aggregate_stats: min of mins, max of maxes, count-weighted mean and quantiles,
    the pooled variance (each episode's variance plus its mean's squared distance from the
    total mean, count-weighted).
    """
    features = {f for stats in episode_stats for f in stats}
    out = {}
    for feature in sorted(features):
        items = [s[feature] for s in episode_stats if feature in s]
        counts = np.stack([s['count'] for s in items]).astype(np.float64)
        means = np.stack([s['mean'] for s in items])
        weights = counts.reshape((-1,) + (1,) * (means.ndim - 1))
        total = counts.sum()
        mean = (means * weights).sum(axis=0) / total
        variance = ((np.stack([s['std'] for s in items]) ** 2 + (means - mean) ** 2)
                    * weights).sum(axis=0) / total
        out[feature] = {'min': np.min(np.stack([s['min'] for s in items]), axis=0),
                        'max': np.max(np.stack([s['max'] for s in items]), axis=0),
                        'mean': mean, 'std': np.sqrt(variance),
                        'count': np.array([int(total)], dtype=np.int64)}
        for key in QUANTILE_KEYS:
            out[feature][key] = (np.stack([s[key] for s in items]) * weights).sum(axis=0) / total
    return out


def as_lists(stats):
    """{feature: {stat: array}} as JSON-ready nested lists (bools stay bools)."""
    return {feature: {key: np.asarray(value).tolist() for key, value in values.items()}
            for feature, values in stats.items()}
