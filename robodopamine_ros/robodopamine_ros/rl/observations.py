# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What the policy observes, built the same way wherever it is built.

Observations (``TrainConfig.observation``, ``robodopamine train --observation``):
- 'cameras' (the product's): the three camera views (front, left wrist, right wrist) at the
  policy's resolution, uint8 V x H x W x 3, plus proprioception: the arm's joint positions,
  fingers included, and the hand pose (robot/state.py with no objects: 9 + 7 = 16 values on
  the simulated arm). Nothing a real arm lacks: no object pose, no simulator state.
- 'robot': proprioception plus the peg's and the hole's poses (a pose tracker on a robot; the
  simulator's state here): privileged in simulation, an upper bound.
- 'state': Meta-World's 39-d state (object positions included): an upper bound.
- 'images': the three views alone; 'both': the 39-d state and the views.

With ``image_encoder='grm'`` the views of 'cameras' are encoded by a frozen GRM image encoder
(FrozenViewEncoder) when the observation is made, and the policy gets 'image_features'
instead of 'images' (the features are computed once per control step, not per update).
"""

import numpy as np
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.robot.state import state_size
import torch

OBSERVATIONS = ('cameras', 'robot', 'state', 'images', 'both')
PRIVILEGED = ('robot', 'state', 'both')  # hold object positions: upper bounds in simulation
IMAGE_ENCODERS = ('cnn', 'grm')
SIM_JOINTS = 9  # the simulated arm's seven joints and two fingers (sim.metaworld_sim)


def obs_shapes(observation, image_size, joints=SIM_JOINTS, objects=2, image_features=None):
    """
    Return the policy's observation shapes {'state': (D,), 'images': (V, H, W, 3), ...}.

    image_size: (width, height) of each view at the policy's resolution. objects: tracked
    objects of 'robot'. image_features: the size of a frozen encoder's features (None: the
    views themselves). Raises ValueError for an unknown observation.
    """
    if observation not in OBSERVATIONS:
        raise ValueError(f'observation must be one of {OBSERVATIONS}, got {observation!r}')
    width, height = image_size
    shapes = {}
    if observation in ('state', 'both'):
        shapes['state'] = (39,)
    if observation == 'robot':
        shapes['state'] = (state_size(joints, objects),)
    if observation == 'cameras':
        shapes['state'] = (state_size(joints, 0),)
    if observation in ('images', 'both', 'cameras'):
        if image_features and observation == 'cameras':
            shapes['image_features'] = (int(image_features),)
        else:
            shapes['images'] = (len(VIEWS), height, width, 3)
    return shapes


def policy_observation(obs, shapes, observation, features=None):
    """
    Return the policy's view of a simulator observation (a dict of numpy arrays).

    obs: the simulator's observation ('state', 'robot_state', 'proprioception' and the views);
    shapes: obs_shapes' result; features: the FrozenViewEncoder of 'image_features'.
    """
    out = {}
    if 'state' in shapes:
        key = {'robot': 'robot_state', 'cameras': 'proprioception'}.get(observation, 'state')
        out['state'] = np.asarray(obs[key], dtype=np.float32)
    views = tuple(obs[view] for view in VIEWS) if set(VIEWS) <= set(obs) else None
    if 'images' in shapes:  # the views, or an environment's ready-stacked 'images'
        out['images'] = np.stack(views) if views is not None else obs['images']
    if 'image_features' in shapes:
        out['image_features'] = features(views)
    return out


class FrozenViewEncoder:
    """
    A GRM's image encoder and state fusion, frozen, as the policy's camera features.

    Features of one triplet: the three view encodings and their fused state, concatenated
    ((3 + 1) x dim float32; dim = 128 for the compact GRM). ``grm_dir``: a compact GRM folder
    (the shipped pre-trained model, or one ``robodopamine adapt`` wrote on the task's
    demonstration). The views are resized to the GRM's image size.
    """

    def __init__(self, grm_dir):
        from robodopamine_ros.grm.loading import load_grm

        self.model, _ = load_grm(str(grm_dir))
        net = getattr(self.model, 'net', None)
        if net is None or not hasattr(net, 'state'):
            raise ValueError(f'{grm_dir}: image_encoder grm needs a compact GRM folder')
        self.net, self.grm_dir = net.eval(), str(grm_dir)
        self.size = 4 * int(self.model.config['dim'])

    @torch.no_grad()
    def __call__(self, views):
        from robodopamine_ros.grm.compact import to_tensor

        encoded = self.net.encode(to_tensor(views, self.model.config['image_size']))
        fused = self.net.state(encoded[0:1], encoded[1:2], encoded[2:3])
        return torch.cat([encoded.reshape(1, -1), fused], dim=1)[0].numpy().astype(np.float32)
