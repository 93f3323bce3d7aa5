# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A non-learned GRM baseline: progress from pixel distances to the start and goal images.

p(x) = d(x, START) / (d(x, START) + d(x, END)) on small grey front views; the hop between two
states is the hop label between their p (docs/method.md#hop-labels). It needs no training, and it
is the floor a learned GRM must clear (VOC about 0.65 on a real unseen run,
docs/decisions.md#reward-model).
"""

import numpy as np

from robodopamine_ros.data.images import resize
from robodopamine_ros.grm.base import GRM
from robodopamine_ros.reward.labels import hop_between


def _grey(image, size):
    return resize(np.asarray(image), size).astype(np.float32).mean(axis=2) / 255.0


class PixelBaselineGRM(GRM):
    """Hops from the front view's pixel distances to the reference start and end images."""

    name = 'pixel-baseline'

    def __init__(self, size=(32, 24)):
        self.size = size

    def _progress(self, image, start, end):
        x = _grey(image, self.size)
        d_start = float(np.abs(x - _grey(start, self.size)).mean())
        d_end = float(np.abs(x - _grey(end, self.size)).mean())
        return d_start / (d_start + d_end) if d_start + d_end > 0 else 0.0

    def hops(self, queries):
        out = []
        for q in queries:
            before = self._progress(q.before[0], q.reference_start, q.reference_end)
            after = self._progress(q.after[0], q.reference_start, q.reference_end)
            out.append(hop_between(before, after))
        return self.sanitize(out)
