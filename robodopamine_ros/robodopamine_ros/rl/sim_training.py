# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Dopamine-RL on the simulated peg insertion: demos, offline stage, online episodes, evaluation.

What the policy sees is ``observation`` (rl/observations.py): 'cameras' (the product's: the three
views and proprioception), or a privileged upper bound ('state', 'robot'). Where success comes
from is ``success`` (rl/outcomes.py): the product's 'detector', the operator's labels
('operator', 'either'), or the simulator's flag ('simulator', privileged). The simulator's flag
always scores evaluations and, per training episode, the detector's precision and recall; in
the product's setting ('cameras' with 'detector' / 'operator' / 'either') it reaches the learner
only through the scripted operator's labels. The GRM always scores the camera images
(docs/method.md#one-query), whatever the policy sees. Layouts: policy demos, training episodes
and evaluation episodes use disjoint seeds; evaluation layouts are the same for every run, so
variants are compared on the same layouts. Success for the benchmark is deterministic-policy
evaluation success (docs/decisions.md#learner-recipe); the noisy training episodes' success is
logged beside it.
"""

from dataclasses import asdict, dataclass, field
import json
from pathlib import Path
import time

from robodopamine_ros.data.topics import IMAGE_SIZE
from robodopamine_ros.reward.contract import contract_change
from robodopamine_ros.reward.success import DEFAULT_HOLD_S, SuccessConfig, ticks_for_hold
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.grm_refresh_loop import refresh_loop
from robodopamine_ros.rl.logs import (operator_effort, peak_rss_mb, training_rows,
                                      training_success, TrainingLog)
from robodopamine_ros.rl.observations import (FrozenViewEncoder, IMAGE_ENCODERS, obs_shapes,
                                              OBSERVATIONS, PRIVILEGED, tuned_encoder_start)
from robodopamine_ros.rl.outcomes import (detector_scores, make_judge, OperatorConfig,
                                          PRIVILEGED_SUCCESS, ScriptedOperator,
                                          SUCCESS_SOURCES)
from robodopamine_ros.rl.replay import ReturnRule
from robodopamine_ros.rl.rewards import SOURCES
from robodopamine_ros.rl.sim_episodes import (evaluate, GRMProgress, layout_seed, make_sim,
                                              OracleProgress, record_demos, run_episode,
                                              sim_hold_ticks, sim_safety)
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
import torch


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
    # privileged upper bounds by default until the product's setting ('cameras', 'either')
    # meets its targets (bench/RESULTS.md); rl/observations.py and rl/outcomes.py say why
    observation: str = 'state'
    success: str = 'simulator'
    image_size: tuple = IMAGE_SIZE   # width, height of each view the policy sees
    image_encoder: str = 'cnn'       # 'cnn', 'grm' (frozen) or 'grm-tuned' (rl/observations.py)
    encoder_dir: str = ''            # the 'grm' / 'grm-tuned' encoder's GRM (default: grm_dir)
    grm_dir: str = ''
    grm_every: int = 1               # GRM tick every n control steps; progress holds between
    success_hold_s: float = DEFAULT_HOLD_S  # s the detector's threshold must hold (ticks:
    #                                         success_hold, at the GRM's rate)
    success_min_agreement: float = 0.0   # the detector's familiarity gate (0: off)
    grm_refresh_every: int = 0       # refresh the GRM every n online episodes (0: never;
    #                                  rl/grm_refresh_loop.py, grm/refresh.py)
    grm_demo: str = ''               # what a refresh trains on (default: the GRM's own demo)
    # the scripted operator takes over on stalls and labels outcomes
    # (docs/method.md#interventions, rl/outcomes.py)
    operator: bool = False
    label_delay: int = OperatorConfig.label_delay
    label_accuracy: float = OperatorConfig.label_accuracy
    demo_layout: int = -1            # first layout seed of the policy demonstrations (-1: own)
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
        if self.success not in SUCCESS_SOURCES:
            raise ValueError(f'success must be one of {SUCCESS_SOURCES}, got {self.success!r}')
        if self.image_encoder not in IMAGE_ENCODERS:
            raise ValueError(f'image_encoder must be one of {IMAGE_ENCODERS}, got '
                             f'{self.image_encoder!r}')
        if self.reward in ('grm', 'progress') and not self.grm_dir:
            raise ValueError(f'reward {self.reward!r} needs grm_dir, a GRM folder written by '
                             '`robodopamine adapt`')
        if self.image_encoder == 'grm-tuned' and self.observation == 'cameras' and not (
                self.encoder_dir or self.grm_dir):
            raise ValueError("image_encoder 'grm-tuned' starts from a GRM: it needs grm_dir "
                             '(or encoder_dir)')
        if isinstance(self.grm_every, bool) or not isinstance(self.grm_every, int) or \
                self.grm_every < 1:
            raise ValueError(f'grm_every must be an integer >= 1 (control steps per GRM tick), '
                             f'got {self.grm_every!r}')
        ticks_for_hold(1.0, self.success_hold_s)   # raises for a hold that is not >= 0 s
        if isinstance(self.grm_refresh_every, bool) or not isinstance(
                self.grm_refresh_every, int) or self.grm_refresh_every < 0:
            raise ValueError(f'grm_refresh_every must be an integer >= 0 (episodes), got '
                             f'{self.grm_refresh_every!r}')
        if self.grm_refresh_every and not (self.operator and self.progress_source == 'grm'):
            raise ValueError("grm_refresh_every refreshes the GRM on the operator's labels: it "
                             'needs operator and a GRM (grm_dir)')
        SuccessConfig(min_agreement=self.success_min_agreement)   # raises outside [0, 1]
        if self.operator and not self.grm_dir:
            raise ValueError('the scripted operator watches GRM progress: it needs grm_dir')
        if self.success in ('detector', 'either') and not self.grm_dir:
            raise ValueError(f'success {self.success!r} uses the GRM success detector: it needs '
                             'grm_dir')
        if self.success in ('operator', 'either') and not self.operator:
            raise ValueError(f"success {self.success!r} needs the operator's labels: set "
                             'operator (the scripted operator in simulation)')
        self.image_size = tuple(self.image_size)

    def agent_config(self, grm_config=None):
        """Return the learner's AgentConfig; grm_config: the 'grm-tuned' encoder's GRM's."""
        return AgentConfig(**dict({'algorithm': self.algorithm, 'grm_config': grm_config},
                                  **self.agent))

    def eval_layouts(self, index, last=False):
        """Return how many layouts the evaluation after online episode `index` scores (0: none)."""
        if index % self.final_eval_every == 0 or last:
            return self.final_eval_episodes
        return self.eval_episodes if index % self.eval_every == 0 else 0

    @property
    def tuned_encoder_dir(self):
        """Return the GRM folder image_encoder 'grm-tuned' starts from ('' for other ones)."""
        if self.image_encoder != 'grm-tuned' or self.observation != 'cameras':
            return ''
        return self.encoder_dir or self.grm_dir

    @property
    def success_hold(self):
        """GRM ticks the detector's threshold must hold: success_hold_s at the GRM's tick rate."""
        return sim_hold_ticks(self.grm_every, self.success_hold_s)

    @property
    def progress_source(self):
        """Where Phi comes from: 'grm', 'oracle' (the simulator's state) or None."""
        if self.reward == 'oracle':
            return 'oracle'
        return 'grm' if self.reward in ('grm', 'progress') or self.operator or \
            self.success in ('detector', 'either') else None

    @property
    def privileged(self):
        """List what this run uses that a real arm lacks (empty: the product's own loop)."""
        out = []
        if self.observation in PRIVILEGED:
            out.append(f'observation {self.observation!r} (object positions)')
        if self.success in PRIVILEGED_SUCCESS:
            out.append("the simulator's success flag")
        if self.reward == 'oracle':
            out.append("progress from the simulator's state")
        return out

    def policy_features(self):
        """Return the frozen camera encoder of image_encoder 'grm', or None."""
        if self.image_encoder != 'grm' or self.observation != 'cameras':
            return None
        return FrozenViewEncoder(self.encoder_dir or self.grm_dir)


def config_shapes(config, features=None):
    """Return the policy's observation shapes for a TrainConfig (features: its frozen encoder)."""
    return obs_shapes(config.observation, config.image_size,
                      image_features=features.size if features is not None else None)


def evaluate_checkpoint(folder, config, episodes):
    """
    Deterministic-policy success of the checkpoint in `folder` on the fixed evaluation layouts.

    The layouts and rule of ``evaluate``; config gives the observation (it must be the
    checkpoint's: 'robot' for one written by rl_agent_node) and max_steps. Returns (success
    rate, the checkpoint's counters). Raises FileNotFoundError when the folder holds none,
    ValueError naming both shapes when the observation differs.
    """
    features = config.policy_features()
    shapes = config_shapes(config, features)
    learner, _ = Learner.resume(folder, shapes)
    if learner is None:
        raise FileNotFoundError(f'{folder}: no checkpoint to evaluate')
    actor = PolicyActor(learner.config, shapes, sim_safety(), seed=config.seed)
    actor.load(learner.actor_state())
    sim = make_sim(config)
    try:
        return evaluate(sim, actor, config, shapes, episodes, features), dict(learner.counters)
    finally:
        sim.close()


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


# settings a resumed run may change: how long it runs, how often it is evaluated and saved
RESUMABLE_CHANGES = ('episodes', 'eval_every', 'eval_episodes', 'final_eval_every',
                     'final_eval_episodes', 'checkpoint_every', 'device')


def resume_differences(saved, config):
    """
    Return 'field: checkpoint's -> now' for each setting that differs from a checkpoint's run.

    saved: the checkpoint's ``train_config`` (None: a checkpoint from before it was stored,
    nothing to compare; a setting it lacks is newer than the checkpoint and not compared).
    Settings in RESUMABLE_CHANGES may differ.
    """
    if not saved:
        return []
    now = json.loads(json.dumps(asdict(config), default=str))
    return [f'{key}: {saved.get(key)!r} -> {value!r}' for key, value in now.items()
            if key not in RESUMABLE_CHANGES and key in saved and saved[key] != value]


def train(config, output, resume=True, log=print, force=False):
    """
    Train on the simulated robot; return the summary dict (also written to summary.json).

    output/ receives episodes.csv (one row per episode: outcome, losses and diagnostics),
    eval.csv, tensorboard/, checkpoint.pt, summary.json. With resume and an existing
    checkpoint, training continues where it stopped (a long benchmark can be stopped and
    continued).
    """
    torch.manual_seed(config.seed)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    features = config.policy_features()
    shapes = config_shapes(config, features)
    agent_config = config.agent_config()
    gamma = agent_config.gamma
    rule = ReturnRule(gamma=gamma, sparse=config.reward == 'sparse')
    # images in observations only when the policy sees them; the GRM renders on its ticks
    sim = make_sim(config)
    source = config.progress_source
    refresh, grm_dir = refresh_loop(config, output, log)   # the GRM the run scores with

    def grm_progress():
        return GRMProgress(grm_dir, config.grm_every, config.success_hold,
                           keep_ticks=refresh is not None,
                           min_agreement=config.success_min_agreement)

    progress = grm_progress() if source == 'grm' else \
        OracleProgress() if source == 'oracle' else None
    operator = ScriptedOperator(OperatorConfig(label_delay=config.label_delay,
                                               label_accuracy=config.label_accuracy),
                                seed=config.seed) if config.operator else None
    judge = make_judge(config.success, operator,
                       SuccessConfig(hold_ticks=config.success_hold,
                                     min_agreement=config.success_min_agreement),
                       config.grm_every)
    if config.privileged:
        log('privileged (an upper bound, not what a real arm can do): '
            + '; '.join(config.privileged))
    safety = sim_safety()
    # what rl_agent_node checks when a checkpoint starts it: the state's joint order, and the
    # frozen GRM encoder's fingerprint (another GRM's features are refused)
    joints = {'joint_names': list(JOINT_NAMES),
              'encoder_digest': features.digest if features is not None else ''}
    learner, extra = (Learner.resume(output, shapes, return_rule=rule,
                                     algorithm=config.algorithm) if resume else (None, None))
    started = time.perf_counter()
    extra = extra or {}
    changed = resume_differences(extra.get('train_config'), config)
    contract = reward_contract(config, progress, gamma)
    changed += contract_change(extra.get('reward_contract'), contract)
    if changed and not force:
        raise ValueError(f'{output}: the checkpoint was trained with other settings ('
                         + '; '.join(changed) + '): use another output folder, or force to '
                         "continue (the learner keeps the checkpoint's agent settings)")
    if changed:
        log('resuming with other settings than the checkpoint (forced; the learner keeps its '
            'agent settings): ' + '; '.join(changed))
    history = [tuple(h) for h in extra.get('eval', [])]
    offline = extra.get('offline', {})
    elapsed_before = extra.get('wall_time_s', 0.0)
    grm_net = None   # a new 'grm-tuned' policy starts from the GRM's encoder (read once)
    if learner is None and config.tuned_encoder_dir:
        grm_config, grm_net = tuned_encoder_start(config.tuned_encoder_dir)
        agent_config = config.agent_config(grm_config)
    # a resumed learner keeps its checkpoint's agent settings (and network shapes)
    actor = PolicyActor(learner.config if learner is not None else agent_config, shapes,
                        safety, seed=config.seed)
    training_log = TrainingLog(output)
    if learner is not None:
        training_log.truncate_after(learner.counters['episodes'])
        if refresh is not None:
            refresh.truncate_after(learner.counters['episodes'])
    if contract is not None:
        training_log.set_contract(contract)
        joints['reward_contract'] = contract.to_dict()

    def evaluate_now(episodes=config.eval_episodes):
        return evaluate(sim, actor, config, shapes, episodes, features)

    try:
        if learner is None:
            learner = Learner(agent_config, shapes, seed=config.seed, return_rule=rule,
                              device=config.device)
            if grm_net is not None:
                learner.agent.load_grm_encoder(grm_net)
            log(f'recording {config.policy_demos} expert demonstrations for the policy')
            record_demos(sim, actor, config, shapes, progress, learner, gamma, log, features)
            offline = offline_stage(learner, config, actor, evaluate_now, training_log, log)
            history.append((0, offline['offline_success'], config.eval_episodes))
            log(f'episode 0: evaluation success {history[-1][1]:.0%}')
            # a stop in the first online episodes resumes after the offline stage; the
            # checkpoint also starts rl_agent_node (robot observation) from the same learner
            learner.save(output, extra={'eval': history, 'offline': offline,
                                        'wall_time_s': time.perf_counter() - started,
                                        'train_config': asdict(config), **joints})
        actor.load(learner.actor_state())
        while learner.counters['episodes'] < config.episodes:
            index = learner.counters['episodes'] + 1
            t0 = time.perf_counter()
            episode, info = run_episode(sim, layout_seed(config.seed, index), actor, config,
                                        shapes, progress, learner, operator, episode_id=index,
                                        gamma=gamma, judge=judge, features=features)
            learner.add_episode(episode)
            seconds = time.perf_counter() - t0
            row = {'episode': index, 'steps_per_s': info['length'] / seconds,
                   'env_steps': learner.counters['env_steps'], **info,
                   **learner.diagnostics()}
            training_log.episode(row)
            swapped = refresh is not None and refresh.after_episode(index, progress, episode,
                                                                    info, grm_dir)
            if swapped:   # the next episodes are scored, and named, by the new GRM
                progress = grm_progress()
                contract = reward_contract(config, progress, gamma)
                training_log.set_contract(contract)
                joints['reward_contract'] = contract.to_dict()
            last = index == config.episodes
            episodes = config.eval_layouts(index, last)
            if episodes:
                rate = evaluate_now(episodes)
                history.append((index, rate, episodes))
                training_log.scalar('eval/success_rate', rate, index)
                log(f'episode {index}: evaluation success {rate:.0%} on {episodes} layouts '
                    f'(training success {info["success"]}, intervention rate '
                    f'{info["intervention_rate"]:.2f}, Q on demos '
                    f'{row.get("demo/q", float("nan")):.2f})')
            if index % config.checkpoint_every == 0 or last or swapped:
                wall = elapsed_before + time.perf_counter() - started
                learner.save(output, extra={'eval': history, 'wall_time_s': wall,
                                            'offline': offline,
                                            'train_config': asdict(config), **joints})
        (output / 'eval.csv').write_text('episode,success_rate,layouts\n' + ''.join(
            f'{e},{r},{n}\n' for e, r, n in history))
    finally:
        training_log.close()
        sim.close()
    rows = training_rows(output / 'episodes.csv')
    summary = {'config': asdict(config), 'privileged': config.privileged, 'eval': history,
               'resumed_with_changes': changed, 'agent_config': learner.config.as_dict(),
               'offline': offline, 'wall_time_s': elapsed_before + time.perf_counter() - started,
               'detector': detector_scores(rows) if config.success in ('detector', 'either')
               else None,
               'operator_effort': operator_effort(rows) if config.operator else None,
               'replay_bytes_per_transition': learner.online.bytes_per_transition(),
               'peak_rss_mb': peak_rss_mb(),
               'env_steps': learner.counters['env_steps'], 'updates': learner.counters['updates'],
               'skipped_updates': learner.agent.skipped,
               'training_success': training_success(output / 'episodes.csv'),
               'final_diagnostics': learner.diagnostics()}
    (output / 'summary.json').write_text(json.dumps(summary, indent=2, default=str) + '\n')
    return summary


def reward_contract(config, progress, gamma):
    """
    Return the reward contract of a simulated training run (reward/contract.py), or None.

    The GRM's half from `progress` (a GRMProgress); the oracle's Phi is the simulator's state,
    named as such; a run with no progress source (the simulator's dense reward) has none.
    """
    from robodopamine_ros.reward.contract import compose
    from robodopamine_ros.reward.shaping import ShapingConfig

    terms = getattr(progress, 'terms', None)
    if terms is None and isinstance(progress, OracleProgress):
        terms = {'grm': 'builtin:simulator-state', 'backend': 'oracle'}
    if terms is None:
        return None
    return compose(terms, ShapingConfig(gamma=gamma), config.success, config.grm_every,
                   reward=config.reward)
