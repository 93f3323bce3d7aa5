# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The two back-ends: Cal-QL (docs/method.md#cal-ql) and ConRFT (docs/method.md#conrft).

One ``update(batch)`` = one gradient step of the critic (and of the actor every
``critic_actor_ratio`` critic steps). A step whose loss is not finite is skipped (counted in
``skipped``; the weights stay as they were).

Stages, in order: 'pretrain' (imitation: the actor fits the demos alone, for Cal-QL's
tanh-Gaussian by ``bc_loss`` (squared error of the pre-tanh mean by default, or likelihood) and
for ConRFT by the consistency loss alone, while the critic learns
by TD with its conservative term), 'offline' (the full offline RL update on the demo buffer)
and 'online'. Cal-QL keeps its conservative critic in all three; ConRFT uses the Cal-QL critic
in stage I (pretrain + offline) and a plain TD critic in stage II (online), with its own
(beta, eta) per stage.
"""

import copy
from dataclasses import asdict, dataclass, field
from enum import Enum
import math

import numpy as np
from robodopamine_ros.reward.shaping import GAMMA
from robodopamine_ros.rl import losses
from robodopamine_ros.rl.networks import (ConsistencyActor, CriticEnsemble, GRMViewEncoder,
                                          ObservationEncoder, TanhGaussianActor)
import torch

ALGORITHMS = ('calql', 'conrft')


class Stage(str, Enum):
    """The learner's stages, in order (module docstring); equal to their string values."""

    PRETRAIN = 'pretrain'
    OFFLINE = 'offline'
    ONLINE = 'online'


STAGES = tuple(stage.value for stage in Stage)
BC_LOSSES = ('nll', 'mse')


