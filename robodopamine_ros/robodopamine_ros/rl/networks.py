# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Networks: observation encoder, vectorized LayerNorm critics, tanh-Gaussian and consistency actors.

Observations are dicts: 'state' (float, D), 'images' (uint8, V x H x W x 3, the camera views
stacked) and/or 'image_features' (float, F: views encoded by a frozen encoder outside the
learner). The encoder turns them into one feature vector; the image path is a small CNN with
random-shift augmentation, trained by the critic.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F


def mlp(inputs, hidden, outputs, layer_norm=False):
    layers, width = [], inputs
    for size in hidden:
        layers += [nn.Linear(width, size)] + ([nn.LayerNorm(size)] if layer_norm else []) + \
            [nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


def random_shift(x, pad):
    """
    Shift images randomly: DrQ's augmentation (Kostrikov et al. 2020).

    Each image is padded by `pad` pixels (edge replicated) and cropped back at a random offset.

    x: B x C x H x W float; returns the same shape. The offsets are integers, drawn per batch
    row from torch's generator (one crop per row, shared by the stacked views of that row, so
    the three cameras stay aligned with each other).
    """
    if pad <= 0:
        return x
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode='replicate')
    dx = torch.randint(0, 2 * pad + 1, (b,), device=x.device)
    dy = torch.randint(0, 2 * pad + 1, (b,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None])        # B x H
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None])        # B x W
    index = rows[:, None, :, None] * (w + 2 * pad) + cols[:, None, None, :]  # B x 1 x H x W
    flat = padded.flatten(2)                                             # B x C x (H+2p)(W+2p)
    return flat.gather(2, index.flatten(2).expand(b, c, -1)).view(b, c, h, w)


