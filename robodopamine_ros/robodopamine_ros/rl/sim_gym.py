# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The product's simulated episode as a gymnasium environment, for a peer's off-the-shelf learner.

``InsertionEnv`` steps the same machinery ``run_episode`` (rl/sim_episodes.py) loops over: the
same layouts (``layout_seed``), the safety layer (``sim_safety``), the GRM scoring the views
every ``grm_every`` steps (``GRMProgress``), the OutcomeJudge that ends an episode and says
whether it succeeded (the detector, the scripted operator's labels), the scripted operator's
takeovers on stalls, and the reward of every step (``transition_reward``: success reward plus
the policy-invariant shaping). Only the loop is written again here, step by step; test/rl/
test_peer_sac.py checks it against ``run_episode`` transition by transition. The peer's
learner (bench/peer_sac.py, Stable-Baselines3's SAC) only differs in what learns.

Observation: one float32 vector, the policy observation's 'image_features' (the frozen GRM
encoder's, 512 values with the compact GRM) followed by its 'state' (proprioception, 16 values
on the simulated arm); ``flat_observation`` builds it, ``policy_observation`` feeds it. Action:
Box(-1, 1, (4,)), the policy's (dx, dy, dz, gripper) before the safety layer. ``step`` returns
gymnasium's (observation, reward, terminated, truncated, info): terminated = the judged success
(a terminal state, the project's ``terminal``), truncated = any other end (time limit, a
rejected detector success, a wrong label: not a terminal state, the project's ``truncated``).
info['action'] is the action executed after the safety layer, or the scripted operator's on a
takeover step (info['intervention']): the action a learner stores, as the project's replay
does. When an episode ends, info['episode_info'] holds ``run_episode``'s info dict (success,
return, length, intervention_rate, final_progress, the judge's record, takeovers),
info['episode_index'] the episode's index (0 for a layout given to reset) and
info['episode_record'] its record (rl.replay.Episode).
"""

import gymnasium
import numpy as np
from robodopamine_ros.reward.success import SuccessConfig
from robodopamine_ros.rl.observations import policy_observation
from robodopamine_ros.rl.outcomes import make_judge, OperatorConfig, ScriptedOperator
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.rewards import transition_reward
from robodopamine_ros.rl.sim_episodes import (GRMProgress, layout_seed, make_sim,
                                              OracleProgress, record_demos, sim_safety)
from robodopamine_ros.rl.sim_training import config_shapes
from robodopamine_ros.robot.safety import SafetyLayer

FLAT_KEYS = ('image_features', 'state')  # the order of the flat observation's parts


def flat_observation(observation):
    """Return a policy observation dict as one float32 vector: image_features, then state."""
    parts = [np.asarray(observation[k], dtype=np.float32).reshape(-1) for k in FLAT_KEYS
             if k in observation]
    if not parts or set(observation) - set(FLAT_KEYS):
        raise ValueError(f'a flat observation needs vectors only ({FLAT_KEYS}), got '
                         f'{sorted(observation)}: use observation cameras with image_encoder '
                         'grm, or a state observation')
    return np.concatenate(parts)


def flat_size(shapes):
    """Return the flat observation's length for obs_shapes' result (vectors only)."""
    return int(sum(shapes[k][0] for k in FLAT_KEYS if k in shapes))


class FunctionActor:
    """
    An actor for ``run_episode`` / ``evaluate`` from any policy function on flat observations.

    policy(flat observation (D,) float32, deterministic) -> raw action (4,) in [-1, 1]; the
    simulated robot's safety layer filters it, as PolicyActor's does.
    """

    def __init__(self, policy):
        self.policy = policy
        self.safety = SafetyLayer(sim_safety())

    def act(self, observation, ee_position=None, deterministic=False):
        """Return (safe action, the policy's raw action, safety rules that changed it)."""
        raw = np.asarray(self.policy(flat_observation(observation), deterministic),
                         dtype=np.float64).reshape(-1)
        safe, changed = self.safety(raw, ee_position)
        return safe, raw, changed


class _Demos:
    """What record_demos fills: the demonstration episodes (its ``learner``)."""

    def __init__(self):
        self.episodes = []

    def add_episode(self, episode):
        self.episodes.append(episode)

    @property
    def demo(self):
        return [t for e in self.episodes for t in e.transitions]


class InsertionEnv(gymnasium.Env):
    """
    The simulated insertion with the product's reward and outcomes, one control step a step.

    config: a TrainConfig (sim_training) with a vector observation ('cameras' with
    image_encoder 'grm', or 'state' / 'robot'); features: its frozen encoder (default:
    config.policy_features()); sim: a simulator to use (default: make_sim(config)).
    reset() starts training episode ``episode + 1`` on ``layout_seed(config.seed, episode)``
    (the layouts of ``train``); options={'layout_seed': s} starts layout s instead, without
    counting. Raises ValueError for an observation with images.
    """

    metadata = {'render_modes': []}

    def __init__(self, config, features=None, sim=None):
        super().__init__()
        self.config = config
        self.features = config.policy_features() if features is None else features
        self.shapes = config_shapes(config, self.features)
        if 'images' in self.shapes:
            raise ValueError(f'InsertionEnv needs a vector observation, got observation '
                             f'{config.observation!r} with image_encoder '
                             f'{config.image_encoder!r}: use image_encoder grm')
        self.gamma = config.agent_config().gamma
        self.sim = sim if sim is not None else make_sim(config)
        source = config.progress_source
        self.progress = GRMProgress(config.grm_dir, config.grm_every, config.success_hold) \
            if source == 'grm' else OracleProgress() if source == 'oracle' else None
        self.operator = ScriptedOperator(OperatorConfig(label_delay=config.label_delay,
                                                        label_accuracy=config.label_accuracy),
                                         seed=config.seed) if config.operator else None
        self.judge = make_judge(config.success, self.operator,
                                SuccessConfig(hold_ticks=config.success_hold), config.grm_every)
        self.safety = SafetyLayer(sim_safety())
        size = flat_size(self.shapes)
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        self.action_space = gymnasium.spaces.Box(-1.0, 1.0, (4,), np.float32)
        self.episodes = 0          # training episodes started
        self.episode = None        # the running episode, as the project's replay records it

    def record_demos(self, log=print):
        """Record config.policy_demos successful expert episodes; return them (Episodes)."""
        demos = _Demos()
        record_demos(self.sim, None, self.config, self.shapes, self.progress, demos,
                     self.gamma, log, self.features)
        return demos.episodes

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if options and 'layout_seed' in options:
            layout, index = int(options['layout_seed']), 0
        else:
            self.episodes += 1
            layout, index = layout_seed(self.config.seed, self.episodes), self.episodes
        self.obs, _ = self.sim.reset(seed=layout)
        self.phi = self.progress.start(self.sim, self.obs) if self.progress else 0.0
        self.judge.reset()
        if self.operator:
            self.operator.reset()
        self.episode, self.t, self.total = Episode(index), 0, 0.0
        self.observation = policy_observation(self.obs, self.shapes, self.config.observation,
                                              self.features)
        return flat_observation(self.observation), {'layout_seed': layout, 'episode': index}

    def step(self, action):
        config, sim, judge, progress = self.config, self.sim, self.judge, self.progress
        if self.episode is None:
            raise RuntimeError('InsertionEnv.step before reset')
        hand = sim.ee_pose()[:3]
        intervention = False
        if self.operator and self.operator.should_take_over(self.phi):
            executed, _ = self.safety(np.clip(sim.expert_action(self.obs), -1.0, 1.0), hand)
            intervention = True
        else:
            executed, _ = self.safety(action, hand)
        next_obs, env_reward, sim_success, _, _ = sim.step(executed)
        self.t += 1
        time_up = self.t >= config.max_steps
        force = time_up or (judge.source == 'simulator' and sim_success)
        phi_next = progress.step(sim, force=force, obs=next_obs) if progress else 0.0
        ended, success = judge.step(bool(progress) and progress.ticked, phi_next, sim_success,
                                    getattr(progress, 'agreement', 1.0))
        truncated = time_up and not ended or (ended and not success)
        reward = transition_reward(config.reward, self.phi, phi_next, success, success,
                                   truncated, env_reward, self.gamma)
        self.total += reward
        next_observation = policy_observation(next_obs, self.shapes, config.observation,
                                              self.features)
        self.episode.add(self.observation, executed, next_observation, reward,
                         terminal=success, truncated=truncated, success=success,
                         intervention=intervention, progress_before=self.phi,
                         progress_after=phi_next, sparse_reward=float(success),
                         env_reward=env_reward)
        self.obs, self.observation, self.phi = next_obs, next_observation, phi_next
        done = ended or time_up
        info = {'action': np.asarray(executed, dtype=np.float32),
                'intervention': intervention}
        if done:
            info['episode_info'] = {
                'success': bool(success), 'return': self.total,
                'length': len(self.episode.transitions),
                'intervention_rate': self.episode.intervention_rate,
                'final_progress': phi_next, **judge.record}
            if self.operator:
                info['episode_info']['takeovers'] = self.operator.takeovers
            info['episode_index'], info['episode_record'] = self.episode.episode_id, self.episode
        return (flat_observation(next_observation), float(reward), bool(success),
                bool(done and not success), info)

    def close(self):
        self.sim.close()
