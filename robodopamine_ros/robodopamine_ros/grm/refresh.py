# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Refresh the compact GRM on the robot's own labelled episodes, and swap it in only if better.

docs/method.md#refresh-on-the-robots-own-episodes. The loop, in one place:

1. Read the labelled online episodes (data/online_episodes.py) and split them: every
   ``holdout_every``-th episode id is held out, never trained on, to judge the refresh.
2. Train the current GRM further (its weights, its references, the one-shot recipe's loss,
   grm/adapt_compact.py ``pair_loss``) on pools of ``pool`` states: ``1 - online_share`` of
   them from the demonstration (keyframe progress, as one-shot adaptation draws them), the rest
   from the training episodes' frames with the label rules' targets (grm/refresh_targets.py),
   stratified over target progress, ``hard_share`` of those drawn from the frames a label
   corrected. All pairs among the pool are trained, demonstration and robot states mixed, so a
   robot state is placed on the demonstration's scale.
3. Judge: the success detector is replayed with the old and the new GRM on the held-out
   episodes and the demonstration (which counts as one more labelled success, so a GRM that
   stops firing at all is never as good), and on the last ``train_check`` training episodes.
   The new GRM replaces the old one only when (``accept``) its balanced accuracy of "fired"
   against the label is higher on the held-out cases (a tie is no evidence: on a handful of
   episodes most candidates tie), its recall there is not lower, and on the training episodes
   neither its balanced accuracy nor its recall is lower.
4. Swap: the accepted GRM is written beside the folder and exchanged with it in one rename
   (grm/model_folder.py); its config.json lists every refresh (``refreshes``).

A refresh that cannot run or fails (too few labelled episodes, no held-out one, a non-finite
loss) keeps the current GRM and says why (RefreshResult.reason).
"""

from dataclasses import asdict, dataclass, field
import json
import math
from pathlib import Path
import time

import numpy as np
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.adapt_compact import (_sample_pool, CompactTrainConfig, demo_tensors,
                                                holdout_masks, make_optimizer, optimizer_step,
                                                pair_loss, reference_frames)
from robodopamine_ros.grm.refresh_targets import episode_targets, TargetRules
from robodopamine_ros.reward.progress import ProgressConfig
from robodopamine_ros.reward.success import DEFAULT_HOLD_S, ticks_for_hold
import torch


@dataclass
class RefreshConfig:
    """One refresh (module docstring). Defaults [ours]: bench/bench_grm_refresh.py."""

    every: int = 25               # online episodes between refreshes (0: never)
    steps: int = 150              # training steps, from the current weights
    lr: float = 3e-4              # peak learning rate (one-cycle), a third of adaptation's
    pool: int = 24                # states per step
    online_share: float = 0.5     # of them from the robot's episodes
    hard_share: float = 0.5       # of those, from frames a label corrected
    holdout_every: int = 4        # episode ids divisible by this are held out
    min_episodes: int = 4         # labelled training episodes before a first refresh
    max_frames: int = 4000        # robot frames kept in memory (corrections first)
    success_hold_s: float = DEFAULT_HOLD_S   # the detector's hold in the check
    success_delta: float = 0.05
    success_min_agreement: float = 0.0
    train_check: int = 24         # the last training episodes the check replays too (0: none)
    rules: TargetRules = field(default_factory=TargetRules)
    seed: int = 0

    def __post_init__(self):
        for name in ('every', 'steps', 'pool', 'holdout_every', 'min_episodes', 'max_frames',
                     'train_check'):
            value = getattr(self, name)
            low = (0 if name in ('every', 'train_check')
                   else 2 if name in ('pool', 'holdout_every') else 1)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f'refresh {name} must be an integer >= {low}, got {value!r}')
        for name in ('online_share', 'hard_share'):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f'refresh {name} must be in [0, 1], got '
                                 f'{getattr(self, name)!r}')
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f'refresh lr must be a number > 0, got {self.lr!r}')
        ticks_for_hold(1.0, self.success_hold_s)   # raises for a hold that is not >= 0 s

    def train_config(self, image_size):
        """Return the one-shot recipe's settings with this refresh's steps, rate and seed."""
        return CompactTrainConfig(steps=self.steps, pool=self.pool, lr=self.lr,
                                  image_size=tuple(image_size), seed=self.seed,
                                  eval_every=self.steps + 1)

    def progress_config(self, hold_ticks):
        return ProgressConfig(success_delta=self.success_delta, success_hold=hold_ticks,
                              success_min_agreement=self.success_min_agreement)


@dataclass
class RefreshResult:
    """What one refresh did; ``accepted`` says whether the GRM folder now holds a new model."""

    accepted: bool
    reason: str
    train_episodes: int = 0
    heldout_episodes: int = 0
    corrected_frames: int = 0
    old: dict = field(default_factory=dict)   # detector scores of the GRM before (held out)
    new: dict = field(default_factory=dict)   # ... and of the candidate
    train_old: dict = field(default_factory=dict)   # the same on the last training episodes
    train_new: dict = field(default_factory=dict)
    loss: list = field(default_factory=list)
    seconds: float = 0.0


def split_episodes(episodes, holdout_every):
    """Return (train, held_out) of labelled episodes: ids divisible by holdout_every held out."""
    labelled = [e for e in episodes if e.outcome.labelled]
    held = [e for e in labelled if e.outcome.episode_id % holdout_every == 0]
    return [e for e in labelled if e.outcome.episode_id % holdout_every], held


def frame_rate(stamps):
    """Return the frames' rate in Hz from their stamps (median interval); 10 Hz for one frame."""
    gaps = np.diff(np.asarray(stamps, dtype=np.int64))
    gaps = gaps[gaps > 0]
    return 1e9 / float(np.median(gaps)) if len(gaps) else 10.0