class ImageEncoder(nn.Module):
    """
    The camera views, stacked along channels, through four convolutions, FLATTENED.

    Views B x V x H x W x 3 uint8 -> B x features. Strides 2, 2, 2, 1 (32, 32, 64, 64
    channels), then the whole feature grid is flattened into a linear map, LayerNorm and tanh
    (DrQ / SERL's encoder shape). No global pooling: where the peg and the hole are in the image
    is what the policy needs (a pooled encoder imitated at 5 % where this shape reached 85 %:
    docs/decisions.md#policy-observation). `shift`: random-shift augmentation in pixels,
    applied in training mode only (``module.train()``); acting and evaluation see the images
    as they are.
    """

    def __init__(self, views, height, width, features=128, shift=4):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3 * views, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(64, 64, 3, stride=1, padding=1), nn.ReLU(), nn.Flatten())
        grid = ((height + 7) // 8) * ((width + 7) // 8)
        self.project = nn.Sequential(nn.Linear(64 * grid, features), nn.LayerNorm(features),
                                     nn.Tanh())
        self.features, self.shift = features, shift

    def forward(self, images):
        # B x V x H x W x 3 uint8 -> B x 3V x H x W in [0, 1]
        b, v, h, w, c = images.shape
        x = images.permute(0, 1, 4, 2, 3).reshape(b, v * c, h, w).float() / 255.0
        if self.training:
            x = random_shift(x, self.shift)
        return self.project(self.conv(x))


class ObservationEncoder(nn.Module):
    """
    State, images, or both, to one feature vector (B x dim).

    obs_shapes: {'state': (D,)}, {'images': (V, H, W, 3)}, {'image_features': (F,)} (camera
    features computed outside, by a frozen encoder: rl.observations.FrozenViewEncoder), or
    several of them; the parts are concatenated in sorted key order. The image CNN is trained by
    the critic's loss only; actors take its output detached (agents.py).
    """

    def __init__(self, obs_shapes, image_features=128, image_shift=4):
        super().__init__()
        self.keys = sorted(obs_shapes)
        unknown = set(self.keys) - {'state', 'images', 'image_features'}
        if unknown or not self.keys:
            raise ValueError(f'observations must be state, images and/or image_features, got '
                             f'{self.keys}')
        self.vectors = [k for k in self.keys if k != 'images']
        self.dim = sum(obs_shapes[k][0] for k in self.vectors)
        self.images = None
        if 'images' in obs_shapes:
            views, height, width, _ = obs_shapes['images']
            self.images = ImageEncoder(views, height, width, image_features, image_shift)
            self.dim += image_features

    def forward(self, obs):
        parts = [obs[k] for k in self.vectors]
        if self.images is not None:
            parts.append(self.images(obs['images']))
        return torch.cat(parts, dim=-1)


class EnsembleLinear(nn.Module):
    """
    E independent linear layers evaluated as one batched matrix product.

    Input E x B x in (or B x in, shared by every member); output E x B x out. Each member is
    initialized like nn.Linear (uniform in +-1/sqrt(in)).
    """

    def __init__(self, members, inputs, outputs):
        super().__init__()
        bound = 1.0 / math.sqrt(inputs)
        self.weight = nn.Parameter(torch.empty(members, inputs, outputs).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(members, 1, outputs).uniform_(-bound, bound))

    def forward(self, x):
        if x.dim() == 2:
            x = x.unsqueeze(0).expand(self.weight.shape[0], -1, -1)
        return torch.baddbmm(self.bias, x, self.weight)


class CriticEnsemble(nn.Module):
    """
    Q_1..Q_E as LayerNorm MLPs over (features, action), vectorized; returns E x B.

    One batched matmul per layer for all critics (no Python loop over critics or batch).

    LayerNorm after every hidden layer (RLPD's recipe; 2 such critics learned this task) keeps
    Q from extrapolating wildly off the data.
    """

    def __init__(self, feature_dim, action_dim, hidden=(256, 256), critics=2):
        super().__init__()
        layers, width = [], feature_dim + action_dim
        for size in hidden:
            layers += [EnsembleLinear(critics, width, size), nn.LayerNorm(size), nn.ReLU()]
            width = size
        layers.append(EnsembleLinear(critics, width, 1))
        self.net = nn.Sequential(*layers)
        self.critics = critics

    def forward(self, features, action):
        return self.net(torch.cat([features, action], dim=-1)).squeeze(-1)


class TanhGaussianActor(nn.Module):
    """SAC's actor: a = tanh(u), u ~ N(mu(s), sigma(s)); log-prob with the tanh correction."""

    LOG_STD = (-5.0, 2.0)
    # demo actions are mostly saturated at +-1 (a clipped phase-switching controller); their
    # likelihood is taken at +-(1 - EDGE), where atanh is finite
    EDGE = 1e-3

    def __init__(self, feature_dim, action_dim, hidden=(256, 256), layer_norm=True):
        super().__init__()
        self.net = mlp(feature_dim, hidden, 2 * action_dim, layer_norm=layer_norm)

    def _gaussian(self, features):
        mean, log_std = self.net(features).chunk(2, dim=-1)
        return mean, log_std.clamp(*self.LOG_STD).exp()

    @staticmethod
    def _log_prob(u, mean, std):
        """Return log pi(tanh(u)) for pre-squash u: Gaussian density minus log |d tanh / du|."""
        return (-0.5 * ((u - mean) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)
                - 2.0 * (math.log(2.0) - u - F.softplus(-2.0 * u))).sum(-1)

    def forward(self, features, deterministic=False):
        mean, std = self._gaussian(features)
        if deterministic:
            return torch.tanh(mean), None
        u = mean + std * torch.randn_like(mean)
        return torch.tanh(u), self._log_prob(u, mean, std)

    def log_prob(self, features, action):
        """Return log pi(a | s) of given actions (B x A in [-1, 1], clipped to +-(1 - EDGE)): B."""
        mean, std = self._gaussian(features)
        u = torch.atanh(action.clamp(-1.0 + self.EDGE, 1.0 - self.EDGE))
        return self._log_prob(u, mean, std)

    def mean_action(self, features):
        return torch.tanh(self._gaussian(features)[0])

    def pre_squash_mean(self, features):
        """Return the Gaussian's mean before tanh (B x A); the deterministic action is its tanh."""
        return self._gaussian(features)[0]


def karras_sigmas(sigma_min=0.002, sigma_max=80.0, rho=7.0, scales=40):
    """Karras et al. noise levels, increasing from sigma_min to sigma_max (docs/method.md)."""
    ramp = torch.linspace(0, 1, scales)
    return (sigma_min ** (1 / rho) + ramp * (sigma_max ** (1 / rho) - sigma_min ** (1 / rho))) \
        ** rho


class ConsistencyActor(nn.Module):
    """
    A consistency-model action head: f(x, sigma | s) = c_skip x + c_out F(c_in x, c_noise, s).

    The boundary condition f(x, sigma_min) = x holds by construction (c_skip = 1, c_out = 0
    at sigma_min). Acting is one step: x ~ N(0, sigma_max^2), a = clip(f(x, sigma_max), -1, 1).
    """

    def __init__(self, feature_dim, action_dim, hidden=(256, 256), sigma_min=0.002,
                 sigma_max=80.0, rho=7.0, scales=40, sigma_data=0.5):
        super().__init__()
        self.action_dim = action_dim
        self.sigma_min, self.sigma_max, self.sigma_data = sigma_min, sigma_max, sigma_data
        self.register_buffer('sigmas', karras_sigmas(sigma_min, sigma_max, rho, scales))
        self.net = mlp(feature_dim + action_dim + 1, hidden, action_dim, layer_norm=True)

    def denoise(self, features, x, sigma):
        sigma = sigma.reshape(-1, 1)
        sd2 = self.sigma_data ** 2
        c_skip = sd2 / ((sigma - self.sigma_min) ** 2 + sd2)
        c_out = (sigma - self.sigma_min) * self.sigma_data / (sigma ** 2 + sd2).sqrt()
        c_in = 1.0 / (sigma ** 2 + sd2).sqrt()
        c_noise = 0.25 * sigma.log()
        out = self.net(torch.cat([features, c_in * x, c_noise], dim=-1))
        return c_skip * x + c_out * out

    def forward(self, features, deterministic=False):
        """One-step sampling. deterministic: start from x = 0 instead of noise."""
        shape = (features.shape[0], self.action_dim)
        x = torch.zeros(shape, device=features.device) if deterministic else \
            torch.randn(shape, device=features.device) * self.sigma_max
        sigma = torch.full((shape[0],), self.sigma_max, device=features.device)
        return self.denoise(features, x, sigma).clamp(-1.0, 1.0), None
