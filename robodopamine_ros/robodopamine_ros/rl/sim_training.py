# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Dopamine-RL on the simulated peg insertion: demos, offline stage, online episodes, evaluation.

What the policy sees is ``observation``: 'state' (Meta-World's 39-d state), 'images' (the three
camera views), 'both', or 'robot' (what rl_agent_node builds on a robot, robot/state.py: joint
positions, hand pose, the peg's and the hole's poses; a checkpoint trained on it acts through
the ROS graph). The GRM always scores the camera images (docs/method.md#one-query),
whatever the policy sees. Layouts: policy demos, training episodes and evaluation episodes use
disjoint seeds; evaluation layouts are the same for every run, so variants are compared on the same
layouts. Success for the benchmark is deterministic-policy evaluation success
(docs/decisions.md#learner-recipe); the noisy training episodes' success is logged beside it.
"""

from dataclasses import asdict, dataclass, field
import json
from pathlib import Path
import time

import numpy as np
from robodopamine_ros.data.topics import IMAGE_SIZE, VIEWS
from robodopamine_ros.grm.base import ProgressEstimator
from robodopamine_ros.reward.shaping import GAMMA
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.logs import TrainingLog
from robodopamine_ros.rl.replay import Episode, ReturnRule
from robodopamine_ros.rl.rewards import SOURCES, transition_reward
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.sim.peg_insertion import ROBOT_STATE_SIZE, WORKSPACE
import torch

OBSERVATIONS = ('state', 'images', 'both', 'robot')
EVAL_SEED = 900_000
DEMO_SEED = 500_000


@dataclass
class TrainConfig:
    """
    One run of Dopamine-RL on the simulated insertion.

    Every default lives here (the CLI and the benchmark take theirs from it).
    """

    # the back-end that learned the insertion best (bench/RESULTS.md, rl sim: Cal-QL ahead of
    # ConRFT on 50 layouts at 150 episodes in every benchmark run, GRM reward)
    algorithm: str = 'calql'
    reward: str = 'grm'
    episodes: int = 150
    policy_demos: int = 10           # expert demonstrations in the demo buffer ...
    successful_demos_only: bool = True  # ... that succeeded (failed attempts are left out)
    pretrain_updates: int = 1000     # imitation first (the actor alone fits the demos)
    offline_updates: int = 1000      # then offline RL on the demos
    updates_per_step: int = 1
    max_steps: int = 200
    observation: str = 'state'
    image_size: tuple = IMAGE_SIZE
    grm_dir: str = ''
    grm_every: int = 1               # GRM tick every n control steps; progress holds between
    # the scripted operator takes over on stalls (docs/method.md#interventions)
    operator: bool = False
    eval_every: int = 10
    eval_episodes: int = 20          # layouts of the regular evaluations
    final_eval_every: int = 50       # and every this many episodes (and at the end) ...
    final_eval_episodes: int = 50    # ... on this many layouts (the first eval_episodes
    #                                  of them are the regular ones)
    seed: int = 0
    checkpoint_every: int = 10
    sync_every: int = 1              # control steps between weight hand-overs to the actor
    device: str = 'cpu'
    agent: dict = field(default_factory=dict)  # AgentConfig overrides

    def __post_init__(self):
        if self.reward not in SOURCES:
            raise ValueError(f'reward must be one of {SOURCES}, got {self.reward!r}')
        if self.observation not in OBSERVATIONS:
            raise ValueError(f'observation must be one of {OBSERVATIONS}, got '
                             f'{self.observation!r}')
        if self.reward in ('grm', 'progress') and not self.grm_dir:
            raise ValueError(f'reward {self.reward!r} needs grm_dir, a GRM folder written by '
                             '`robodopamine adapt`')
        if self.operator and not self.grm_dir:
            raise ValueError('the scripted operator watches GRM progress: it needs grm_dir')
        self.image_size = tuple(self.image_size)

    def agent_config(self):
        return AgentConfig(**dict({'algorithm': self.algorithm}, **self.agent))

    @property
    def progress_source(self):
        """Where Phi comes from: 'grm', 'oracle' (the simulator's state) or None."""
        if self.reward == 'oracle':
            return 'oracle'
        return 'grm' if self.reward in ('grm', 'progress') or self.operator else None


def obs_shapes(config):
    width, height = config.image_size
    shapes = {}
    if config.observation in ('state', 'both'):
        shapes['state'] = (39,)
    if config.observation == 'robot':
        shapes['state'] = (ROBOT_STATE_SIZE,)
    if config.observation in ('images', 'both'):
        shapes['images'] = (3, height, width, 3)
    return shapes


def policy_observation(obs, shapes, observation='state'):
    """Return the policy's view of a simulator observation (`observation`: the config's)."""
    out = {}
    if 'state' in shapes:
        key = 'robot_state' if observation == 'robot' else 'state'
        out['state'] = np.asarray(obs[key], dtype=np.float32)
    if 'images' in shapes:
        out['images'] = np.stack([obs[view] for view in VIEWS])
    return out


class GRMProgress:
    """Progress Phi from the GRM on the camera images, ticking every `every` steps."""

    def __init__(self, grm_dir, every=1):
        from robodopamine_ros.grm.loading import load_grm, stored_task

        self.model, references = load_grm(str(grm_dir))
        if references is None:
            raise ValueError(f'{grm_dir}: the GRM folder holds no reference images')
        self.estimator = ProgressEstimator(self.model, stored_task(self.model), *references)
        self.every, self.steps = max(1, int(every)), 0

    @staticmethod
    def views(sim):
        views = sim.render_views()  # rendered only when the GRM ticks
        return tuple(views[view] for view in VIEWS)

    def start(self, sim):
        self.steps = 0
        return self.estimator.start(self.views(sim)).progress

    def step(self, sim, force=False):
        self.steps += 1
        if force or self.steps % self.every == 0:
            return self.estimator.tick(self.views(sim), frame=self.steps).estimate.progress
        return self.estimator.tracker.estimate.progress


class OracleProgress:
    """Phi from the simulator's privileged state (PegInsertionSim.oracle_progress)."""

    @staticmethod
    def start(sim):
        return sim.oracle_progress()

    @staticmethod
    def step(sim, force=False):
        return sim.oracle_progress()


class ScriptedOperator:
    """
    A stand-in for the human with the joystick.

    The scripted expert takes over for `takeover_steps` when progress gained less than
    `min_gain` over `stall_steps`; then control returns to the policy. There is no workspace
    trigger: the safety layer already holds the hand inside the box, so a policy pushing
    against a wall stalls and the stall rule fires (why a box rule went:
    docs/decisions.md#targets-missed).
    """

    def __init__(self, stall_steps=25, min_gain=0.05, takeover_steps=20):
        self.stall_steps, self.min_gain, self.takeover_steps = stall_steps, min_gain, \
            takeover_steps
        self.reset()

    def reset(self):
        self.history, self.remaining = [], 0

    def should_take_over(self, progress):
        """Feed this step's progress; return whether the operator acts at this step."""
        self.history.append(progress)
        if self.remaining > 0:
            self.remaining -= 1
            return True
        if len(self.history) > self.stall_steps and \
                progress - self.history[-1 - self.stall_steps] < self.min_gain:
            self.remaining = self.takeover_steps - 1
            self.history = []
            return True
        return False


def run_episode(sim, layout_seed, actor, config, shapes, progress=None, learner=None,
                operator=None, deterministic=False, episode_id=0, demo=False, gamma=GAMMA):
    """
    Run one episode; returns (Episode, info dict).

    demo=True: the scripted expert acts (a policy demonstration). With a learner,
    every control step is followed by updates_per_step updates and (every sync_every steps)
    a weight hand-over to the actor.
    """
    obs, _ = sim.reset(seed=layout_seed)
    phi = progress.start(sim) if progress else 0.0
    episode = Episode(episode_id, demo=demo)
    if operator:
        operator.reset()
    stats, success, total = [], False, 0.0
    observation = policy_observation(obs, shapes, config.observation)
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
        next_obs, env_reward, success, truncated, _ = sim.step(action)
        last = success or truncated
        phi_next = progress.step(sim, force=last) if progress else 0.0
        reward = transition_reward(config.reward, phi, phi_next, success, success, truncated,
                                   env_reward, gamma)
        total += reward
        next_observation = policy_observation(next_obs, shapes, config.observation)
        episode.add(observation, action, next_observation, reward,
                    terminal=success, truncated=truncated, success=success,
                    intervention=intervention, progress_before=phi, progress_after=phi_next,
                    sparse_reward=float(success), env_reward=env_reward)
        if learner is not None:
            stats.append(learner.update(config.updates_per_step))
            if (t + 1) % config.sync_every == 0:
                actor.load(learner.actor_state(), learner.counters['weights_version'])
        obs, observation, phi = next_obs, next_observation, phi_next
        if last:
            break
    info = {'success': bool(success), 'return': total, 'length': len(episode.transitions),
            'intervention_rate': episode.intervention_rate, 'final_progress': phi}
    if stats:
        info.update({k: float(np.mean([s[k] for s in stats if k in s]))
                     for k in stats[-1]})
    return episode, info


def sim_safety():
    """Return the simulated robot's safety layer (sim_insertion.yaml's rl_agent_node values)."""
    low, high = WORKSPACE  # velocity limits, period and scale: SafetyConfig's defaults
    return SafetyConfig(workspace_low=low, workspace_high=high)


def evaluate_checkpoint(folder, config, episodes):
    """
    Deterministic-policy success of the checkpoint in `folder` on the fixed evaluation layouts.

    The layouts and rule of ``evaluate``; config gives the observation (it must be the
    checkpoint's: 'robot' for one written by rl_agent_node) and max_steps. Returns (success
    rate, the checkpoint's counters). Raises FileNotFoundError when the folder holds none,
    ValueError naming both shapes when the observation differs.
    """
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim

    shapes = obs_shapes(config)
    learner, _ = Learner.resume(folder, shapes)
    if learner is None:
        raise FileNotFoundError(f'{folder}: no checkpoint to evaluate')
    actor = PolicyActor(learner.config, shapes, sim_safety(), seed=config.seed)
    actor.load(learner.actor_state())
    sim = PegInsertionSim(image_size=config.image_size, max_steps=config.max_steps,
                          render_images='images' in shapes)
    try:
        return evaluate(sim, actor, config, shapes, episodes), dict(learner.counters)
    finally:
        sim.close()


def evaluate(sim, actor, config, shapes, episodes):
    """Deterministic-policy success rate on the fixed evaluation layouts (no learning)."""
    successes = 0
    for k in range(episodes):
        _, info = run_episode(sim, EVAL_SEED + k, actor, config, shapes, deterministic=True)
        successes += info['success']
    return successes / max(1, episodes)


def layout_seed(seed, episode):
    return int(np.random.default_rng([seed, episode]).integers(2 ** 31 - 1))


def record_demos(sim, actor, config, shapes, progress, learner, gamma, log=print):
    """
    Fill the demo buffer with config.policy_demos SUCCESSFUL expert episodes.

    The scripted expert fails on some layouts (16 % within 200 steps); a failed attempt is not
    a demonstration of the task and is left out [ours]. Returns how many attempts it took.
    """
    attempts, kept = 0, 0
    while kept < config.policy_demos:
        if attempts >= 5 * config.policy_demos + 10:
            raise RuntimeError(f'the scripted expert succeeded in {kept} of {attempts} '
                               'layouts: cannot record the policy demonstrations')
        episode, info = run_episode(sim, DEMO_SEED + 1000 * config.seed + attempts, actor,
                                    config, shapes, progress, demo=True,
                                    episode_id=-1 - attempts, gamma=gamma)
        attempts += 1
        if info['success'] or not config.successful_demos_only:
            learner.add_episode(episode)
            kept += 1
    log(f'{kept} expert demonstrations ({attempts} attempts, {len(learner.demo)} transitions)')
    return attempts


def offline_stage(learner, config, actor, evaluate_now, training_log, log=print):
    """
    Imitation, then offline RL on the demos; returns {'bc_success', 'offline_success'}.

    Diagnostics (Q vs Monte-Carlo return on the demos, BC error, entropy) go to TensorBoard
    under offline/ every chunk of updates.
    """
    out, done, stage = {}, 0, None
    plan = learner.offline_plan(config.pretrain_updates, config.offline_updates, chunk=250)
    for stage_now, n in plan:
        if stage == 'pretrain' and stage_now != 'pretrain':
            actor.load(learner.actor_state())
            out['bc_success'] = evaluate_now()
            log(f'after imitation ({config.pretrain_updates} updates): BC policy success '
                f'{out["bc_success"]:.0%}')
        stage = stage_now
        learner.set_stage(stage)
        stats = learner.update(n)
        done += n
        for key, value in dict(stats, **learner.diagnostics()).items():
            training_log.scalar(f'offline/{key}', value, done)
    learner.set_stage('online')
    actor.load(learner.actor_state())
    if 'bc_success' not in out:
        out['bc_success'] = None
    out['offline_success'] = evaluate_now()
    diagnostics = learner.diagnostics() if len(learner.demo) else {}
    log(f'after the offline stage: success {out["offline_success"]:.0%}; Q on demos '
        f'{diagnostics.get("demo/q", float("nan")):.3f} vs Monte-Carlo return '
        f'{diagnostics.get("demo/mc", float("nan")):.3f}, BC error '
        f'{diagnostics.get("demo/bc_error", float("nan")):.3f}')
    out.update(diagnostics)
    return out


def train(config, output, resume=True, log=print):
    """
    Train on the simulated robot; return the summary dict (also written to summary.json).

    output/ receives episodes.csv (one row per episode: outcome, losses and diagnostics),
    eval.csv, tensorboard/, checkpoint.pt, summary.json. With resume and an existing
    checkpoint, training continues where it stopped (a long benchmark can be stopped and
    continued).
    """
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim

    torch.manual_seed(config.seed)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    shapes = obs_shapes(config)
    agent_config = config.agent_config()
    gamma = agent_config.gamma
    rule = ReturnRule(gamma=gamma, sparse=config.reward == 'sparse')
    # images in observations only when the policy sees them; the GRM renders on its ticks
    sim = PegInsertionSim(image_size=config.image_size, max_steps=config.max_steps,
                          render_images='images' in shapes)
    source = config.progress_source
    progress = GRMProgress(config.grm_dir, config.grm_every) if source == 'grm' else \
        OracleProgress() if source == 'oracle' else None
    operator = ScriptedOperator() if config.operator else None
    safety = sim_safety()
    learner, extra = (Learner.resume(output, shapes, return_rule=rule,
                                     algorithm=config.algorithm) if resume else (None, None))
    started = time.perf_counter()
    extra = extra or {}
    history = [tuple(h) for h in extra.get('eval', [])]
    offline = extra.get('offline', {})
    elapsed_before = extra.get('wall_time_s', 0.0)
    actor = PolicyActor(agent_config, shapes, safety, seed=config.seed)
    training_log = TrainingLog(output)
    if learner is not None:
        training_log.truncate_after(learner.counters['episodes'])

    def evaluate_now(episodes=config.eval_episodes):
        return evaluate(sim, actor, config, shapes, episodes)

    try:
        if learner is None:
            learner = Learner(agent_config, shapes, seed=config.seed, return_rule=rule,
                              device=config.device)
            log(f'recording {config.policy_demos} expert demonstrations for the policy')
            record_demos(sim, actor, config, shapes, progress, learner, gamma, log)
            offline = offline_stage(learner, config, actor, evaluate_now, training_log, log)
            history.append((0, offline['offline_success'], config.eval_episodes))
            log(f'episode 0: evaluation success {history[-1][1]:.0%}')
            # a stop in the first online episodes resumes after the offline stage; the
            # checkpoint also starts rl_agent_node (robot observation) from the same learner
            learner.save(output, extra={'eval': history, 'offline': offline,
                                        'wall_time_s': time.perf_counter() - started,
                                        'train_config': asdict(config)})
        actor.load(learner.actor_state())
        while learner.counters['episodes'] < config.episodes:
            index = learner.counters['episodes'] + 1
            t0 = time.perf_counter()
            episode, info = run_episode(sim, layout_seed(config.seed, index), actor, config,
                                        shapes, progress, learner, operator, episode_id=index,
                                        gamma=gamma)
            learner.add_episode(episode)
            seconds = time.perf_counter() - t0
            row = {'episode': index, 'steps_per_s': info['length'] / seconds,
                   'env_steps': learner.counters['env_steps'], **info,
                   **learner.diagnostics()}
            training_log.episode(row)
            last = index == config.episodes
            if index % config.final_eval_every == 0 or last:
                episodes = config.final_eval_episodes
            elif index % config.eval_every == 0:
                episodes = config.eval_episodes
            else:
                episodes = 0
            if episodes:
                rate = evaluate_now(episodes)
                history.append((index, rate, episodes))
                training_log.scalar('eval/success_rate', rate, index)
                log(f'episode {index}: evaluation success {rate:.0%} on {episodes} layouts '
                    f'(training success {info["success"]}, intervention rate '
                    f'{info["intervention_rate"]:.2f}, Q on demos '
                    f'{row.get("demo/q", float("nan")):.2f})')
            if index % config.checkpoint_every == 0 or last:
                wall = elapsed_before + time.perf_counter() - started
                learner.save(output, extra={'eval': history, 'wall_time_s': wall,
                                            'offline': offline,
                                            'train_config': asdict(config)})
        (output / 'eval.csv').write_text('episode,success_rate,layouts\n' + ''.join(
            f'{e},{r},{n}\n' for e, r, n in history))
    finally:
        training_log.close()
        sim.close()
    summary = {'config': asdict(config), 'eval': history, 'offline': offline,
               'wall_time_s': elapsed_before + time.perf_counter() - started,
               'env_steps': learner.counters['env_steps'], 'updates': learner.counters['updates'],
               'skipped_updates': learner.agent.skipped,
               'training_success': _training_success(output / 'episodes.csv'),
               'final_diagnostics': learner.diagnostics()}
    (output / 'summary.json').write_text(json.dumps(summary, indent=2, default=str) + '\n')
    return summary


def _training_success(csv_path):
    """Per-episode training success (0/1) and intervention rate, read back from the log."""
    import csv

    if not csv_path.is_file():
        return []
    with open(csv_path, newline='') as f:
        return [(int(r['episode']), r['success'] == 'True', float(r['intervention_rate']))
                for r in csv.DictReader(f)]


def adapt_sim_grm(output, seed=0, steps=300, image_size=IMAGE_SIZE, log=print):
    """
    Record ONE expert demonstration on the simulated robot and adapt a compact GRM on it.

    Returns the model folder (output/compact_grm); an existing folder is reused.
    """
    from robodopamine_ros.data import bags
    from robodopamine_ros.grm.one_shot import adapt
    from robodopamine_ros.sim.peg_insertion import PegInsertionSim
    from robodopamine_ros.sim.rollouts import expert_demonstration

    output = Path(output)
    model_dir = output / 'compact_grm'
    if (model_dir / 'model.safetensors').is_file():
        return model_dir
    sim = PegInsertionSim(image_size=image_size, max_steps=200)
    try:
        demo, demo_seed = expert_demonstration(sim, seed)
    finally:
        sim.close()
    demo_bag = output / 'grm_demo'
    if not demo_bag.exists():
        bags.write_episode(demo_bag, demo, storage='mcap', image_format='png',
                           action_source='expert')
    log(f'GRM: one expert demonstration (layout seed {demo_seed}, {demo.num_frames} frames), '
        f'adapting a compact GRM ({steps} steps)')
    adapt(demo_bag, model_dir, steps=steps, episode=demo, size=image_size, log=log)
    return model_dir