def replay_detector(model, references, task, frames, stamps, config):
    """
    Replay the success detector over an episode's frames with `model`: (fired, progress).

    frames: (T, 3, H, W, 3) uint8; the hold in ticks at the frames' own rate. progress: (T,)
    fused progress, 0 at the first frame.
    """
    from robodopamine_ros.grm.base import ProgressEstimator

    hold = ticks_for_hold(frame_rate(stamps), config.success_hold_s)
    estimator = ProgressEstimator(model, task, *references,
                                  config=config.progress_config(hold))
    estimator.start(tuple(frames[0]))
    curve, fired = [0.0], False
    for t in range(1, len(frames)):
        estimate = estimator.tick(tuple(frames[t]), frame=t).estimate
        curve.append(estimate.progress)
        fired = fired or estimate.success
    return fired, np.array(curve)


def detector_check(model, references, task, cases, config):
    """
    Score the detector on labelled cases [(frames, stamps, success)]: a dict.

    balanced_accuracy: the mean of the true-positive and true-negative rates (the one present
    when a class is missing); precision, recall (NaN without a firing / a success); counts.
    """
    tp = fp = fn = tn = 0
    for frames, stamps, success in cases:
        fired, _ = replay_detector(model, references, task, frames, stamps, config)
        tp, fp = tp + (fired and success), fp + (fired and not success)
        fn, tn = fn + (not fired and success), tn + (not fired and not success)
    rates = [tp / (tp + fn)] if tp + fn else []
    rates += [tn / (tn + fp)] if tn + fp else []
    return {'balanced_accuracy': float(np.mean(rates)) if rates else math.nan,
            'precision': tp / (tp + fp) if tp + fp else math.nan,
            'recall': tp / (tp + fn) if tp + fn else math.nan,
            'true_positives': tp, 'false_positives': fp, 'false_negatives': fn,
            'true_negatives': tn}


