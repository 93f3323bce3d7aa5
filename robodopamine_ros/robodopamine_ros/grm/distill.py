# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Distillation: train the compact GRM on a teacher GRM's hops over the demo frames.

The teacher (a big VLM GRM, or any GRM) answers the balanced label queries
(docs/method.md#hop-labels) of the demo
once; its hops replace the keyframe targets (pairs it did not answer are left out). The compact
student then trains on those pairs with the same augmentation as one-shot adaptation.
"""

import numpy as np
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.adapt_compact import augment, CompactTrainConfig, to_float
from robodopamine_ros.grm.base import label_queries
from robodopamine_ros.grm.compact import CompactGRM, smooth_l1
import torch


def teacher_targets(teacher, episode, samples=1000, seed=0, batch=3):
    """Return (before frames, after frames, teacher hops) for the balanced label pairs."""
    label_samples, queries = label_queries(episode, samples, seed)
    hops = np.concatenate([teacher.hops(queries[i:i + batch])
                           for i in range(0, len(queries), batch)]).astype(float)
    pairs = np.array([(s.before_frame, s.after_frame) for s in label_samples])
    answered = np.isfinite(hops)
    return pairs[answered, 0], pairs[answered, 1], hops[answered]


def distill_compact(teacher, episode, config=None, batch=64, samples=1000,
                    teacher_episode=None, on_step=None):
    """
    Train a compact GRM on the teacher's answers; returns (student, losses, answered).

    teacher_episode: the same episode at the resolution the teacher should see (default:
    episode itself, at the student's input size).
    """
    config = CompactTrainConfig() if config is None else config
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    before, after, hops = teacher_targets(teacher, teacher_episode or episode, samples,
                                          config.seed)
    if len(hops) == 0:
        raise ValueError('the teacher answered none of the label queries (every answer failed '
                         'to parse): nothing to distill')
    student = CompactGRM.create(image_size=list(config.image_size),
                                task=episode.instructions[0])
    net = student.net
    views = torch.from_numpy(np.stack([episode.views[v] for v in VIEWS], axis=1))
    refs = torch.stack([views[episode.keyframes[0].start, 0],
                        views[episode.keyframes[-1].end, 0]])
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)
    targets = torch.from_numpy(hops).float()
    losses = []
    net.train()
    for step in range(1, config.steps + 1):
        index = rng.choice(len(hops), size=min(batch, len(hops)), replace=False)
        frames = np.concatenate([before[index], after[index]])
        images = to_float(torch.cat([views[frames].reshape(-1, *views.shape[2:]), refs]))
        encoded = net.encode(augment(images, config, generator))
        n = len(frames)
        per_view = encoded[:3 * n].view(n, 3, -1)
        ref_start, ref_end = net.references(encoded[3 * n:3 * n + 1], encoded[3 * n + 1:])
        states = net.state(per_view[:, 0], per_view[:, 1], per_view[:, 2])
        k = len(index)
        prediction = net.hop(states[:k], states[k:], ref_start.expand(k, -1),
                             ref_end.expand(k, -1))
        loss = smooth_l1(prediction, targets[index], torch.ones(k))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if on_step:
            on_step(step, losses[-1])
    net.eval()
    return student, losses, len(hops)
