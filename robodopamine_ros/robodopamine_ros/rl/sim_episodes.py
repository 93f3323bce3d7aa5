# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
One episode on the simulated insertion, and what runs episodes: evaluations and demonstrations.

``run_episode`` is the product's step loop in simulation: the policy (or the scripted expert,
or the scripted operator taking over) acts through the safety layer, the GRM scores the views
every ``grm_every`` steps, the OutcomeJudge (rl/outcomes.py) says when the episode ends and
whether it succeeded, and the shaped reward of every step is stored with its progress. Layouts:
policy demos, training episodes and evaluation episodes use disjoint seeds (DEMO_SEED,
``layout_seed``, EVAL_SEED); evaluation layouts are the same for every run, so variants are
compared on the same layouts, and the simulator's success flag scores them (ground truth, for
evaluating only).
"""

import numpy as np
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.grm.base import ProgressEstimator
from robodopamine_ros.reward.contract import grm_terms
from robodopamine_ros.reward.progress import ProgressConfig
from robodopamine_ros.reward.shaping import GAMMA
from robodopamine_ros.reward.success import DEFAULT_HOLD_S, ticks_for_hold
from robodopamine_ros.rl.observations import policy_observation
from robodopamine_ros.rl.outcomes import OutcomeJudge
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.rewards import transition_reward
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.sim.peg_insertion import WORKSPACE

EVAL_SEED = 900_000
DEMO_SEED = 500_000


class GRMProgress:
    """
    Progress Phi from the GRM on the camera images, ticking every `every` steps.

    success_hold: the detector's hold in GRM ticks (None: reward/success.py's default duration
    at this tick rate).

    ``ticked``: whether the last start/step scored new images (the success detector counts
    ticks, as grm_node's does). The views come from the observation when it holds them (the
    policy sees the cameras), else they are rendered for the tick. ``agreement``: the last
    tick's forward / backward agreement (the detector's familiarity gate). keep_ticks: keep
    ``ticks``, (control step, views, ProgressEstimate) of every tick of the episode, to record
    it (rl/grm_refresh_loop.py).
    """

    def __init__(self, grm_dir, every=1, success_hold=None, keep_ticks=False,
                 min_agreement=0.0):
        from robodopamine_ros.grm.loading import load_grm, stored_task

        if success_hold is None:   # the detector's default hold at this GRM's tick rate
            success_hold = sim_hold_ticks(every)

        self.model, references = load_grm(str(grm_dir))
        if references is None:
            raise ValueError(f'{grm_dir}: the GRM folder holds no reference images')
        config = ProgressConfig(success_hold=success_hold, success_min_agreement=min_agreement)
        self.estimator = ProgressEstimator(self.model, stored_task(self.model), *references,
                                           config=config)
        self.every, self.steps, self.ticked = max(1, int(every)), 0, False
        self.keep_ticks, self.ticks = keep_ticks, []
        self.terms = grm_terms(grm_dir, self.model.name, self.estimator.task, references=(
            self.estimator.reference_start, self.estimator.reference_end),
            views={view: f'simulator camera {view}' for view in VIEWS},
            progress=self.estimator.tracker.config)   # the reward contract's GRM half

    @staticmethod
    def views(sim, obs=None):
        if obs is not None and all(view in obs for view in VIEWS):
            return tuple(obs[view] for view in VIEWS)
        views = sim.render_views()  # rendered only when the GRM ticks
        return tuple(views[view] for view in VIEWS)

    @property
    def agreement(self):
        return self.estimator.tracker.estimate.agreement

    def _keep(self, views, estimate):
        if self.keep_ticks:
            self.ticks.append((self.steps, tuple(np.array(v) for v in views), estimate))

    def start(self, sim, obs=None):
        self.steps, self.ticked, self.ticks = 0, True, []
        views = self.views(sim, obs)
        estimate = self.estimator.start(views)
        self._keep(views, estimate)
        return estimate.progress

    def step(self, sim, force=False, obs=None):
        self.steps += 1
        self.ticked = force or self.steps % self.every == 0
        if self.ticked:
            views = self.views(sim, obs)
            estimate = self.estimator.tick(views, frame=self.steps).estimate
            self._keep(views, estimate)
            return estimate.progress
        return self.estimator.tracker.estimate.progress


class OracleProgress:
    """Phi from the simulator's privileged state (PegInsertionSim.oracle_progress)."""

    ticked = True

    @staticmethod
    def start(sim, obs=None):
        return sim.oracle_progress()

    @staticmethod
    def step(sim, force=False, obs=None):
        return sim.oracle_progress()