def accept(old, new, train_old, train_new):
    """
    Return (accepted, why): whether a candidate with detector scores `new` replaces `old`.

    old, new: detector_check on the held-out cases; train_old, train_new: on the last training
    episodes (empty dicts: not checked). Accepted only when the held-out balanced accuracy is
    higher (not equal), the held-out recall is not lower, and on the training episodes neither
    the balanced accuracy nor the recall is lower (a NaN recall, no success among the cases,
    compares as equal). [ours] Why: bench/RESULTS.md `grm refresh`: with ties accepted, 4 of 6
    tied candidates went in and the detector's recall on its training episodes fell 0.36 ->
    0.14-0.19.
    """
    def lower(a, b, key):   # b < a, a NaN on either side is no evidence
        return not (math.isnan(a[key]) or math.isnan(b[key])) and b[key] < a[key]

    if not new['balanced_accuracy'] > old['balanced_accuracy']:
        return False, 'no better on the held-out episodes'
    if lower(old, new, 'recall'):
        return False, f'recall on the held-out episodes fell {old["recall"]:.2f} -> ' \
                      f'{new["recall"]:.2f}'
    for key in ('balanced_accuracy', 'recall') if train_old else ():
        if lower(train_old, train_new, key):
            return False, f'{key.replace("_", " ")} on the last training episodes fell ' \
                          f'{train_old[key]:.2f} -> {train_new[key]:.2f}'
    return True, 'better on the held-out episodes, no worse on the training ones'


def demo_case(demo, config):
    """
    Return the demonstration as a labelled success for the detector check.

    Returns (frames, stamps, True).

    Its frames from the first sub-task's start to the last one's end, then the end frame held
    for the detector's hold (and a tick): a demonstration stops at the success, where a robot's
    successful episode rests in it.
    """
    start, end = reference_frames(demo)
    frames = np.stack([demo.views[v] for v in VIEWS], axis=1)[start:end + 1]
    stamps = demo.stamps[start:end + 1]
    rate = frame_rate(stamps)
    pad = ticks_for_hold(rate, config.success_hold_s) + 1
    period = int(round(1e9 / rate))
    return (np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)]),
            np.concatenate([stamps, stamps[-1] + period * np.arange(1, pad + 1)]), True)


def _robot_frames(episodes, rules, max_frames, rng):
    """
    Return the robot's training frames, at most max_frames: (frames, targets, changed, count).

    count: the frames a label corrected, all of them (before max_frames).
    """
    targets, changed, owner = [], [], []
    for k, episode in enumerate(episodes):
        target, moved = episode_targets(episode, rules)
        targets.append(target)
        changed.append(moved)
        owner.append(np.stack([np.full(len(target), k), np.arange(len(target))], axis=1))
    targets, changed = np.concatenate(targets), np.concatenate(changed)
    owner = np.concatenate(owner)
    keep = np.arange(len(targets))
    if len(keep) > max_frames:   # keep every correction, then an even share of the rest
        hard = np.flatnonzero(changed)[:max_frames]
        rest = np.flatnonzero(~changed)
        keep = np.sort(np.concatenate([hard, rng.choice(
            rest, size=max(0, max_frames - len(hard)), replace=False)]))
    frames = np.stack([episodes[e].frames[f] for e, f in owner[keep]])
    return frames, targets[keep], changed[keep], int(changed.sum())


def _robot_pool(targets, changed, k, hard_share, rng):
    """Return k robot frames' indices: stratified over target, hard_share from corrections."""
    hard = np.flatnonzero(changed)
    n_hard = min(len(hard), int(round(k * hard_share)))
    order = np.argsort(targets, kind='stable')
    quantiles = (np.arange(k - n_hard) + rng.random(k - n_hard)) / max(1, k - n_hard)
    spread = order[np.searchsorted(targets[order], quantiles).clip(0, len(order) - 1)]
    return np.concatenate([rng.choice(hard, size=n_hard), spread]).astype(int)