@dataclass
class AgentConfig:
    """Every knob of the learner; defaults are the papers' (docs/method.md) unless [ours]."""

    algorithm: str = 'calql'
    gamma: float = GAMMA              # the critic's, and the shaping's (reward.shaping)
    batch_size: int = 256
    lr: float = 3e-4
    tau: float = 5e-3
    hidden: tuple = (256, 256)
    critics: int = 2
    mc_lower_bound: bool = True       # [ours] TD targets >= the Monte-Carlo return (losses)
    actor_layer_norm: bool = True     # [ours] LayerNorm in the SAC actor, as in the critics
    # Cal-QL conservative term
    # papers: 5 (sparse, scaled), 1, or 0.1 (ConRFT's). 0.1 [ours, measured]: with 1.0 the
    # learning test's task did not improve in 40 online episodes; with 0.1 it did
    cql_alpha: float = 0.1
    cql_actions: int = 4              # [ours] per source: random, pi(s), pi(s') (paper: 10)
    cql_batch: int = 32               # [ours] states the term is computed on; None: all
    cql_importance_sampling: bool = False
    cql_temperature: float = 1.0
    # SAC actor (Cal-QL)
    initial_temperature: float = 0.05  # [ours] small (docs/decisions.md#learner-recipe)
    target_entropy: float = None       # None: -action_dim
    bc_loss: str = 'mse'              # [ours] how the actor imitates (losses.bc_mse_loss)
    # [ours, measured] bc_weight x mean|Q| (TD3+BC-style); 0 = plain Cal-QL. The prototype's
    # 0.4 (the prototype's) with our pre-tanh BC: 40 % after the offline stage, 15-35 % online,
    # 32 % on 50 layouts at 150 episodes; 4.0: 100 % offline, 45 / 60 / 60 % at 10 / 20 / 30
    # and 64 % on 50 layouts at 40 (GRM reward, seed 0)
    bc_weight: float = 4.0
    bc_q_floor: float = 0.25          # [ours] the mean|Q| of that scale never goes below
    # [ours, measured] a successful online episode also joins the demo buffer
    # (replay.store_episode), so the imitation term anchors the actor on every layout it has
    # solved, not only on the demonstrations' ten. Cal-QL, GRM reward, seeds 0 / 1, success on
    # 50 layouts at episodes 50 / 100 / 150: off 30 / 62 / 68 % and 64 / 80 / 64 %; on
    # 70 / 62 / 68 % and 90 / 86 / 88 %
    successes_to_demo: bool = True
    # [ours, measured] two stabilizers of the online stage (docs/decisions.md#learner-recipe).
    # actor_ema: the actor that acts and is evaluated is a Polyak average of the trained one
    # (rate per actor step; 0: the trained actor itself), so a few batches of over-estimated
    # online Q do not swing the deployed policy; the learner still trains the raw actor.
    # online_actor_delay: critic-only updates at the start of the online stage, so the critic
    # meets the online data before the actor follows its gradient (a warm-up, as WSRL, Zhou
    # et al. 2024, warms up before fine-tuning). Without them, Cal-QL's evaluation fell from
    # 100 % after the offline stage to 45 / 5 % at episodes 10 / 20 (seed 0) and swung 40-85
    # points between evaluations; with (0.005, 1000): seeds 0 / 1 on 50 layouts at episodes
    # 50 / 100 / 150: 74 / 72 / 82 % and 98 / 96 / 100 % (without: 70 / 62 / 68 % and
    # 90 / 86 / 88 %). GRM reward, same GRM. Apart (bench_rl, 3 seeds, 50 layouts at 150;
    # both: 0.82 / 1.00 / 0.94): without the average 0.30 / 0.76 / 0.92, without the warm-up
    # 0.66 / 0.94 / 0.88.
    # ConRFT too (its consistency actor's own Polyak target is for the loss, not for acting):
    # bench_rl, 3 seeds, 150 episodes, 50 layouts, final 0.84 / 0.90 / 0.98 with the average
    # against 0.84 / 0.68 / 0.96 without (after the offline stage 85 / 65 / 70 %, mean 73 %,
    # against a mean of 68 %).
    # On the learning test's toy task (test_rl_learning), where ConRFT runs as the paper has
    # it, the average hurt ConRFT (10 -> 7 %; without 3 -> 50 %): that case sets 0.
    actor_ema: float = 0.005
    online_actor_delay: int = 1000
    # ConRFT
    stage1_beta_eta: tuple = (1.0, 0.1)   # paper; the released scripts use (1.0, 0.0)
    # [ours, measured] stage II keeps stage I's weights. The paper's (0.5, 1.0) (its released
    # scripts: (0.1, 1.0)) let the online critic's overestimation pull the actor off the demos
    # on the simulated insertion: Q on demos rose to 0.78 vs their return 0.26 and evaluation
    # success fell from 60 % to 0-2 % by episode 30-50; with (1.0, 0.1): 60 -> 80 / 85 / 70 %
    # at episodes 10 / 20 / 30, 60 % on 50 layouts at 40, 31 of 40 training episodes succeeded
    # (GRM reward, seed 0). A demo anchor is also what made the earlier prototype learn.
    stage2_beta_eta: tuple = (1.0, 0.1)
    # [ours, measured] keep the Cal-QL conservative term in ConRFT's online critic (the paper
    # drops it in stage II; False restores that). Without it the stage-II critic over-estimates
    # on the simulated insertion. bench_rl, 3 seeds, 150 episodes, 50 layouts, with the
    # sampling-level term below: final success 0.84 / 0.68 / 0.96 (Q on online data 0.25 vs a
    # Monte-Carlo return of 0.12) against 0.76 / 0.56 / 0.90 without (Q 0.35 vs 0.09); before
    # that term: 0.42 / 0.30 / 0.54 against 0.18 / 0.00 / 0.58 (Q 5.0 vs -0.12)
    conrft_online_conservative: bool = True
    # [ours] which transitions the consistency (imitation) loss is computed on: 'demo' (the
    # demo-buffer half: demonstrations and interventions) or 'all' (the paper: the whole batch,
    # so online the actor also imitates its own failed actions). Measured (GRM reward, seed 0,
    # 20 layouts): 'demo' 85 / 80 / 75 / 80 % at 10 / 20 / 40 / 50, 58 % on 50 layouts at 60;
    # 'all' 80 / 85 / 70 / 54 (50 layouts) / 55 %: no clear difference, so the paper's stays
    consistency_on: str = 'all'
    # [ours, measured] weight of an extra reconstruction term at sigma_max, the noise level
    # one-step acting samples from (losses.consistency_loss); 0 = the paper's loss alone.
    # Simulated insertion, sparse reward, 1000 imitation + 1000 offline updates, seeds 0 / 1 / 2,
    # 20 layouts: imitation success 10 / 20 / 20 % -> 75 / 60 / 70 %, after the offline stage
    # 35 / 20 / 5 % -> 70 / 55 / 65 % (BC error 0.13 -> 0.09); weight 3: 85 / 50 % (seeds 0 / 1)
    consistency_sampling_weight: float = 1.0
    sigma_min: float = 0.002
    sigma_max: float = 80.0
    rho: float = 7.0
    scales: int = 40
    sigma_data: float = 0.5
    critic_actor_ratio: int = None    # None: 1 for Cal-QL, 2 for ConRFT (docs/method.md#conrft)
    # observations: the camera CNN (networks.ImageEncoder), trained by the critic (or, with
    # grm_config, a GRM's encoder: networks.GRMViewEncoder)
    image_features: int = 128         # DrQ / SERL's feature size after the flattened grid
    image_shift: int = 4              # random-shift augmentation, pixels (DrQ: 4 at 84 px)
    # a compact GRM's config (grm.compact): the images' network is that GRM's encoder and
    # fusion (networks.GRMViewEncoder), initialized from the GRM (Agent.load_grm_encoder) and
    # fine-tuned; None: the CNN above
    grm_config: dict = None
    # [ours] while imitating (stage 'pretrain') the imitation loss also trains the image encoder
    # (an optimizer of its own); in every other step the actor takes the critic's features
    # detached, as DrQ / SERL. Without it the CNN learns only from the critic's TD error on
    # the demonstrations, and imitation from pixels failed (docs/decisions.md#policy-observation)
    imitation_trains_encoder: bool = True
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f'algorithm must be one of {ALGORITHMS}, got {self.algorithm!r}')
        if not 0.0 < self.gamma < 1.0:
            raise ValueError(f'gamma must be in (0, 1), got {self.gamma}')
        if self.consistency_on not in ('demo', 'all'):
            raise ValueError(f"consistency_on must be 'demo' or 'all', got "
                             f'{self.consistency_on!r}')
        if self.bc_loss not in BC_LOSSES:
            raise ValueError(f'bc_loss must be one of {BC_LOSSES}, got {self.bc_loss!r}')
        if not 0.0 <= self.actor_ema < 1.0:
            raise ValueError(f'actor_ema must be in [0, 1), got {self.actor_ema}')
        if self.consistency_sampling_weight < 0:
            raise ValueError('consistency_sampling_weight must be >= 0, got '
                             f'{self.consistency_sampling_weight}')
        if self.online_actor_delay < 0:
            raise ValueError(f'online_actor_delay must be >= 0, got {self.online_actor_delay}')
        if self.critic_actor_ratio is None:
            self.critic_actor_ratio = 1 if self.algorithm == 'calql' else 2
        self.hidden = tuple(self.hidden)
        self.stage1_beta_eta, self.stage2_beta_eta = tuple(self.stage1_beta_eta), \
            tuple(self.stage2_beta_eta)

    def as_dict(self):
        return asdict(self)


