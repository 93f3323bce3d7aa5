# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Every loss of the learner, in one place (docs/method.md#cal-ql, docs/method.md#conrft).

Shapes: B = batch, K = sampled actions per state, critic outputs are 2 x B (twin critics).
"""

import math
from typing import Optional

import torch
from torch import nn, Tensor
import torch.nn.functional as F


def td_target(reward: Tensor, terminal: Tensor, next_q: Tensor, gamma: float,
              mc_return: Optional[Tensor] = None) -> Tensor:
    """
    R + gamma * min_i Q_targ_i(s', a'), no entropy term in the backup.

    Why no entropy: docs/decisions.md#learner-recipe.

    terminal: 1 where the episode ended for good (success; the absorbing state has value 0);
    a time-limit truncation is not terminal and bootstraps. next_q: E x B; returns B.

    mc_return (B, or None): the target is raised to the transition's own Monte-Carlo return
    [ours; the Monte-Carlo lower bound of "optimality tightening", He et al. 2017]. In a
    deterministic task the logged return of (s, a) is a return that a policy achieved from
    there, so Q*(s, a) >= G(s, a); with a sparse reward a success 150 steps later otherwise
    reaches the critic one target-network lag at a time (measured: without it, offline Q on
    successful demos settled near -0.7 while their returns were 0.6).
    """
    target = reward + gamma * (1.0 - terminal) * next_q.min(dim=0).values
    return target if mc_return is None else torch.maximum(target, mc_return)


def td_loss(q_data: Tensor, target: Tensor) -> Tensor:
    """Mean squared TD error, summed over the critics."""
    return F.mse_loss(q_data, target.expand_as(q_data), reduction='none').mean(dim=1).sum()


def calql_conservative_term(q_random: Tensor, q_policy: Tensor, q_next_policy: Tensor,
                            q_data: Tensor, mc_return: Tensor,
                            log_prob_policy: Optional[Tensor] = None,
                            log_prob_next_policy: Optional[Tensor] = None,
                            temperature: float = 1.0,
                            action_dim: int = 4) -> tuple[Tensor, dict]:
    """
    Cal-QL's regularizer: logsumexp over sampled actions of Q(s, a_k) minus Q(s, a_data).

    q_random, q_policy, q_next_policy: 2 x B x K, Q at s of K uniform actions, K actions of
    pi(.|s) and K of pi(.|s'). Each policy-action Q is first raised to the Monte-Carlo return
    G_mc(s) (the calibration: Cal-QL pushes Q down no further than the data's own return).
    The random actions are not bounded. With log-probs given (importance sampling, CQL(H)),
    each Q is divided by its proposal density: minus log(1/2^d) for uniform actions on
    [-1, 1]^d, minus the policy's log-prob for policy actions.

    Returns (term: scalar, summed over critics; stats: bound rate = fraction of policy-action
    Q values that the bound raised, conservative gap = mean logsumexp - Q(s, a_data)).
    """
    bound = mc_return.reshape(1, -1, 1)
    policy = torch.cat([q_policy, q_next_policy], dim=-1)
    bounded = torch.maximum(policy, bound)
    bound_rate = (policy < bound).float().mean()
    q_policy, q_next_policy = bounded[..., :q_policy.shape[-1]], \
        bounded[..., q_policy.shape[-1]:]
    if log_prob_policy is not None:
        q_random = q_random + action_dim * math.log(2.0)  # uniform density on [-1, 1]^d: 2^-d
        q_policy = q_policy - log_prob_policy.unsqueeze(0).detach()
        q_next_policy = q_next_policy - log_prob_next_policy.unsqueeze(0).detach()
    sampled = torch.cat([q_random, q_policy, q_next_policy], dim=-1)
    logsumexp = temperature * torch.logsumexp(sampled / temperature, dim=-1)
    gap = logsumexp - q_data
    return gap.mean(dim=1).sum(), {'cql_bound_rate': bound_rate.item(),
                                   'cql_gap': gap.mean().item()}


BC_EDGE = 0.02  # demo actions are clipped to +-(1 - BC_EDGE) before atanh


def bc_mse_loss(pre_squash_mean: Tensor, data_action: Tensor) -> Tensor:
    """
    Behaviour cloning of a tanh-squashed actor, in pre-squash space: B x A -> scalar.

    mean((mu(s) - atanh(clip(a_demo, +-(1 - BC_EDGE))))^2) [ours]. The expert's actions are
    mostly saturated at +-1; a squared error on tanh(mu) loses its gradient as tanh
    saturates and approaches them slowly. Measured on 10 demos of the simulated insertion
    (deterministic success of the imitation alone, 20 layouts, after 500/1000/1500/3000
    updates): pre-squash 55/75/85/85 %, on tanh(mu) 60/55/55/65 %, likelihood (bc_nll_loss)
    0 % at 2000 (BC error 0.33 vs 0.03). Imitation on 10 demos is brittle in closed loop:
    the same runs dropped to 0-5 % at 2000 updates, which is why RL follows.
    """
    target = torch.atanh(data_action.clamp(-1.0 + BC_EDGE, 1.0 - BC_EDGE))
    return F.mse_loss(pre_squash_mean, target)


def bc_nll_loss(log_prob_data: Tensor) -> Tensor:
    """
    Behaviour cloning by likelihood: -mean log pi(a_demo | s) (B,) -> scalar.

    The prototype's choice; here it fits the demos far worse than bc_mse_loss (measured
    there), so it is kept as an option (AgentConfig.bc_loss = 'nll'), not the default.
    """
    return -log_prob_data.mean()


def sac_actor_loss(q_policy: Tensor, log_prob: Tensor, alpha: Tensor,
                   bc: Optional[Tensor] = None, bc_weight: float = 0.0,
                   bc_q_floor: float = 0.0) -> tuple[Tensor, dict]:
    """
    Return SAC's actor loss alpha * log pi - min Q, plus a behaviour-cloning anchor.

    q_policy: E x B, Q of actions drawn from pi; log_prob: B. bc: the BC loss on the demo part
    of the batch (a scalar, or None). The anchor [ours, TD3+BC's scaling as in the prototype
    that learned: weight bc_weight * mean|Q|] keeps its weight as Q grows; bc_q_floor keeps it
    from vanishing while Q is still near 0 (offline, under a sparse reward: the first fix the
    numbers asked for). bc_weight = 0 is plain Cal-QL.
    """
    q = q_policy.min(dim=0).values
    loss = (alpha * log_prob - q).mean()
    scale = torch.zeros((), device=q.device)
    if bc is not None and bc_weight > 0:
        scale = bc_weight * torch.clamp(q.abs().mean().detach(), min=bc_q_floor)
        loss = loss + scale * bc
    return loss, {'actor_q': q.mean().item(), 'bc_scale': scale.item()}


def temperature_loss(log_alpha: Tensor, log_prob: Tensor, target_entropy: float) -> Tensor:
    """Return the loss of SAC's automatic temperature (entropy toward target_entropy)."""
    return -(log_alpha * (log_prob.detach() + target_entropy)).mean()


def consistency_loss(actor: nn.Module, target_actor: nn.Module, features: Tensor,
                     action: Tensor, sampling_weight: float) -> Tensor:
    """
    Consistency training toward the batch action (docs/method.md#conrft).

    Two adjacent noise levels sigma_n < sigma_{n+1} of the Karras schedule, one noise draw z:
    f(a + sigma_{n+1} z, sigma_{n+1}) is pulled to the target network's
    f(a + sigma_n z, sigma_n) (stop-gradient), and [ours, as Consistency Policy's
    reconstruction term] to the action a itself, which anchors one-step samples to the data.
    [ours, measured] Plus sampling_weight x the reconstruction at sigma_max, the level
    one-step acting samples from (a uniform level trains it in 1 batch item of 39).

    features: B x F, action: B x A in [-1, 1]; returns a scalar (means over B and A).
    """
    sigmas, batch = actor.sigmas, action.shape[0]
    n = torch.randint(0, len(sigmas) - 1, (batch,), device=action.device)
    z = torch.randn_like(action)
    levels, noise = sigmas[n + 1], z
    if sampling_weight:  # the sampling level's rows ride in the same forward
        levels = torch.cat([levels, sigmas[-1].expand(batch)])
        noise = torch.cat([z, torch.randn_like(action)])
    rows = 2 if sampling_weight else 1
    out = actor.denoise(features.repeat(rows, 1),
                        action.repeat(rows, 1) + levels.unsqueeze(-1) * noise, levels)
    online = out[:batch]
    with torch.no_grad():
        target = target_actor.denoise(features, action + sigmas[n].unsqueeze(-1) * z, sigmas[n])
    loss = F.mse_loss(online, target) + F.mse_loss(online, action)
    if sampling_weight:
        loss = loss + sampling_weight * F.mse_loss(out[batch:], action)
    return loss


def conrft_actor_loss(consistency: Tensor, q_policy: Tensor, beta: float,
                      eta: float) -> tuple[Tensor, dict]:
    """
    Return ConRFT's actor loss beta * L_consistency - eta * Q(s, pi(s)), Q as it is.

    The loss: docs/method.md#conrft.

    Measured, not assumed: dividing Q by its batch mean |Q| (TD3+BC's normalization) made the
    actor collapse under a sparse reward, where Q is near 0 off the demos and the division
    amplifies the critic's noise; the paper's unnormalized form learns.
    """
    q = q_policy.min(dim=0).values
    return beta * consistency - eta * q.mean(), {'actor_q': q.mean().item(),
                                                 'consistency_loss': consistency.item()}