def run_episode(sim, layout_seed, actor, config, shapes, progress=None, learner=None,
                operator=None, deterministic=False, episode_id=0, demo=False, gamma=GAMMA,
                judge=None, features=None):
    """
    Run one episode; returns (Episode, info dict).

    demo=True: the scripted expert acts (a policy demonstration). With a learner,
    every control step is followed by updates_per_step updates and (every sync_every steps)
    a weight hand-over to the actor. judge: the OutcomeJudge that ends the episode and says
    whether it succeeded (default: the simulator's flag, as evaluations and demonstrations
    are scored); features: the frozen camera encoder of 'image_features'. The info dict holds
    the outcome, the return, the length and the judge's record (detector verdict, the
    simulator's truth, labels; takeovers when an operator takes part).
    """
    obs, _ = sim.reset(seed=layout_seed)
    phi = progress.start(sim, obs) if progress else 0.0
    judge = judge or OutcomeJudge('simulator')
    judge.reset()
    episode = Episode(episode_id, demo=demo)
    if operator:
        operator.reset()
    stats, success, total = [], False, 0.0
    observation = policy_observation(obs, shapes, config.observation, features)
    for t in range(config.max_steps):
        hand = sim.ee_pose()[:3]
        intervention = False
        if demo:
            action = np.clip(sim.expert_action(obs), -1.0, 1.0)
        elif operator and operator.should_take_over(phi):
            action, _ = actor.safety(np.clip(sim.expert_action(obs), -1.0, 1.0), hand)
            intervention = True
        else:
            action, _, _ = actor.act(observation, hand, deterministic)
        next_obs, env_reward, sim_success, _, _ = sim.step(action)
        time_up = t + 1 >= config.max_steps
        # a tick at the episode's last step; which step is last the simulator may tell only
        # when it is the judge ('simulator'): elsewhere its flag must not time the GRM
        force = time_up or (judge.source == 'simulator' and sim_success)
        phi_next = progress.step(sim, force=force, obs=next_obs) if progress else 0.0
        ended, success = judge.step(bool(progress) and progress.ticked, phi_next, sim_success,
                                    getattr(progress, 'agreement', 1.0))
        truncated = time_up and not ended or (ended and not success)
        reward = transition_reward(config.reward, phi, phi_next, success, success, truncated,
                                   env_reward, gamma)
        total += reward
        next_observation = policy_observation(next_obs, shapes, config.observation, features)
        episode.add(observation, action, next_observation, reward,
                    terminal=success, truncated=truncated, success=success,
                    intervention=intervention, progress_before=phi, progress_after=phi_next,
                    sparse_reward=float(success), env_reward=env_reward)
        if learner is not None:
            stats.append(learner.update(config.updates_per_step))
            if (t + 1) % config.sync_every == 0:
                actor.load(learner.actor_state(), learner.counters['weights_version'])
        obs, observation, phi = next_obs, next_observation, phi_next
        if ended or time_up:
            break
    info = {'success': bool(success), 'return': total, 'length': len(episode.transitions),
            'intervention_rate': episode.intervention_rate, 'final_progress': phi,
            **judge.record}
    if operator:
        info['takeovers'] = operator.takeovers
    if stats:
        info.update({k: float(np.mean([s[k] for s in stats if k in s]))
                     for k in stats[-1]})
    return episode, info


def sim_hold_ticks(every, seconds=DEFAULT_HOLD_S):
    """Return the detector's hold in GRM ticks for a GRM ticking every `every` control steps."""
    return ticks_for_hold(1.0 / (sim_safety().control_period * max(1, int(every))), seconds)


def sim_safety():
    """Return the simulated robot's safety layer (sim_insertion.yaml's rl_agent_node values)."""
    low, high = WORKSPACE  # velocity limits, period and scale: SafetyConfig's defaults
    return SafetyConfig(workspace_low=low, workspace_high=high)


def make_sim(config):
    """Return the simulated insertion for a config (views rendered when the policy sees them)."""
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim

    return PegInsertionSim(image_size=config.image_size, max_steps=config.max_steps,
                           render_images=config.observation in ('images', 'both', 'cameras'))


def evaluate(sim, actor, config, shapes, episodes, features=None):
    """
    Deterministic-policy success rate on the fixed evaluation layouts (no learning).

    Scored by the simulator's success flag: ground truth, for evaluating only.
    """
    successes = 0
    for k in range(episodes):
        _, info = run_episode(sim, EVAL_SEED + k, actor, config, shapes, deterministic=True,
                              features=features)
        successes += info['success']
    return successes / max(1, episodes)


def layout_seed(seed, episode):
    return int(np.random.default_rng([seed, episode]).integers(2 ** 31 - 1))


def record_demos(sim, actor, config, shapes, progress, learner, gamma, log=print,
                 features=None):
    """
    Fill the demo buffer with config.policy_demos SUCCESSFUL expert episodes.

    The scripted expert fails on some layouts (16 % within 200 steps); a failed attempt is not
    a demonstration of the task and is left out [ours]. Layouts: from config.demo_layout on
    when it is set (the GRM's demonstration layout: the user's one demonstration is the first,
    the expert being deterministic), else from DEMO_SEED + 1000 x seed. Their success is the
    simulator's (the user keeps a demonstration that worked). Returns how many attempts it took.
    """
    attempts, kept = 0, 0
    first = config.demo_layout if config.demo_layout >= 0 else DEMO_SEED + 1000 * config.seed
    while kept < config.policy_demos:
        if attempts >= 5 * config.policy_demos + 10:
            raise RuntimeError(f'the scripted expert succeeded in {kept} of {attempts} '
                               'layouts: cannot record the policy demonstrations')
        episode, info = run_episode(sim, first + attempts, actor,
                                    config, shapes, progress, demo=True,
                                    episode_id=-1 - attempts, gamma=gamma, features=features)
        attempts += 1
        if info['success'] or not config.successful_demos_only:
            learner.add_episode(episode)
            kept += 1
    log(f'{kept} expert demonstrations ({attempts} attempts, {len(learner.demo)} transitions)')
    return attempts