def to_torch(batch: dict, device) -> dict:
    """Numpy batch (as replay.mixed_batch returns) -> tensors."""
    out = {}
    for key, value in batch.items():
        if isinstance(value, dict):
            out[key] = {k: torch.as_tensor(v, device=device) for k, v in value.items()}
        elif value.dtype == bool:
            out[key] = torch.as_tensor(value, device=device)
        else:
            out[key] = torch.as_tensor(value, device=device, dtype=torch.float32)
    return out


def _repeat(features, k):
    return features.unsqueeze(1).expand(-1, k, -1).reshape(-1, features.shape[-1])


class Agent:
    """What both back-ends share: encoder, twin critics and targets, the Cal-QL critic step."""

    def __init__(self, config: AgentConfig, obs_shapes: dict, action_dim: int = 4,
                 device: str = 'cpu', seed: int = 0):
        torch.manual_seed(seed)
        self.config, self.obs_shapes, self.action_dim = config, obs_shapes, action_dim
        self.device = torch.device(device)
        self.stage = Stage.OFFLINE
        self.updates = 0
        self.online_updates = 0  # updates made in the online stage
        self.skipped = 0  # updates whose loss was not finite
        c = config
        self.encoder = ObservationEncoder(obs_shapes, c.image_features, c.image_shift,
                                          c.grm_config).to(self.device)
        self.critic = CriticEnsemble(self.encoder.dim, action_dim, c.hidden, c.critics).to(
            self.device)
        self.target_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.target_critic = copy.deepcopy(self.critic).requires_grad_(False)
        critic_params = list(self.critic.parameters()) + [
            p for p in self.encoder.parameters() if p.requires_grad]
        self.critic_optimizer = torch.optim.Adam(critic_params, lr=c.lr)
        encoder_params = [p for p in self.encoder.parameters() if p.requires_grad]
        self.encoder_optimizer = torch.optim.Adam(encoder_params, lr=c.lr) \
            if encoder_params and c.imitation_trains_encoder else None

    def load_grm_encoder(self, net):
        """Start the fine-tuned camera encoder (grm_config) from a CompactGRMNet's weights."""
        for encoder in (self.encoder, self.target_encoder):
            if not isinstance(encoder.images, GRMViewEncoder):
                raise ValueError('load_grm_encoder: the images are not encoded by a GRM '
                                 '(AgentConfig.grm_config is None)')
            encoder.images.load_grm(net)

    # acting -----------------------------------------------------------------------------------
    def policy(self, features, deterministic=False):
        raise NotImplementedError

    def policy_samples(self, features, k):
        """K stochastic actions per state: B x K x A, and log-probs B x K (or None)."""
        actions, log_pi = self.policy(_repeat(features, k))
        return actions.view(features.shape[0], k, -1), \
            None if log_pi is None else log_pi.view(features.shape[0], k)

    @torch.no_grad()
    def act(self, obs: dict, deterministic: bool = False) -> np.ndarray:
        """One action for one observation (dict of numpy arrays), in [-1, 1]."""
        batch = {k: torch.as_tensor(np.asarray(v)[None], device=self.device)
                 for k, v in obs.items() if k in self.obs_shapes}
        batch = {k: v if k == 'images' else v.float() for k, v in batch.items()}
        self.encoder.eval()  # no augmentation when acting
        action, _ = self.policy(self.encoder(batch), deterministic)
        return action[0].cpu().numpy()

    # learning ---------------------------------------------------------------------------------
    def conservative(self):
        """Whether the critic step adds the Cal-QL term in the current stage."""
        return True

    def critic_step(self, b):
        """
        One critic step; leaves the batch's features, detached, in self.features for the actor.

        The next state is encoded once, by the target encoder, for both the next action and the
        target critic (an image encoder costs most of an update; with a state observation the
        encoder has no weights and both encoders agree).
        """
        c = self.config
        self.encoder.train()
        self.target_encoder.train()  # the same augmentation for the next observations
        features = self.encoder(b['obs'])
        self.features = features.detach()
        with torch.no_grad():
            next_features = next_features_target = self.target_encoder(b['next_obs'])
            next_action, _ = self.policy(next_features)
            target = losses.td_target(b['reward'], b['terminal'].float(),
                                      self.target_critic(next_features_target, next_action),
                                      c.gamma, b['mc_return'] if c.mc_lower_bound else None)
        q_data = self.critic(features, b['action'])
        loss = losses.td_loss(q_data, target)
        stats = {'td_loss': loss.item(), 'q_data': q_data.mean().item(),
                 'td_target': target.mean().item()}
        if self.conservative() and c.cql_alpha > 0:
            term, cql_stats = self._calql_term(features, next_features, b, q_data)
            loss = loss + c.cql_alpha * term
            stats.update(cql_stats, cql_term=term.item())
        if not self._step(self.critic_optimizer, loss, 'critic'):
            return stats
        with torch.no_grad():
            for net, target_net in ((self.critic, self.target_critic),
                                    (self.encoder, self.target_encoder)):
                for p, tp in zip(net.parameters(), target_net.parameters()):
                    tp.lerp_(p, c.tau)
        stats['critic_loss'] = loss.item()
        return stats

    def actor_features(self, b):
        """
        Return (features for the actor step, whether its loss trains the encoder).

        The critic step's features, detached; while imitating with imitation_trains_encoder,
        the encoder's own, whose gradients the caller applies with encoder_step.
        """
        if self.stage == Stage.PRETRAIN and self.encoder_optimizer is not None:
            self.encoder_optimizer.zero_grad(set_to_none=True)
            return self.encoder(b['obs']), True
        return self.features, False

    def frozen_critic(self, features, action):
        """Q for the actor's loss: gradients reach the action, not the critic's weights."""
        self.critic.requires_grad_(False)
        try:
            return self.critic(features, action)
        finally:
            self.critic.requires_grad_(True)

    def _step(self, optimizer, loss, name):
        """Backpropagate and step; a non-finite loss is skipped (counted), weights unchanged."""
        optimizer.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            self.skipped += 1
            return False
        loss.backward()
        optimizer.step()
        return True

    def _calql_term(self, features, next_features, b, q_data):
        c, k, batch = self.config, self.config.cql_actions, features.shape[0]
        mc_return = b['mc_return']
        if c.cql_batch and c.cql_batch < batch:  # a random subset of the batch's states
            subset = torch.randperm(batch, device=self.device)[:c.cql_batch]
            features, next_features, q_data, mc_return = features[subset], \
                next_features[subset], q_data[:, subset], mc_return[subset]
            batch = c.cql_batch
        random_actions = torch.rand(1, batch, k, self.action_dim, device=self.device) * 2 - 1
        with torch.no_grad():  # pi(.|s) and pi(.|s') in one call
            pi_actions, log_pi = self.policy_samples(
                torch.cat([features, next_features]).detach(), k)
        # every Q at s, in one critic call: E x 3 x B x K (random | pi(s) | pi(s'))
        q = self.critic(features, torch.cat([
            random_actions, pi_actions.reshape(2, batch, k, self.action_dim)]))
        q = q.permute(0, 2, 1, 3)                                               # E x B x 3 x K
        importance = c.cql_importance_sampling and log_pi is not None
        log_pi = log_pi.reshape(2, batch, k) if importance else (None, None)
        return losses.calql_conservative_term(
            q[:, :, 0], q[:, :, 1], q[:, :, 2], q_data, mc_return, log_pi[0], log_pi[1],
            c.cql_temperature, self.action_dim)

    def update(self, batch: dict) -> dict:
        """One critic step (and an actor step every critic_actor_ratio); returns the losses."""
        b = to_torch(batch, self.device)
        skipped = self.skipped
        stats = self.critic_step(b)
        self.updates += 1
        if self.stage == Stage.ONLINE:
            self.online_updates += 1
        warming_up = self.stage == Stage.ONLINE and \
            self.online_updates <= self.config.online_actor_delay
        if not warming_up and (self.updates % self.config.critic_actor_ratio == 0
                               or self.stage == Stage.PRETRAIN):
            stats.update(self.actor_step(b))
            self._average_actor()
        stats['actor_warmup'] = float(warming_up)
        stats['skipped_updates'] = float(self.skipped - skipped)
        return stats

    @torch.no_grad()
    def _average_actor(self):
        if self.actor_average is not None:
            for p, ap in zip(self.actor.parameters(), self.actor_average.parameters()):
                ap.lerp_(p, self.config.actor_ema)

    def _make_actor_average(self):
        """Make the Polyak-averaged acting actor (None when actor_ema is 0), after self.actor."""
        self.actor_average = copy.deepcopy(self.actor).requires_grad_(False) \
            if self.config.actor_ema > 0 else None

    @torch.no_grad()
    def diagnostics(self, batch: dict) -> dict:
        """
        Q against the Monte-Carlo return, and how the actor imitates, on one batch.

        Returns q (mean min-over-critics Q(s, a_data)), mc (mean Monte-Carlo return), q_mc_gap
        (mean of Q - G), bc_error (mean squared error of the deterministic action against the
        data action), entropy (estimate -E log pi, Cal-QL only).
        """
        b = to_torch(batch, self.device)
        self.encoder.eval()
        features = self.encoder(b['obs'])
        q = self.critic(features, b['action']).min(dim=0).values
        action, _ = self.policy(features, deterministic=True)
        out = {'q': q.mean().item(), 'mc': b['mc_return'].mean().item(),
               'q_mc_gap': (q - b['mc_return']).mean().item(),
               'bc_error': ((action - b['action']) ** 2).mean().item()}
        _, log_prob = self.policy(features)
        if log_prob is not None:
            out['entropy'] = -log_prob.mean().item()
        return out

    # checkpoints ------------------------------------------------------------------------------
    def modules(self):
        return {'encoder': self.encoder, 'critic': self.critic,
                'target_encoder': self.target_encoder, 'target_critic': self.target_critic}

    def optimizers(self):
        out = {'critic_optimizer': self.critic_optimizer}
        if self.encoder_optimizer is not None:
            out['encoder_optimizer'] = self.encoder_optimizer
        return out

    def state_dict(self):
        state = {name: m.state_dict() for name, m in self.modules().items()}
        state.update({name: o.state_dict() for name, o in self.optimizers().items()})
        state.update(stage=Stage(self.stage).value, updates=self.updates, skipped=self.skipped,
                     online_updates=self.online_updates, config=self.config.as_dict())
        if self.actor_average is not None:
            state['actor_average'] = self.actor_average.state_dict()
        return state

    def load_state_dict(self, state):
        for name, module in self.modules().items():
            module.load_state_dict(state[name])
        for name, optimizer in self.optimizers().items():
            optimizer.load_state_dict(state[name])
        self.stage, self.updates = Stage(state['stage']), state['updates']
        self.skipped = state.get('skipped', 0)
        self.online_updates = state.get('online_updates', 0)
        if self.actor_average is not None:  # a checkpoint from before the average: start it
            self.actor_average.load_state_dict(state.get('actor_average',
                                                         self.actor.state_dict()))

    def actor_state(self):
        """Return the weights acting needs (what the learner hands to the actor)."""
        acting = self.actor_average if self.actor_average is not None else self.actor
        return {'encoder': self.encoder.state_dict(), 'actor': acting.state_dict()}

    def load_actor_state(self, state):
        self.encoder.load_state_dict(state['encoder'])
        self.actor.load_state_dict(state['actor'])


