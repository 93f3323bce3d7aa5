# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Pre-training the compact GRM on a multi-task corpus (sim/corpus.py), before one-shot adaptation.

The network is the one-shot model's (grm/compact.py) and the loss is the one-shot loss
(adapt_compact.pair_loss: all pairs of a pool of states, hop labels, balanced hop bins). What
changes is where pools come from: each step draws one task, and its pool mixes

- states of the task's expert episodes, stratified over progress (every part of the task
  equally often), with the start and the goal of one of them always in;
- states of its halfway episodes (progress frozen where the expert stopped) and of its random
  episodes (progress 0): motion that is not progress, so the model learns not to credit it.

The task is given to the model the way a one-shot task is: by reference start and goal views.
With ``references = 'episode'`` (the default) each step takes them from a random successful
expert episode of the task, so the references mostly show another layout than the states of
the pool, as a demonstration does on the robot (docs/method.md, the labels' reference swap);
``'task'`` keeps the task's stored references (its first expert episode) for every step, as
the shipped model was trained. A few tasks are held out (never trained on) and the mean dense
VOC of their expert episodes and the mean final progress of their random episodes are
measured as training goes: they say whether the model generalizes to unseen tasks.
"""

from dataclasses import asdict, dataclass
import math
from pathlib import Path
import time

import numpy as np
from robodopamine_ros.data.corpus import FORMAT, load_task, task_folder
from robodopamine_ros.data.topics import IMAGE_SIZE
from robodopamine_ros.grm.adapt_compact import (make_optimizer, optimizer_step, pair_loss,
                                                start_check)
from robodopamine_ros.grm.compact import CompactGRM
import torch

PRETRAINED_TASK = 'pre-trained on the multi-task corpus; adapt it one-shot on your task'
# the model shipped with the package (written by `robodopamine pretrain`, see its MODEL_CARD.md)
SHIPPED = Path(__file__).resolve().parent / 'pretrained'


class ImageSizeError(ValueError):
    """A pre-trained compact GRM takes another image size than adaptation was asked for."""


def initial_model(init, image_size, seed=0):
    """
    Return the compact GRM one-shot adaptation starts from.

    init: 'pretrained' (the shipped model), 'scratch' (random weights drawn from `seed`) or a
    model folder ('auto' is choose_start's). Raises ImageSizeError (a ValueError) when the
    model's image size is not image_size, naming both, FileNotFoundError when the folder is
    missing, and what CompactGRM.load raises for a folder it cannot read.
    """
    if init == 'scratch':
        with torch.random.fork_rng(devices=[]):   # seeded weights, the caller's RNG untouched
            torch.manual_seed(seed)
            return CompactGRM.create(image_size=list(image_size))
    folder = SHIPPED if init == 'pretrained' else Path(init)
    if not (folder / 'model.safetensors').is_file():
        raise FileNotFoundError(f'{folder}: no pre-trained compact GRM there (`robodopamine '
                                'pretrain` writes one); use --init scratch to adapt from '
                                'random weights')
    model = CompactGRM.load(folder)
    if tuple(model.config['image_size']) != tuple(image_size):
        raise ImageSizeError(f'{folder}: the pre-trained model takes '
                             f'{model.config["image_size"]} images, adaptation was asked for '
                             f'{list(image_size)}')
    return model


# --init auto keeps the pre-trained start only when its hop error on the demo's held-out frames
# is under this share of the error of predicting no progress. Measured (adapt_compact.start_check:
# every 10th frame, 7-14 frames on the simulated demos, 128 on the real one): simulated
# peg-insertion demos of layout seeds 1-6, 0.34-0.60 of it; the shared real demo (real camera
# images, a domain the simulated corpus never showed) 1.15, worse than knowing nothing, and there
# adapting from random weights measured better (docs/decisions.md).
KNOWN_IMAGES_RATIO = 0.8


def choose_start(init, episode, config, log=print):
    """
    Return the model one-shot adaptation of `episode` starts from, and why: (model, start).

    init: 'auto' (the shipped pre-trained model when it knows the demo's images, by
    KNOWN_IMAGES_RATIO, else random weights; random weights too when the shipped model takes
    another image size than config.image_size), 'pretrained', 'scratch' or a model folder. A
    pre-trained start that knows little of the images is kept when asked for by name, with a
    warning in the log; when the check cannot be made (fewer than two held-out frames) the
    pre-trained start is kept and the log says so. start, the model's record: 'asked' (init),
    'init' (the start used), and when a pre-trained model was checked 'checked' (that model:
    'pretrained' or its folder), 'hop_error' and 'no_progress_error'
    (adapt_compact.start_check; None when not measurable); 'reason' when auto did not take the
    shipped model. Raises what initial_model raises, except auto's image-size fallback.
    """
    start = {'asked': str(init), 'init': str(init)}
    if init == 'scratch':
        return initial_model('scratch', config.image_size, config.seed), start
    candidate = 'pretrained' if init == 'auto' else str(init)
    try:
        model = initial_model(candidate, config.image_size)
    except ImageSizeError as error:
        if init != 'auto':
            raise
        log(f'{error}: adapting from random weights')
        start.update(init='scratch', reason=str(error))
        return initial_model('scratch', config.image_size, config.seed), start
    start.update(checked=candidate, init=candidate)
    error, floor = start_check(model, episode, config)
    if not (math.isfinite(error) and floor > 0):
        start.update(hop_error=None, no_progress_error=None)
        log(f'{candidate} kept as the start: too few held-out frames to check it')
        return model, start
    start.update(hop_error=round(error, 4), no_progress_error=round(floor, 4))
    if error < KNOWN_IMAGES_RATIO * floor:
        return model, start
    name = 'the shipped pre-trained GRM' if candidate == 'pretrained' else candidate
    text = (f"{name} knows little of these images: hop error {error:.3f} on the demo's "
            f'held-out frames, {floor:.3f} for predicting no progress')
    if init != 'auto':
        other = ('--init auto would adapt from random weights' if init == 'pretrained' else
                 'kept as asked; --init scratch adapts from random weights')
        log(f'warning: {text}; {other}')
        return model, start
    log(f'{text}: adapting from random weights (--init pretrained keeps it)')
    start.update(init='scratch', reason=f'hop error {error:.3f} not under '
                 f'{KNOWN_IMAGES_RATIO} x {floor:.3f} (predicting no progress)')
    return initial_model('scratch', config.image_size, config.seed), start


def start_reason(start):
    """Say why an adaptation started where it did (choose_start's record), one clause."""
    if start['asked'] != 'auto':
        return f'asked for (--init {start["asked"]})'
    if 'reason' in start:
        return f'--init auto: {start["reason"]}'
    if start.get('hop_error') is None:
        return '--init auto: kept unchecked (too few held-out frames to check it)'
    return (f"--init auto: it knows the demo's images (hop error {start['hop_error']:.3f} under "
            f"{KNOWN_IMAGES_RATIO} x {start['no_progress_error']:.3f}, that of predicting no "
            'progress)')


def start_text(start):
    """Say where an adaptation started (choose_start's record), in words for a report."""
    text = {'pretrained': 'the pre-trained GRM shipped with the package',
            'scratch': 'random weights'}.get(start['init'], f'`{start["init"]}`')
    if start['asked'] != start['init']:
        text += f' (`--init {start["asked"]}`)'
    if start.get('hop_error') is not None:
        text += (f"; {start['checked']}'s hop error on the demo's held-out frames before "
                 f'adapting: {start["hop_error"]:.3f}, predicting no progress: '
                 f'{start["no_progress_error"]:.3f}')
    return text


REFERENCE_SOURCES = ('episode', 'task')


@dataclass
class PretrainConfig:
    steps: int = 3000
    pool: int = 24
    expert_share: float = 0.6        # of the pool (after start and goal): expert states
    lr: float = 1e-3
    weight_decay: float = 1e-4
    image_size: tuple = IMAGE_SIZE
    colour_jitter: float = 0.15      # augmentation, as adapt_compact's
    max_shift: int = 3
    view_dropout: float = 0.1
    holdout_tasks: int = 4           # every n-th task of the corpus is held out (0: none)
    references: str = 'episode'      # 'episode' or 'task' (module docstring)
    eval_every: int = 500
    seed: int = 0

    def __post_init__(self):
        if self.pool < 4:
            raise ValueError(f'pool must be >= 4 states, got {self.pool}')
        if not 0.0 < self.expert_share <= 1.0:
            raise ValueError(f'expert_share must be in (0, 1], got {self.expert_share}')
        if self.references not in REFERENCE_SOURCES:
            raise ValueError(f'references must be one of {REFERENCE_SOURCES}, got '
                             f'{self.references!r}')
        self.image_size = tuple(self.image_size)


class Corpus:
    """The tasks of a corpus folder in memory: references and episodes per task."""

    def __init__(self, folder, image_size):
        import json

        folder = Path(folder)
        manifest_path = folder / 'corpus.json'
        if not manifest_path.is_file():
            raise ValueError(f'{folder}: no corpus.json (record one with `robodopamine corpus`)')
        manifest = json.loads(manifest_path.read_text())
        if manifest.get('format') != FORMAT:
            raise ValueError(f'{manifest_path}: format {manifest.get("format")!r}, expected '
                             f'{FORMAT!r}')
        size = tuple(manifest['settings']['image_size'])
        if size != tuple(image_size):
            raise ValueError(f'{folder} holds {size[0]}x{size[1]} images, the model takes '
                             f'{image_size[0]}x{image_size[1]}')
        folders = {name: task_folder(folder, name, str(manifest_path))
                   for name in manifest['tasks']}
        self.names = sorted(folders)
        if not self.names:
            raise ValueError(f'{folder}: the corpus holds no finished task')
        self.tasks = {name: load_task(folders[name]) for name in self.names}

    def split(self, every):
        """Return (training task names, held-out task names): every n-th task is held out."""
        if every <= 0:
            return list(self.names), []
        held = self.names[every - 1::every]
        return [n for n in self.names if n not in held], held


def _is_expert(episode):
    """Return whether a corpus episode is a successful expert one (its progress reaches 1)."""
    return bool(episode[2] and episode[1][-1] >= 0.99)


def episode_references(episodes, rng):
    """Return references (2, H, W, 3) uint8: first and last front view of a random expert."""
    experts = [e for e in episodes if _is_expert(e)]
    views = experts[rng.integers(len(experts))][0]
    return np.stack([views[0, 0], views[-1, 0]])


def sample_pool(references, episodes, config, rng):
    """
    One pool of a task: (views (K, 3, H, W, 3) uint8, progress (K,) float32).

    Start and goal of a random expert episode first, then expert states stratified over
    progress, then states of the halfway and random episodes.
    """
    is_expert = [_is_expert(e) for e in episodes]
    experts = [e for e, x in zip(episodes, is_expert) if x]
    others = [e for e, x in zip(episodes, is_expert) if not x] or experts
    views, progress = [], []
    first = experts[rng.integers(len(experts))]
    for frame in (0, len(first[1]) - 1):
        views.append(first[0][frame])
        progress.append(first[1][frame])
    k = config.pool - 2
    n_expert = max(1, int(round(k * config.expert_share)))
    targets = (np.arange(n_expert) + rng.random(n_expert)) / n_expert
    for target in targets:
        v, p, _ = experts[rng.integers(len(experts))]
        frame = int(np.clip(np.searchsorted(p, target), 0, len(p) - 1))
        views.append(v[frame])
        progress.append(p[frame])
    for _ in range(k - n_expert):
        v, p, _ = others[rng.integers(len(others))]
        frame = int(rng.integers(len(p)))
        views.append(v[frame])
        progress.append(p[frame])
    return np.stack(views), np.asarray(progress, dtype=np.float32)


def progress_of(model, views, references, every=3):
    """Fused progress over recorded views (T, 3, H, W, 3), a tick every `every` frames."""
    from robodopamine_ros.grm.base import ProgressEstimator

    estimator = ProgressEstimator(model, model.config['task'], references[0], references[1])
    estimator.start(tuple(views[0]))
    frames = list(range(every, len(views), every))
    if not frames or frames[-1] != len(views) - 1:
        frames.append(len(views) - 1)
    return np.array([0.0] + [estimator.tick(tuple(views[f]), frame=f).estimate.progress
                             for f in frames])


def evaluate_tasks(model, corpus, names):
    """Mean dense VOC of expert episodes and mean final progress of random ones, per task set."""
    from robodopamine_ros.reward.metrics import voc

    vocs, random_final = [], []
    model.net.eval()
    for name in names:
        references, episodes = corpus.tasks[name]
        for views, progress, success in episodes:
            curve = progress_of(model, views, references)
            if success and progress[-1] >= 0.99:
                vocs.append(voc(curve))
            elif progress.max() == 0.0:
                random_final.append(float(curve[-1]))
    return {'voc_expert': float(np.mean(vocs)) if vocs else float('nan'),
            'final_progress_random': float(np.mean(random_final)) if random_final
            else float('nan')}


def pretrain(corpus_dir, config=None, on_step=None, on_eval=None):
    """Pre-train a compact GRM on a corpus; returns (model, history)."""
    config = PretrainConfig() if config is None else config
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    corpus = Corpus(corpus_dir, config.image_size)
    train_names, held_out = corpus.split(config.holdout_tasks)
    model = CompactGRM.create(image_size=list(config.image_size), task=PRETRAINED_TASK)
    optimizer, schedule = make_optimizer(model, config, pct_start=max(0.05, 2.0 / config.steps))
    history = {'config': asdict(config), 'train_tasks': train_names, 'held_out': held_out,
               'loss': [], 'eval': []}
    started = time.perf_counter()
    for step in range(1, config.steps + 1):
        model.net.train()
        references, episodes = corpus.tasks[train_names[rng.integers(len(train_names))]]
        if config.references == 'episode':
            references = episode_references(episodes, rng)
        views, progress = sample_pool(references, episodes, config, rng)
        loss, _, _ = pair_loss(model, torch.from_numpy(views), torch.from_numpy(references),
                               torch.from_numpy(progress), config, generator, rng)
        history['loss'].append(optimizer_step(model, optimizer, schedule, loss))
        if on_step:
            on_step(step, history['loss'][-1])
        if step % config.eval_every == 0 or step == config.steps:
            metrics = {'step': step, 'seconds': round(time.perf_counter() - started, 1)}
            compared = train_names[:len(held_out) or 4]   # as many training tasks
            for label, names in (('held_out', held_out), ('train', compared)):
                if not names:      # no task held out (holdout_tasks = 0)
                    continue
                metrics.update({f'{label}/{k}': v for k, v in
                                evaluate_tasks(model, corpus, names).items()})
            model._cache.clear()
            history['eval'].append(metrics)
            if on_eval:
                on_eval(step, metrics)
    model.net.eval()
    model._cache.clear()
    history['seconds'] = round(time.perf_counter() - started, 1)
    return model, history
