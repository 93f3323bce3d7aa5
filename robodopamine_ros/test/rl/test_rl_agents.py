# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Cal-QL and ConRFT: the conservative term, one-step sampling, stages, checkpoints."""

import numpy as np
import pytest
from robodopamine_ros.rl import losses
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agents import AgentConfig, make_agent
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.robot.safety import SafetyConfig
import torch

SHAPES = {'state': (4,)}
SMALL = {'hidden': (32, 32), 'batch_size': 16}


def test_calql_bound_raises_policy_actions_only():
    # 1 critic x 2 states x 2 actions per source
    q_random = torch.tensor([[[-5.0, -6.0], [-5.0, -6.0]]])
    q_policy = torch.tensor([[[-4.0, 3.0], [-4.0, 3.0]]])
    q_next = torch.tensor([[[-3.0, -2.0], [-3.0, -2.0]]])
    q_data = torch.tensor([[0.0, 0.0]])
    mc = torch.tensor([1.0, -10.0])  # state 0: the bound binds; state 1: it never does
    term, stats = losses.calql_conservative_term(q_random, q_policy, q_next, q_data, mc)
    # state 0: policy Qs -4, 3, -3, -2 -> 1, 3, 1, 1; random -5, -6 untouched
    s0 = torch.logsumexp(torch.tensor([-5.0, -6.0, 1.0, 3.0, 1.0, 1.0]), 0)
    s1 = torch.logsumexp(torch.tensor([-5.0, -6.0, -4.0, 3.0, -3.0, -2.0]), 0)
    assert term.item() == pytest.approx(((s0 + s1) / 2).item(), rel=1e-6)
    assert stats['cql_bound_rate'] == pytest.approx(3 / 8)  # 3 of 8 policy Qs were raised
    # random actions are never bounded: a huge MC return leaves them out of the bound rate
    _, stats = losses.calql_conservative_term(q_random, q_policy, q_next, q_data,
                                              torch.tensor([100.0, 100.0]))
    assert stats['cql_bound_rate'] == 1.0


def test_calql_importance_sampling_divides_by_proposal_density():
    q = torch.zeros(1, 1, 1)
    log_p = torch.tensor([[2.0]])
    term, _ = losses.calql_conservative_term(q, q, q, torch.zeros(1, 1), torch.tensor([-1e9]),
                                             log_p, log_p, action_dim=4)
    expected = torch.logsumexp(torch.tensor([4 * np.log(2.0), -2.0, -2.0]), 0)
    assert term.item() == pytest.approx(expected.item(), rel=1e-6)


def test_td_target_bootstraps_unless_terminal():
    next_q = torch.tensor([[1.0, 1.0], [2.0, 0.5]])  # 2 critics x 2 samples
    target = losses.td_target(torch.tensor([0.5, 0.5]), torch.tensor([0.0, 1.0]), next_q, 0.9)
    np.testing.assert_allclose(target.numpy(), [0.5 + 0.9 * 1.0, 0.5])


@pytest.mark.parametrize('seed', range(3))
def test_conrft_one_step_samples_stay_in_range(seed):
    torch.manual_seed(seed)
    agent = make_agent(AgentConfig(algorithm='conrft', **SMALL), SHAPES)
    with torch.no_grad():  # adversarial weights: huge outputs before the clip
        for p in agent.actor.parameters():
            p.mul_(50.0)
    features = torch.randn(512, 4) * 100
    actions, _ = agent.actor(features)
    assert actions.abs().max() <= 1.0 and actions.abs().max() == 1.0
    for _ in range(20):
        a = agent.act({'state': np.random.default_rng(seed).normal(size=4) * 1e3})
        assert a.shape == (4,) and np.all(np.abs(a) <= 1.0)


def test_consistency_boundary_condition():
    agent = make_agent(AgentConfig(algorithm='conrft', **SMALL), SHAPES)
    x = torch.randn(8, 4)
    out = agent.actor.denoise(torch.randn(8, 4), x, torch.full((8,), agent.actor.sigma_min))
    torch.testing.assert_close(out, x)
    sigmas = agent.actor.sigmas
    assert len(sigmas) == 40 and torch.all(sigmas[1:] > sigmas[:-1])
    assert sigmas[0].item() == pytest.approx(0.002) and sigmas[-1].item() == pytest.approx(80)


