# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Hop-based, step-wise training labels for a GRM (docs/method.md#hop-labels).

From one or more demonstrations with sub-task keyframes:

1. equalized_states(): the sampled frame ids and their ground-truth progress i / M, every
   sub-task carrying the same share of progress however long it takes;
2. hop_label(): the hop between a BEFORE and an AFTER state;
3. build_labels(): balanced (BEFORE, AFTER, hop) samples over 25 hop bins x 4 gap bins, 5 %
   zero-hop anchors on jittered raw frames, reference swap across episodes and a random
   instruction paraphrase per sample. Deterministic under a seed.
"""

from dataclasses import asdict, dataclass, field
import math
from typing import Sequence, Union

import numpy as np

from robodopamine_ros.data.keyframes import parse_segments, Segment

HOP_BINS = 25
GAP_BINS = 4


@dataclass(frozen=True)
class LabelConfig:
    """Parameters of the hop labels (docs/method.md#hop-labels; defaults are the paper's)."""

    chunk: int = 20                  # C: frames per interval before equalization
    samples_per_episode: int = 1000  # cap on balanced pairs per episode
    oversample: int = 100            # candidate pool = oversample x samples, ...
    max_pool: int = 100_000          # ... at most this many candidates
    hop_bins: int = HOP_BINS
    gap_bins: int = GAP_BINS
    zero_fraction: float = 0.05      # extra zero-hop anchors, as a fraction of the samples
    zero_window: float = 0.075       # anchor window: floor(0.075 * (frame[b+1] - frame[b-1]))
    reference_swap: float = 0.75     # probability that references come from another episode

    def __post_init__(self):
        checks = {
            'chunk': self.chunk >= 1, 'samples_per_episode': self.samples_per_episode >= 1,
            'oversample': self.oversample >= 1, 'max_pool': self.max_pool >= 1,
            'hop_bins': self.hop_bins >= 1, 'gap_bins': self.gap_bins >= 1,
            'zero_fraction': 0.0 <= self.zero_fraction <= 1.0,
            'zero_window': self.zero_window >= 0.0,
            'reference_swap': 0.0 <= self.reference_swap <= 1.0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f'LabelConfig.{name}={getattr(self, name)!r} is out of range')


@dataclass(frozen=True)
class EpisodeStates:
    """The equalized states of one demonstration."""

    frames: tuple[int, ...]  # sampled frame ids, strictly increasing, len M + 1
    intervals_per_segment: int

    @property
    def num_intervals(self) -> int:
        return len(self.frames) - 1

    @property
    def progress(self) -> np.ndarray:
        """Ground-truth progress i / M of each sampled state, shape (M + 1,)."""
        return np.arange(len(self.frames)) / self.num_intervals

    def dense_progress(self, frame_ids: Union[int, Sequence[int], np.ndarray]) -> np.ndarray:
        """
        Keyframe progress of arbitrary frames, piecewise-linear between sampled states.

        Frames before the first state have progress 0, after the last state 1.
        """
        return np.interp(np.asarray(frame_ids, dtype=float), self.frames, self.progress)


def equalized_states(segments: Sequence[Segment], chunk: int = 20) -> EpisodeStates:
    """
    Sample states so that every sub-task carries equal progress.

    The rule: docs/method.md#equalized-sampling.

    L = last end - first start; n = L / C; every segment gets m = round(n / N) intervals
    (at least 1), placed at linspace(start, end, m + 1) rounded to frame ids; the union is
    de-duplicated. Rounding is Python's round() (half to even), as numpy's rint.
    """
    segments = parse_segments([s.to_json() for s in segments])
    if chunk < 1:
        raise ValueError(f'chunk must be >= 1 frame, got {chunk}')
    length = segments[-1].end - segments[0].start
    m = max(1, round(length / chunk / len(segments)))
    frames = set()
    for segment in segments:
        frames.update(int(f) for f in np.rint(np.linspace(segment.start, segment.end, m + 1)))
    return EpisodeStates(frames=tuple(sorted(frames)), intervals_per_segment=m)


def hop_label(p: int, q: int, num_intervals: int) -> float:
    """
    Hop from sampled state p (BEFORE) to q (AFTER) among M = num_intervals intervals.

    The rule of hop_between with M as the full progress. Raises ValueError when p or q is
    outside [0, M].
    """
    if not (0 <= p <= num_intervals and 0 <= q <= num_intervals):
        raise ValueError(f'states p={p}, q={q} outside [0, {num_intervals}]')
    return hop_between(p, q, full=num_intervals)


def hop_between(before, after, full=1.0):
    """
    Return the hop label from progress `before` to `after` (docs/method.md#hop-labels).

    (after - before) / (full - before) forward, (after - before) / before backward, 0 when
    equal: the fraction of the remaining distance closed, or of the achieved progress lost.
    The one implementation of the rule: scalars give a float; numpy arrays and torch tensors
    (the training targets) are computed elementwise, denominators clamped at 1e-6.
    """
    if hasattr(after, 'clamp'):  # torch tensors, without importing torch here
        delta = after - before
        forward = delta / (full - before).clamp(min=1e-6)
        backward = delta / before.clamp(min=1e-6)
        return forward.where(after > before, backward.where(after < before, delta * 0))
    if np.ndim(before) or np.ndim(after):
        before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
        delta = after - before
        forward = delta / np.maximum(full - before, 1e-6)
        backward = delta / np.maximum(before, 1e-6)
        return np.where(after > before, forward, np.where(after < before, backward, 0.0))
    if after > before:
        return (after - before) / (full - before)
    if after < before:
        return (after - before) / before
    return 0.0


@dataclass(frozen=True)
class Demonstration:
    """What label construction needs of a demonstration: its keyframes and length."""

    episode_id: str
    segments: tuple[Segment, ...]
    num_frames: int
    instructions: tuple[str, ...] = ('',)

    def __post_init__(self):
        parse_segments([s.to_json() for s in self.segments], num_frames=self.num_frames,
                       source=f'episode {self.episode_id}')
        if not self.instructions:
            raise ValueError(f'episode {self.episode_id}: at least one instruction is needed')


@dataclass(frozen=True)
class LabelSample:
    """One training query: BEFORE and AFTER frames of an episode, the hop, its references."""

    episode_id: str
    before_frame: int
    after_frame: int
    before_progress: float
    after_progress: float
    hop: float
    kind: str                 # 'pair' (two sampled states) or 'zero' (jittered anchor)
    reference_episode: str    # episode whose START/END images serve as references
    instruction: str


@dataclass
class LabelSet:
    """Labels of a set of demonstrations, with the states they were drawn from."""

    samples: list[LabelSample]
    states: dict[str, EpisodeStates]  # episode_id -> EpisodeStates
    config: LabelConfig
    seed: int
    pool_sizes: dict[str, int] = field(default_factory=dict)

    def hop_bin_counts(self) -> np.ndarray:
        """Return sample counts per hop bin (pairs and zero anchors together)."""
        return np.bincount(_hop_bins(np.array([s.hop for s in self.samples]),
                                     self.config.hop_bins),
                           minlength=self.config.hop_bins)

    def gap_bin_counts(self) -> np.ndarray:
        """Return pair counts per gap bin (|p - q| in sampled-state steps)."""
        counts = np.zeros(self.config.gap_bins, dtype=int)
        for sample in self.samples:
            if sample.kind != 'pair':
                continue
            states = self.states[sample.episode_id]
            gap = abs(states.frames.index(sample.after_frame)
                      - states.frames.index(sample.before_frame))
            counts[_gap_bins(np.array([gap]), states.num_intervals, self.config.gap_bins)[0]] += 1
        return counts

    def summary(self) -> dict:
        return {
            'seed': self.seed,
            'config': asdict(self.config),
            'episodes': {
                eid: {'frames': list(s.frames), 'progress': [round(p, 6) for p in s.progress],
                      'num_intervals': s.num_intervals,
                      'intervals_per_segment': s.intervals_per_segment,
                      'candidate_pool': self.pool_sizes.get(eid, 0)}
                for eid, s in self.states.items()},
            'samples': len(self.samples),
            'pairs': sum(s.kind == 'pair' for s in self.samples),
            'zero_hop_anchors': sum(s.kind == 'zero' for s in self.samples),
            'hop_bin_edges': np.linspace(-1, 1, self.config.hop_bins + 1).round(4).tolist(),
            'hop_bin_counts': self.hop_bin_counts().tolist(),
            'gap_bin_counts': self.gap_bin_counts().tolist(),
            'reference_swapped': sum(s.reference_episode != s.episode_id
                                     for s in self.samples),
        }


def _hop_bins(hops, num_bins):
    return np.clip(((hops + 1.0) / 2.0 * num_bins).astype(int), 0, num_bins - 1)


def _gap_bins(gaps, num_intervals, num_bins):
    """Equal-width bins of the gap |p - q| over [1, M]."""
    return np.clip(((gaps - 1) * num_bins // max(num_intervals, 1)).astype(int), 0, num_bins - 1)


def _candidate_pairs(num_states, pool_size, rng):
    """
    Ordered pairs (p, q), p != q, of sampled states.

    When all such pairs fit in the pool they are all taken (an exhaustive pool is what
    oversampling converges to); otherwise pool_size distinct pairs are drawn at random.
    """
    total = num_states * (num_states - 1)
    if total <= pool_size:
        p, q = np.nonzero(~np.eye(num_states, dtype=bool))
    else:
        flat = rng.choice(num_states * num_states, size=min(pool_size * 2, num_states ** 2),
                          replace=False)
        p, q = np.divmod(flat, num_states)
        keep = p != q
        p, q = p[keep][:pool_size], q[keep][:pool_size]
    order = rng.permutation(len(p))
    return p[order], q[order]


def _round_robin(queues, limit, rng):
    """Take one item from each non-empty queue per round (queues in random order)."""
    queues = [queue for queue in queues if queue]
    taken, depth = [], 0
    while len(taken) < limit and queues:
        for k in rng.permutation(len(queues)):
            if depth < len(queues[k]):
                taken.append(queues[k][depth])
                if len(taken) == limit:
                    break
        depth += 1
        queues = [queue for queue in queues if depth < len(queue)]
    return taken


def _balanced_pairs(num_intervals, config, rng):
    """
    Fill the hop bins equally; inside a hop bin, spread its pairs equally over the gap bins.

    A hop bin that runs out of candidates leaves its share to the others.
    """
    pool_size = min(config.oversample * config.samples_per_episode, config.max_pool)
    p, q = _candidate_pairs(num_intervals + 1, pool_size, rng)
    hops = np.where(q > p, (q - p) / np.maximum(num_intervals - p, 1),
                    (q - p) / np.maximum(p, 1))
    hop_bin = _hop_bins(hops, config.hop_bins)
    gap_bin = _gap_bins(np.abs(q - p), num_intervals, config.gap_bins)
    per_hop_bin = []
    for h in range(config.hop_bins):
        cells = [list(np.nonzero((hop_bin == h) & (gap_bin == g))[0])
                 for g in range(config.gap_bins)]
        per_hop_bin.append(_round_robin(cells, len(p), rng))
    chosen = np.array(_round_robin(per_hop_bin, config.samples_per_episode, rng), dtype=int)
    return p[chosen], q[chosen], hops[chosen], len(p)


def _zero_anchor_window(frames, b, zero_window):
    before = frames[b - 1] if b > 0 else frames[b]
    after = frames[b + 1] if b < len(frames) - 1 else frames[b]
    return max(1, math.floor(zero_window * (after - before)))


def build_labels(demos: Sequence[Demonstration], config: LabelConfig = LabelConfig(),
                 seed: int = 0) -> LabelSet:
    """
    Build balanced hop labels for a list of Demonstrations (docs/method.md#hop-labels).

    With a single demonstration the reference swap has no other episode to draw from and
    every sample uses its own episode's references.
    """
    if not demos:
        raise ValueError('build_labels needs at least one demonstration')
    ids = [d.episode_id for d in demos]
    if len(set(ids)) != len(ids):
        raise ValueError(f'episode ids must be unique, got {ids}')
    rng = np.random.default_rng(seed)
    samples, states_by_episode, pool_sizes = [], {}, {}
    for demo in demos:
        states = equalized_states(list(demo.segments), config.chunk)
        states_by_episode[demo.episode_id] = states
        frames, progress, m = states.frames, states.progress.tolist(), states.num_intervals
        others = [i for i in ids if i != demo.episode_id]
        swap = config.reference_swap if others else 0.0

        def extras(demo=demo, others=others, swap=swap):
            """Draw the reference episode (swapped with probability swap) and an instruction."""
            ref = others[rng.integers(len(others))] if rng.random() < swap else demo.episode_id
            return ref, demo.instructions[rng.integers(len(demo.instructions))]

        p, q, hops, pool_sizes[demo.episode_id] = _balanced_pairs(m, config, rng)
        for pi, qi, hop in zip(p.tolist(), q.tolist(), hops.tolist()):
            samples.append(LabelSample(demo.episode_id, frames[pi], frames[qi], progress[pi],
                                       progress[qi], hop, 'pair', *extras()))
        for _ in range(round(config.zero_fraction * len(p))):
            b = int(rng.integers(len(frames)))
            window = _zero_anchor_window(frames, b, config.zero_window)
            offset = int(rng.integers(1, window + 1)) * (1 if rng.random() < 0.5 else -1)
            after = min(max(frames[b] + offset, 0), demo.num_frames - 1)
            samples.append(LabelSample(demo.episode_id, frames[b], after, progress[b],
                                       progress[b], 0.0, 'zero', *extras()))
    return LabelSet(samples, states_by_episode, config, seed, pool_sizes)