class CalQL(Agent):
    """Cal-QL: SAC actor with automatic temperature, conservative calibrated twin critics."""

    def __init__(self, config, obs_shapes, action_dim=4, device='cpu', seed=0):
        super().__init__(config, obs_shapes, action_dim, device, seed)
        c = config
        self.actor = TanhGaussianActor(self.encoder.dim, action_dim, c.hidden,
                                       c.actor_layer_norm).to(self.device)
        self._make_actor_average()
        self.log_alpha = torch.tensor(math.log(c.initial_temperature), device=self.device,
                                      requires_grad=True)
        self.target_entropy = -float(action_dim) if c.target_entropy is None \
            else c.target_entropy
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=c.lr)
        self.alpha_optimizer = torch.optim.Adam([self.log_alpha], lr=c.lr)

    def policy(self, features, deterministic=False):
        return self.actor(features, deterministic)

    def policy_samples(self, features, k):
        return self.actor.sample(features, k)

    def bc_loss(self, features, b):
        """Return the imitation loss on the demo part of the batch (None: no demo in it)."""
        mask = b['from_demo_buffer']
        if not bool(mask.any()):
            return None
        if self.config.bc_loss == 'nll':
            return losses.bc_nll_loss(self.actor.log_prob(features[mask], b['action'][mask]))
        return losses.bc_mse_loss(self.actor.pre_squash_mean(features[mask]),
                                  b['action'][mask])

    def actor_step(self, b):
        features, trains_encoder = self.actor_features(b)
        bc = self.bc_loss(features, b)
        if self.stage == Stage.PRETRAIN:  # imitation alone; the temperature waits
            if bc is None:
                raise ValueError('the pretrain stage needs demonstrations in the batch')
            if self._step(self.actor_optimizer, bc, 'actor') and trains_encoder:
                self.encoder_optimizer.step()
            return {'bc_loss': bc.item(), 'actor_loss': bc.item()}
        action, log_prob = self.actor(features)
        q_policy = self.frozen_critic(features, action)
        alpha = self.log_alpha.exp().detach()
        c = self.config
        loss, stats = losses.sac_actor_loss(q_policy, log_prob, alpha, bc, c.bc_weight,
                                            c.bc_q_floor)
        if not self._step(self.actor_optimizer, loss, 'actor'):
            return stats
        alpha_loss = losses.temperature_loss(self.log_alpha, log_prob, self.target_entropy)
        self._step(self.alpha_optimizer, alpha_loss, 'temperature')
        stats.update(actor_loss=loss.item(), temperature=alpha.item(),
                     entropy=-log_prob.mean().item(),
                     bc_loss=bc.item() if bc is not None else 0.0)
        return stats

    def modules(self):
        return dict(super().modules(), actor=self.actor)

    def optimizers(self):
        return dict(super().optimizers(), actor_optimizer=self.actor_optimizer,
                    alpha_optimizer=self.alpha_optimizer)

    def state_dict(self):
        return dict(super().state_dict(), log_alpha=self.log_alpha.detach().clone())

    def load_state_dict(self, state):
        super().load_state_dict(state)
        with torch.no_grad():
            self.log_alpha.copy_(state['log_alpha'])


