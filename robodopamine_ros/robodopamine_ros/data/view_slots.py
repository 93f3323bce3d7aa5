# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Camera rigs without our three views: which camera fills which of the GRM's slots (ROS-free).

The GRM's query has three slots, the third-person view and two wrist views (data/topics.py
VIEWS: front, left_wrist, right_wrist). A rig may have other cameras: three wrist cameras and
no third-person one, or only two. ``ViewSlots`` maps each slot to the camera that fills it (a
topic, or any camera name; '' for none) and states the rule for a slot no camera fills
(docs/method.md#camera-rigs-and-view-slots):

- ``repeat:<slot>``: the image of another slot, e.g. ``repeat:left_wrist`` puts the left wrist
  view in the empty slot too;
- ``blank``: a black image of the same size (the model sees that the slot holds nothing).

Which rule costs least is measured on the simulated robot (bench/bench_view_slots.py).
"""

from dataclasses import dataclass, field

import numpy as np

from robodopamine_ros.data.topics import VIEWS

FILL_RULES = ('repeat:<slot>', 'blank')


@dataclass(frozen=True)
class ViewSlots:
    """
    Slot -> camera ('' none) and the fill rule of empty slots.

    cameras: a dict with keys among VIEWS (a slot left out is empty); fill: 'repeat:<slot>',
    'blank', or '' (needed only when a slot is empty; with every slot filled the rule is kept
    as ''). Raises ValueError naming what is wrong.
    """

    cameras: dict = field(default_factory=lambda: {view: view for view in VIEWS})
    fill: str = ''

    def __post_init__(self):
        if not isinstance(self.cameras, dict):
            raise ValueError(f'view slots: expected a mapping of {VIEWS} to cameras, got '
                             f'{type(self.cameras).__name__}')
        unknown = sorted(set(self.cameras) - set(VIEWS))
        if unknown:
            raise ValueError(f'view slots: unknown slots {unknown} (the GRM has {VIEWS})')
        for slot, camera in self.cameras.items():
            if not isinstance(camera, str):
                raise ValueError(f'view slots: {slot} must name a camera (or be empty), got '
                                 f'{camera!r}')
        full = {slot: self.cameras.get(slot, '').strip() for slot in VIEWS}
        object.__setattr__(self, 'cameras', full)
        if not any(full.values()):
            raise ValueError('view slots: no slot has a camera')
        if self.missing and not self.fill:
            raise ValueError(f'view slots: {", ".join(self.missing)} has no camera: set the fill '
                             f'rule ({" or ".join(FILL_RULES)})')
        if self.fill and self.fill != 'blank':
            source = self.fill[len('repeat:'):] if self.fill.startswith('repeat:') else None
            if source not in VIEWS:
                raise ValueError(f'view slots: fill must be one of {FILL_RULES} with a slot of '
                                 f'{VIEWS}, got {self.fill!r}')
            if not full[source]:
                raise ValueError(f'view slots: fill {self.fill!r} repeats {source}, which has '
                                 'no camera either')
        if not self.missing:   # every slot has its camera: no rule applies (one contract)
            object.__setattr__(self, 'fill', '')

    @classmethod
    def without(cls, cameras, empty, fill=''):
        """
        Return the slots of a rig: `cameras` (view -> camera) less the views in `empty`.

        empty: views no camera fills ('' entries ignored: a ROS string-array default). Raises
        ValueError naming a name that is not a view.
        """
        unknown = sorted({name for name in empty if name} - set(VIEWS))
        if unknown:
            raise ValueError(f'empty_views: unknown views {unknown} (the GRM has {VIEWS})')
        return cls({view: '' if view in empty else camera for view, camera in cameras.items()},
                   fill)

    @property
    def missing(self):
        """Return the slots no camera fills, in VIEWS order."""
        return tuple(slot for slot in VIEWS if not self.cameras[slot])

    @property
    def present(self):
        """Return the slots a camera fills, in VIEWS order."""
        return tuple(slot for slot in VIEWS if self.cameras[slot])

    def complete(self, images):
        """
        Return the (front, left_wrist, right_wrist) images, the empty slots filled.

        images: slot -> image (H x W x 3 uint8) for every present slot. Raises KeyError naming
        a present slot without its image.
        """
        missing = [slot for slot in self.present if slot not in images]
        if missing:
            raise KeyError(f'no image for the slots {missing}')
        out = []
        for slot in VIEWS:
            if self.cameras[slot]:
                out.append(images[slot])
            elif self.fill == 'blank':
                first = images[self.present[0]]
                out.append(np.zeros_like(first))
            else:
                out.append(images[self.fill[len('repeat:'):]])
        return tuple(out)

    def fill_note(self):
        """Return the line nodes log for a rig with empty slots ('' when every slot is filled)."""
        if not self.missing:
            return ''
        return (f'no camera for {", ".join(self.missing)}: filled by {self.fill} '
                '(docs/method.md#camera-rigs-and-view-slots)')

    def as_dict(self):
        """Return the mapping and the rule as the reward contract records them."""
        return {'views': dict(self.cameras), 'fill': self.fill}


def fill_episode(episode, slots):
    """
    Return a copy of a data.episode.Episode as the rig of `slots` records it.

    The views of the empty slots are replaced by the fill rule (each frame, as live: a
    (T, H, W, 3) stack fills like one image); the present slots keep their frames.
    """
    from dataclasses import replace

    stacks = slots.complete({slot: episode.views[slot] for slot in slots.present})
    return replace(episode, views=dict(zip(VIEWS, stacks)))