@pytest.mark.parametrize('weight', [0.0, 1.0])
def test_consistency_loss_adds_the_sampling_level_reconstruction(weight):
    torch.manual_seed(0)
    agent = make_agent(AgentConfig(algorithm='conrft', **SMALL), SHAPES)
    features, action = torch.randn(64, 4), torch.rand(64, 4) * 2 - 1
    torch.manual_seed(1)
    with_term = losses.consistency_loss(agent.actor, agent.target_actor, features, action,
                                        weight)
    torch.manual_seed(1)
    n = torch.randint(0, 39, (64,))
    z = torch.randn_like(action)
    sigmas = agent.actor.sigmas
    online = agent.actor.denoise(features, action + sigmas[n + 1].unsqueeze(-1) * z,
                                 sigmas[n + 1])
    target = agent.target_actor.denoise(features, action + sigmas[n].unsqueeze(-1) * z,
                                        sigmas[n])
    paper = ((online - target) ** 2).mean() + ((online - action) ** 2).mean()
    if weight == 0:  # the paper's two terms, same draws
        torch.testing.assert_close(with_term, paper)
    else:  # plus a reconstruction at sigma_max, the level acting samples from
        z_top = torch.randn_like(action)
        acted = agent.actor.denoise(features, action + 80.0 * z_top,
                                    torch.full((64,), 80.0))
        torch.testing.assert_close(with_term, paper + ((acted - action) ** 2).mean())


def test_the_sampling_level_term_fits_the_deterministic_action_faster():
    """Imitation of a state-dependent action: the deterministic action's error, 300 steps."""
    errors = {}
    for weight in (0.0, 1.0):
        torch.manual_seed(0)
        agent = make_agent(AgentConfig(algorithm='conrft', consistency_sampling_weight=weight,
                                       **SMALL), SHAPES)
        optimizer = torch.optim.Adam(agent.actor.parameters(), lr=1e-3)
        features = torch.randn(256, 4)
        action = torch.tanh(features[:, [1, 0, 3, 2]] * 1.5)
        for _ in range(300):
            loss = losses.consistency_loss(agent.actor, agent.target_actor, features, action,
                                           weight)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            errors[weight] = ((agent.actor(features, deterministic=True)[0] - action) ** 2
                              ).mean().item()
    assert errors[1.0] < 0.5 * errors[0.0], errors


def test_conrft_stages_switch_critic_and_weights():
    agent = make_agent(AgentConfig(algorithm='conrft', stage2_beta_eta=(0.5, 1.0),
                                   conrft_online_conservative=False, **SMALL), SHAPES)
    agent.stage = 'pretrain'
    assert agent.conservative() and agent.beta_eta() == (1.0, 0.0)  # imitation alone
    agent.stage = 'offline'
    assert agent.conservative() and agent.beta_eta() == (1.0, 0.1)
    agent.stage = 'online'   # the paper's stage II: plain TD
    assert not agent.conservative() and agent.beta_eta() == (0.5, 1.0)
    assert agent.config.critic_actor_ratio == 2
    assert make_agent(AgentConfig(**SMALL), SHAPES).config.critic_actor_ratio == 1
    kept = make_agent(AgentConfig(algorithm='conrft', **SMALL), SHAPES)
    kept.stage = 'online'
    assert kept.conservative()   # the default keeps the Cal-QL term in stage II


def fill(learner, episodes=3, steps=10, rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    for k in range(episodes):
        e = Episode(k, demo=k == 0)
        for t in range(steps):
            e.add({'state': rng.normal(size=4).astype(np.float32)},
                  rng.uniform(-1, 1, 4), {'state': rng.normal(size=4).astype(np.float32)},
                  float(t == steps - 1), terminal=t == steps - 1, truncated=False,
                  success=t == steps - 1)
        learner.add_episode(e)


@pytest.mark.parametrize('algorithm', ['calql', 'conrft'])
def test_updates_log_losses_and_q(algorithm):
    learner = Learner(AgentConfig(algorithm=algorithm, **SMALL), SHAPES, capacity=100)
    fill(learner)
    stats = learner.update(4)
    for key in ('td_loss', 'q_data', 'cql_bound_rate', 'cql_gap', 'actor_loss', 'actor_q'):
        assert np.isfinite(stats[key]), key
    learner.set_stage('online')
    stats = learner.update(2)
    assert 'cql_gap' in stats  # both keep the conservative term online (ConRFT: by default)
    paper = Learner(AgentConfig(algorithm=algorithm, conrft_online_conservative=False, **SMALL),
                    SHAPES, capacity=100)
    fill(paper)
    paper.update(1)
    paper.set_stage('online')
    assert ('cql_gap' in paper.update(2)) == (algorithm == 'calql')  # paper's stage II: TD


@pytest.mark.parametrize('algorithm', ['calql', 'conrft'])
def test_checkpoint_resume_gives_identical_next_actions(algorithm, tmp_path):
    learner = Learner(AgentConfig(algorithm=algorithm, **SMALL), SHAPES, capacity=100, seed=3)
    fill(learner)
    learner.update(5)
    path = learner.save(tmp_path, extra={'episode': 3})
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ['checkpoint.pt']
    resumed, extra = Learner.resume(tmp_path, SHAPES, capacity=100)
    assert extra == {'episode': 3} and resumed.counters == learner.counters
    assert len(resumed.online) == len(learner.online) and len(resumed.demo) == len(learner.demo)
    # the same next updates (same batches, same noise) and the same next actions. One
    # process holds both here, so the global torch RNG (restored by resume, as in a fresh
    # process) is reset between the two runs.
    restored = torch.get_rng_state()
    a = learner.update(3)
    torch.set_rng_state(restored)
    b = resumed.update(3)
    assert a['td_loss'] == pytest.approx(b['td_loss'], rel=1e-5)
    observation = {'state': np.ones(4, np.float32)}
    torch.manual_seed(0)
    first = learner.agent.act(observation)
    torch.manual_seed(0)
    second = resumed.agent.act(observation)
    np.testing.assert_allclose(first, second, rtol=1e-5)
    np.testing.assert_allclose(learner.agent.act(observation, deterministic=True),
                               resumed.agent.act(observation, deterministic=True), rtol=1e-5)


def test_damaged_checkpoint_is_named(tmp_path):
    (tmp_path / 'checkpoint.pt').write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='checkpoint.pt: not a readable checkpoint'):
        Learner.read(tmp_path)
    assert Learner.resume(tmp_path / 'absent', SHAPES) == (None, None)