class ConRFT(Agent):
    """ConRFT: consistency-policy actor; Cal-QL critic offline (stage I), TD critic online."""

    def __init__(self, config, obs_shapes, action_dim=4, device='cpu', seed=0):
        super().__init__(config, obs_shapes, action_dim, device, seed)
        c = config
        self.actor = ConsistencyActor(self.encoder.dim, action_dim, c.hidden, c.sigma_min,
                                      c.sigma_max, c.rho, c.scales, c.sigma_data).to(self.device)
        self._make_actor_average()
        self.target_actor = copy.deepcopy(self.actor).requires_grad_(False)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=c.lr)

    def policy(self, features, deterministic=False):
        return self.actor(features, deterministic)

    def conservative(self):
        return self.stage != Stage.ONLINE or self.config.conrft_online_conservative

    def beta_eta(self):
        """(beta, eta) of the stage; imitation alone (eta = 0) while pretraining."""
        if self.stage == Stage.PRETRAIN:
            return self.config.stage1_beta_eta[0], 0.0
        return self.config.stage1_beta_eta if self.stage == Stage.OFFLINE \
            else self.config.stage2_beta_eta

    def actor_step(self, b):
        beta, eta = self.beta_eta()
        features, trains_encoder = self.actor_features(b)
        imitate = b['from_demo_buffer'] if self.config.consistency_on == 'demo' and \
            bool(b['from_demo_buffer'].any()) else slice(None)
        consistency = losses.consistency_loss(self.actor, self.target_actor, features[imitate],
                                              b['action'][imitate],
                                              self.config.consistency_sampling_weight)
        action, _ = self.actor(features)
        loss, stats = losses.conrft_actor_loss(consistency, self.frozen_critic(features, action),
                                               beta, eta)
        if not self._step(self.actor_optimizer, loss, 'actor'):
            return stats
        if trains_encoder:
            self.encoder_optimizer.step()
        with torch.no_grad():
            for p, tp in zip(self.actor.parameters(), self.target_actor.parameters()):
                tp.lerp_(p, self.config.tau)
        stats.update(actor_loss=loss.item(), beta=beta, eta=eta)
        return stats

    def modules(self):
        return dict(super().modules(), actor=self.actor, target_actor=self.target_actor)

    def optimizers(self):
        return dict(super().optimizers(), actor_optimizer=self.actor_optimizer)


def make_agent(config: AgentConfig, obs_shapes: dict, action_dim: int = 4, device: str = 'cpu',
               seed: int = 0) -> 'Agent':
    """Return the back-end config.algorithm names (CalQL or ConRFT), on `device`."""
    cls = CalQL if config.algorithm == 'calql' else ConRFT
    return cls(config, obs_shapes, action_dim, device, seed)