def train_candidate(model, demo, references, episodes, config):
    """
    Train `model` (changed in place) on the demo and the robot's episodes.

    Returns (losses, the robot frames a label corrected, counted before max_frames).

    Raises FloatingPointError at the first non-finite loss (the caller keeps the old GRM).
    """
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    train_config = config.train_config(model.config['image_size'])
    demo_frames, _, demo_progress = demo_tensors(demo)
    every_nth, in_segments = holdout_masks(demo, train_config)
    demo_train = np.flatnonzero(~(every_nth | in_segments))
    order = np.argsort(demo_progress.numpy()[demo_train], kind='stable')
    demo_train = demo_train[order]
    demo_sorted = demo_progress.numpy()[demo_train]
    start, end = reference_frames(demo)
    frames, targets, changed, corrected = _robot_frames(episodes, config.rules,
                                                        config.max_frames, rng)
    frames_t = torch.from_numpy(frames)
    targets_t = torch.from_numpy(targets)
    refs = torch.from_numpy(np.stack(references))
    k_robot = int(round(config.pool * config.online_share))
    k_demo = config.pool - k_robot
    optimizer, schedule = make_optimizer(model, train_config)
    losses = []
    model.net.train()
    for step in range(config.steps):
        parts_v, parts_p = [], []
        if k_demo >= 2:
            index = _sample_pool(demo_train, demo_sorted, start, end, k_demo, rng)
            parts_v.append(demo_frames[index])
            parts_p.append(demo_progress[index])
        if k_robot:
            index = torch.from_numpy(_robot_pool(targets, changed, k_robot, config.hard_share,
                                                 rng))
            parts_v.append(frames_t[index])
            parts_p.append(targets_t[index])
        loss, _, _ = pair_loss(model, torch.cat(parts_v), refs, torch.cat(parts_p),
                               train_config, generator, rng)
        if not torch.isfinite(loss):
            raise FloatingPointError(f'refresh step {step + 1}: loss is {loss.item()}')
        losses.append(optimizer_step(model, optimizer, schedule, loss))
    model.net.eval()
    model._cache.clear()
    return losses, corrected


def refresh_grm(model_dir, demo, episodes, config=None):
    """
    Refresh the compact GRM in `model_dir`; returns a RefreshResult.

    demo: the demonstration (an Episode with keyframes); episodes: the robot's online episodes
    (data.online_episodes.OnlineEpisode).

    The folder is replaced (atomically) only when the candidate passes the check (``accept``).
    Nothing raised by training reaches the caller: a
    failed refresh keeps the current GRM, and its reason says what failed.
    """
    from robodopamine_ros.grm.compact import CompactGRM
    from robodopamine_ros.grm.loading import stored_task

    config = config or RefreshConfig()
    began = time.perf_counter()
    model_dir = Path(model_dir)
    train, held = split_episodes(episodes, config.holdout_every)
    result = RefreshResult(False, '', len(train), len(held))
    if len(train) < config.min_episodes:
        result.reason = (f'{len(train)} labelled training episodes, a refresh needs '
                         f'{config.min_episodes}: kept the current GRM')
        return result
    if not held:
        result.reason = 'no held-out labelled episode to check a new GRM on: kept the current'
        return result
    model = CompactGRM.load(model_dir)
    references = model.saved_references(model_dir)
    if references is None:
        raise ValueError(f'{model_dir}: the GRM folder holds no reference images')
    task = stored_task(model)
    cases = [demo_case(demo, config)] + [(e.frames, e.stamps, e.outcome.success) for e in held]
    recent = sorted(train, key=lambda e: e.outcome.episode_id)
    recent = [(e.frames, e.stamps, e.outcome.success)
              for e in recent[max(0, len(recent) - config.train_check):]]
    result.old = detector_check(model, references, task, cases, config)
    if recent:
        result.train_old = detector_check(model, references, task, recent, config)
    try:
        result.loss, result.corrected_frames = train_candidate(model, demo, references, train,
                                                               config)
    except FloatingPointError as error:
        result.reason = f'{error}: kept the current GRM'
        result.seconds = round(time.perf_counter() - began, 1)
        return result
    result.new = detector_check(model, references, task, cases, config)
    if recent:
        result.train_new = detector_check(model, references, task, recent, config)
    result.accepted, why = accept(result.old, result.new, result.train_old, result.train_new)
    old, new = result.old['balanced_accuracy'], result.new['balanced_accuracy']
    result.reason = (f'held-out balanced accuracy {new:.3f} vs {old:.3f} '
                     f'({len(held)} episodes and the demonstration), {why}: '
                     + ('swapped in' if result.accepted else 'kept the current GRM'))
    result.seconds = round(time.perf_counter() - began, 1)
    if result.accepted:
        entry = json.loads(json.dumps({k: v for k, v in asdict(result).items() if k != 'loss'},
                                      default=str).replace('NaN', 'null'))
        entry['final_loss'] = result.loss[-1] if result.loss else None
        model.save(model_dir, references, extra={
            'refreshes': list(model.config.get('refreshes', [])) + [entry]})
    return result