def test_actor_gets_weights_by_copy_and_acts_safely():
    learner = Learner(AgentConfig(**SMALL), SHAPES, capacity=100)
    actor = PolicyActor(AgentConfig(**SMALL), SHAPES, SafetyConfig(max_velocity=(0.05,) * 3))
    actor.load(learner.actor_state(), version=1)
    observation = {'state': np.ones(4, np.float32)}
    np.testing.assert_allclose(actor.agent.act(observation, True),
                               learner.agent.act(observation, True), rtol=1e-6)
    fill(learner)
    learner.update(3)  # the learner moves on; the actor keeps its copy until the next load
    assert not np.allclose(actor.agent.act(observation, True),
                           learner.agent.act(observation, True))
    safe, raw, _ = actor.act(observation, ee_position=[0.0, 0.6, 0.2])
    assert np.all(np.abs(safe[:3]) <= 0.5 + 1e-9)  # 0.05 m/s * 0.1 s / 0.01 m = 0.5 units


def _weights(module):
    return [p.detach().clone() for p in module.parameters()]


@pytest.mark.parametrize('algorithm', ['calql', 'conrft'])
def test_the_acting_actor_is_a_polyak_average_of_the_trained_one(algorithm, tmp_path):
    config = AgentConfig(algorithm=algorithm, actor_ema=0.25, critic_actor_ratio=1, **SMALL)
    learner = Learner(config, SHAPES, capacity=100)
    fill(learner)
    agent = learner.agent
    average = _weights(agent.actor)  # the average starts at the initial actor
    for _ in range(3):
        learner.update(1)
        average = [a + 0.25 * (p - a) for a, p in zip(average, _weights(agent.actor))]
    handed = learner.actor_state()['actor']
    names = [name for name, _ in agent.actor.named_parameters()]
    for name, expected in zip(names, average):
        torch.testing.assert_close(handed[name], expected)
    assert not torch.allclose(handed[names[0]], dict(agent.actor.named_parameters())[names[0]])
    # the average survives a checkpoint
    learner.save(tmp_path)
    resumed, _ = Learner.resume(tmp_path, SHAPES, capacity=100)
    for name in names:
        torch.testing.assert_close(resumed.actor_state()['actor'][name], handed[name])


def test_the_online_actor_waits_while_the_critic_warms_up():
    config = AgentConfig(online_actor_delay=3, **SMALL)
    learner = Learner(config, SHAPES, capacity=100)
    fill(learner)
    learner.update(2)  # offline: the actor learns at once
    learner.set_stage('online')
    actor, critic = _weights(learner.agent.actor), _weights(learner.agent.critic)
    stats = learner.update(3)
    assert 'actor_loss' not in stats
    assert all(torch.equal(a, b) for a, b in zip(actor, _weights(learner.agent.actor)))
    assert not all(torch.equal(a, b) for a, b in zip(critic, _weights(learner.agent.critic)))
    assert 'actor_loss' in learner.update(1)  # the 4th online update moves the actor
    assert not all(torch.equal(a, b) for a, b in zip(actor, _weights(learner.agent.actor)))


@pytest.mark.parametrize('field, value', [('actor_ema', 1.0), ('actor_ema', -0.1),
                                          ('online_actor_delay', -1),
                                          ('consistency_sampling_weight', -1.0)])
def test_invalid_stabilizer_settings_are_named(field, value):
    with pytest.raises(ValueError, match=field):
        AgentConfig(**{field: value})
