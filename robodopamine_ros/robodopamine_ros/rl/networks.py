# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Networks: observation encoder, vectorized LayerNorm critics, tanh-Gaussian and consistency actors.

Observations are dicts: 'state' (float, D), 'images' (uint8, V x H x W x 3, the camera views
stacked) and/or 'image_features' (float, F: views encoded by a frozen encoder outside the
learner). The encoder turns them into one feature vector; the image path is a small CNN with
random-shift augmentation trained by the critic, or a GRM's encoder and fusion trained on
('grm-tuned').
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


class GRMViewEncoder(nn.Module):
    """
    A compact GRM's image encoder and state fusion, trained on: the fine-tuned camera encoder.

    Views B x 3 x H x W x 3 uint8 (front, left wrist, right wrist) -> B x 4 dim: the three view
    encodings and their fused state, the features rl.observations.FrozenViewEncoder computes
    with the same weights frozen. grm_config: the GRM's config (grm.compact.check_config); the
    views (views x height x width) must be its three at its image_size (ValueError otherwise:
    no resize inside the network, the policy's views are made at that size). Initialized like
    a new GRM; ``load_grm`` copies a GRM's weights in (its head is not used). `shift`:
    random-shift augmentation in training mode only, one offset per row for the three views.
    """

    GRM_PARTS = ('encoder.', 'view_embedding', 'fuse.')   # the GRM weights it holds

    def __init__(self, grm_config, views, height, width, shift=4):
        super().__init__()
        from robodopamine_ros.grm.compact import CompactGRMNet

        size = tuple(grm_config['image_size'])
        if views != 3 or (width, height) != size:
            raise ValueError(f"image_encoder 'grm-tuned': the GRM encodes 3 views of "
                             f'{size[0]}x{size[1]}, the policy observes {views} of '
                             f"{width}x{height}: set the policy's image_size to the GRM's")
        net = CompactGRMNet(grm_config)
        self.encoder, self.view_embedding, self.fuse = net.encoder, net.view_embedding, net.fuse
        self.features, self.shift = 4 * int(grm_config['dim']), shift

    def load_grm(self, net):
        """Copy a CompactGRMNet's encoder, view embeddings and fusion weights in."""
        state = {k: v for k, v in net.state_dict().items() if k.startswith(self.GRM_PARTS)}
        self.load_state_dict(state)

    def forward(self, images):
        b, v, h, w, c = images.shape
        x = images.permute(0, 1, 4, 2, 3).reshape(b, v * c, h, w).float() / 255.0
        if self.training:
            x = random_shift(x, self.shift)
        encoded = self.encoder(x.view(b * v, c, h, w) - 0.5).view(b, v, -1)
        fused = self.fuse((encoded + self.view_embedding).flatten(1))
        return torch.cat([encoded.flatten(1), fused], dim=1)


class ObservationEncoder(nn.Module):
    """
    State, images, or both, to one feature vector (B x dim).

    obs_shapes: {'state': (D,)}, {'images': (V, H, W, 3)}, {'image_features': (F,)} (camera
    features computed outside, by a frozen encoder: rl.observations.FrozenViewEncoder), or
    several of them; the parts are concatenated in sorted key order. The images' network is
    the CNN (ImageEncoder, image_features wide), or with grm_config a GRM's encoder and fusion
    (GRMViewEncoder: fine-tuned). It is trained by the critic's loss (and the imitation stage's,
    AgentConfig.imitation_trains_encoder); actors take its output detached (agents.py).
    """

    def __init__(self, obs_shapes, image_features=128, image_shift=4, grm_config=None):
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
            self.images = GRMViewEncoder(grm_config, views, height, width, image_shift) \
                if grm_config else ImageEncoder(views, height, width, image_features, image_shift)
            self.dim += self.images.features

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
        self.critics, self.feature_dim = critics, feature_dim

    def forward(self, features, action):
        """
        Q of each critic: E x B for features B x F and actions B x A.

        Several actions per state: actions S x B x K x A (S sources of K actions for each of
        the B states) give E x S x B x K. The first layer is linear in [features, action], so
        its feature part is computed once per state and broadcast to the state's S*K actions
        (the same Q as repeating the features; Cal-QL's sampled actions cost the action part
        alone, which matters when F is 512 camera features).
        """
        if action.dim() == 2:
            return self.net(torch.cat([features, action], dim=-1)).squeeze(-1)
        first, rest = self.net[0], self.net[1:]
        sources, batch, k, _ = action.shape
        w_features, w_action = first.weight.split(
            [self.feature_dim, first.weight.shape[1] - self.feature_dim], dim=1)
        per_state = torch.baddbmm(first.bias, features.unsqueeze(0).expand(
            self.critics, -1, -1), w_features)                                 # E x B x H
        per_action = torch.bmm(action.reshape(1, -1, action.shape[-1]).expand(
            self.critics, -1, -1), w_action)                                   # E x SBK x H
        hidden = per_action.view(self.critics, sources, batch, k, -1) + \
            per_state.view(self.critics, 1, batch, 1, -1)
        out = rest(hidden.view(self.critics, sources * batch * k, -1)).squeeze(-1)
        return out.view(self.critics, sources, batch, k)


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

    def sample(self, features, k):
        """
        K samples per state: actions B x K x A and their log-probs B x K.

        The Gaussian is computed once per state (the same draws as forward on features
        repeated K times, at 1/K of the network's cost).
        """
        mean, std = self._gaussian(features)
        mean, std = mean.unsqueeze(1), std.unsqueeze(1)
        u = mean + std * torch.randn(mean.shape[0], k, mean.shape[-1], dtype=mean.dtype,
                                     device=mean.device)
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
