# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The peer's learner on the product's simulated insertion: Stable-Baselines3's SAC (issue 28).

What a user would pick up instead of Dopamine-RL's learner: SB3's SAC with the expert
demonstrations put into its replay buffer before learning (RLPD-style), on the same loop as
``robodopamine train``: rl/sim_gym.InsertionEnv steps the same simulator, layouts, safety
layer, GRM reward (success reward + policy-invariant shaping), detector and scripted operator
(labels and takeovers) as rl/sim_episodes.run_episode; the demonstrations are the ones
``train`` records (rl/sim_episodes.record_demos, the same layouts, --demo-layout grm); the
evaluations are ``train``'s (rl/sim_episodes.evaluate: deterministic policy, the fixed layouts,
the simulator's flag, 20 layouts every --eval-every episodes, 50 at --final-eval-every and at
the end). The arguments are ``robodopamine train``'s (commands/train.py); those of Dopamine-RL's
own learner are ignored (--algorithm, --pretrain-updates, --offline-updates, --sync-every and
--agent except gamma and batch): SB3's SAC with its defaults (MlpPolicy, two 256-unit layers,
no LayerNorm, learning rate 3e-4, tau 0.005, automatic entropy), batch --batch (256), gamma
--gamma (the shaping's), one gradient step per env step (--updates-per-step) from the first
step (learning_starts 0: the demos are there), no offline stage.

Differences from Dopamine-RL's loop, all on the learner's side:
- one replay buffer, sampled uniformly: SB3 has no RLPD symmetric 50/50 demo/online sampling,
  so the demos' share of a batch falls as online data comes in; the buffer holds every
  transition of the run (demos are never evicted);
- the operator's takeovers are stored with the operator's action (PeerSAC._store_transition,
  as Dopamine-RL's online buffer stores them); they are not copied to a demo buffer (there is
  none);
- no imitation or offline stage: the episode-0 evaluation is the untrained policy's.

Output folder (bench_rl's layout): episodes.csv (rl/logs.TrainingLog; with SB3's losses, and
update_s / env_s: the episode's seconds in SAC's updates and in the rest), eval.csv,
tensorboard/, summary.json (the fields bench_rl's report reads; final_diagnostics' online/q is
SAC's soft Q, whose backup adds the entropy bonus: above the reward's Monte-Carlo return while
the temperature is large), and the checkpoint: peer_checkpoint-<episode>/ (SB3's model zip, its
replay buffer, the run's state) named by peer_checkpoint.json, written after the evaluations
(TrainConfig.checkpoint_every, 10, and the last episode) into a new folder, then the pointer
replaced atomically. A stopped run resumes from its last checkpoint (not bit-identical to an
uninterrupted one: SB3's random state is not saved); a longer --episodes grows the buffer.

Needs requirements/bench.txt (stable-baselines3), a benchmark extra, not a product dependency.
Run (one seed): .work/venv-core/bin/python bench/peer_sac.py -o OUT --reward grm
--observation cameras --image-encoder grm --success either --operator --policy-demos 1
--demo-layout grm --grm-dir GRM --grm-every 2 --seed 0; bench/bench_rl.py runs it as the
'... SB3 SAC (peer), demos in replay' variants.
"""

import argparse
from dataclasses import asdict
import json
from pathlib import Path
import shutil
import sys
import time

import numpy as np
from robodopamine_ros.data.atomic import atomic_path
from robodopamine_ros.rl.logs import TrainingLog
from robodopamine_ros.rl.outcomes import detector_scores
from robodopamine_ros.rl.replay import ReturnRule
from robodopamine_ros.rl.sim_episodes import evaluate, make_sim
from robodopamine_ros.rl.sim_gym import flat_observation, FunctionActor, InsertionEnv
from robodopamine_ros.rl.logs import operator_effort, peak_rss_mb, training_rows, \
    training_success
from robodopamine_ros.rl.sim_training import resume_differences
import stable_baselines3
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import DummyVecEnv
import torch

LEARNER = 'sb3-sac'
CHECKPOINT = 'peer_checkpoint'       # the folder the pointer names ...
POINTER = 'peer_checkpoint.json'     # ... {'folder': 'peer_checkpoint-<episode>'}
MODEL_FILE, REPLAY_FILE, STATE_FILE = 'sac_model.zip', 'sac_replay.pkl', 'state.json'
LOSSES = ('critic_loss', 'actor_loss', 'ent_coef')


class PeerSAC(SAC):
    """
    SB3's SAC, storing the executed action and calling a hook after each episode's last update.

    The action stored is info['action'] (InsertionEnv: after the safety layer, the operator's on
    a takeover), not the policy's sample. ``episode_end(info)`` runs after the gradient step of
    an episode's last transition (info: InsertionEnv's final info); ``stop`` set by it ends
    ``learn`` at the next step (StopWhenAsked).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_peer()

    def _init_peer(self):
        self.episode_end, self.stop, self._ended = None, False, None
        self.update_s, self.losses = 0.0, {k: [] for k in LOSSES}

    def _excluded_save_params(self):
        # the hook is a closure over the run (its environment, logs): never pickled
        return [*super()._excluded_save_params(), 'episode_end', 'stop', '_ended',
                'update_s', 'losses']

    def _store_transition(self, replay_buffer, buffer_action, new_obs, reward, dones, infos):
        executed = np.stack([info['action'] for info in infos]).astype(np.float32)
        super()._store_transition(replay_buffer, executed, new_obs, reward, dones, infos)
        if dones[0]:
            self._ended = infos[0]

    def train(self, gradient_steps, batch_size=64):
        t0 = time.perf_counter()
        super().train(gradient_steps, batch_size)
        self.update_s += time.perf_counter() - t0
        for key in LOSSES:
            value = self.logger.name_to_value.get(f'train/{key}')
            if value is not None:
                self.losses[key].append(float(value))
        if self._ended is not None:
            info, self._ended = self._ended, None
            if self.episode_end is not None:
                self.episode_end(info)


class StopWhenAsked(BaseCallback):
    """Ends model.learn when the model's ``stop`` is set (SB3's way to stop learning)."""

    def _on_step(self):
        return not self.model.stop


def demo_transitions(episodes):
    """
    Return the demonstrations as SB3 replay rows: (obs, next_obs, action, reward, done, info).

    done = terminal or truncated (the last transition); info['TimeLimit.truncated'] = truncated
    and not terminal, so SB3 bootstraps from a time-limit end and not from a success: the
    project's terminal / truncated flags.
    """
    rows = []
    for episode in episodes:
        for t in episode.transitions:
            done = t['terminal'] or t['truncated']
            rows.append((flat_observation(t['obs']), flat_observation(t['next_obs']),
                         np.asarray(t['action'], np.float32), float(t['reward']), done,
                         {'TimeLimit.truncated': bool(t['truncated'] and not t['terminal'])}))
    return rows


def fill_replay(buffer, episodes):
    """Add the demonstration episodes (rl.replay.Episode) to an SB3 replay buffer; return n."""
    rows = demo_transitions(episodes)
    for obs, next_obs, action, reward, done, info in rows:
        buffer.add(obs[None], next_obs[None], action[None], np.array([reward]),
                   np.array([done]), [info])
    return len(rows)


def make_sac(env, config, demos):
    """Return a PeerSAC on InsertionEnv `env` with room for the demos and every online step."""
    agent = config.agent_config()
    buffer_size = demos + config.episodes * config.max_steps + 1
    return PeerSAC('MlpPolicy', DummyVecEnv([lambda: env]), buffer_size=buffer_size,
                   learning_starts=0, batch_size=agent.batch_size, gamma=agent.gamma,
                   train_freq=1, gradient_steps=config.updates_per_step, seed=config.seed,
                   device=config.device, verbose=0)


def grow_replay(model, size):
    """
    Give the model's replay buffer room for `size` transitions (a resumed run made longer).

    The rows stored so far are kept in place (the demonstrations first). Raises ValueError when
    the buffer has wrapped around already (the demonstrations were overwritten).
    """
    old = model.replay_buffer
    if old.buffer_size >= size:
        return
    if old.full:
        raise ValueError(f'the replay buffer ({old.buffer_size} transitions) has wrapped '
                         'around: the demonstrations were overwritten')
    new = type(old)(size, old.observation_space, old.action_space, device=old.device,
                    n_envs=old.n_envs, handle_timeout_termination=True)
    for name in ('observations', 'next_observations', 'actions', 'rewards', 'dones',
                 'timeouts'):
        getattr(new, name)[:old.pos] = getattr(old, name)[:old.pos]
    new.pos = old.pos
    model.replay_buffer, model.buffer_size = new, size


def peer_settings(model, demos):
    """Return the peer learner's settings, for summary.json."""
    return {'library': f'stable-baselines3 {stable_baselines3.__version__}',
            'algorithm': 'SAC', 'policy': 'MlpPolicy (SB3 default net_arch: 256, 256)',
            'learning_rate': model.learning_rate, 'buffer_size': model.buffer_size,
            'learning_starts': model.learning_starts, 'batch_size': model.batch_size,
            'tau': model.tau, 'gamma': model.gamma, 'train_freq': 1,
            'gradient_steps': model.gradient_steps, 'ent_coef': 'auto',
            'demo_transitions_in_replay': demos,
            'sampling': 'uniform over one buffer (no RLPD symmetric demo/online sampling)'}


def q_vs_mc(model, episodes, rule):
    """Mean min-over-critics Q(s, a) and Monte-Carlo return over episodes' transitions."""
    transitions = [t for e in episodes for t in e.close(rule)]
    if not transitions:
        return {}
    obs = torch.as_tensor(np.stack([flat_observation(t['obs']) for t in transitions]),
                          device=model.device)
    action = torch.as_tensor(np.stack([t['action'] for t in transitions]), device=model.device)
    with torch.no_grad():
        q = torch.min(torch.cat(model.policy.critic(obs, action), dim=1), dim=1).values
    return {'q': float(q.mean()), 'mc': float(np.mean([t['mc_return'] for t in transitions]))}


def read_checkpoint(output):
    """Return the last checkpoint's folder (None when there is none)."""
    pointer = Path(output) / POINTER
    if not pointer.is_file():
        return None
    folder = Path(output) / json.loads(pointer.read_text())['folder']
    return folder if (folder / STATE_FILE).is_file() else None


def save_checkpoint(output, model, state):
    """Write model, replay buffer and state into a new folder, then point to it (atomic)."""
    output = Path(output)
    folder = output / f'{CHECKPOINT}-{state["episodes"]}'
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    model.save(folder / MODEL_FILE)
    model.save_replay_buffer(folder / REPLAY_FILE)
    (folder / STATE_FILE).write_text(json.dumps(state, default=str) + '\n')
    old = read_checkpoint(output)
    with atomic_path(output / POINTER) as tmp:
        tmp.write_text(json.dumps({'folder': folder.name}) + '\n')
    if old is not None and old != folder:
        shutil.rmtree(old)


def train_peer(config, output, resume=True, log=print, force=False):
    """
    Train SB3's SAC on the product's loop; return the summary (also output/summary.json).

    config: a TrainConfig (rl/sim_training.py); the settings of Dopamine-RL's learner are
    ignored (module docstring). Raises ValueError when a checkpoint's settings differ (unless
    force).
    """
    torch.manual_seed(config.seed)
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    if config.privileged:
        log('privileged (an upper bound, not what a real arm can do): '
            + '; '.join(config.privileged))
    env = InsertionEnv(config)
    eval_sim = make_sim(config)
    rule = ReturnRule(gamma=env.gamma, sparse=config.reward == 'sparse')
    started = time.perf_counter()
    checkpoint = read_checkpoint(output) if resume else None
    state = json.loads((checkpoint / STATE_FILE).read_text()) if checkpoint else {}
    changed = resume_differences(state.get('train_config'), config)
    if changed and not force:
        raise ValueError(f'{output}: the checkpoint was trained with other settings ('
                         + '; '.join(changed) + '): use another output folder, or force')
    if checkpoint:
        model = PeerSAC.load(checkpoint / MODEL_FILE, env=DummyVecEnv([lambda: env]),
                             device=config.device)
        model._init_peer()
        model.load_replay_buffer(checkpoint / REPLAY_FILE)
        model._last_obs = None   # learn() resets the env: the next episode starts anew
        env.episodes = state['episodes']
        grow_replay(model, state['demo_transitions'] + config.episodes * config.max_steps + 1)
        log(f'resuming after episode {state["episodes"]}')
    else:
        log(f'recording {config.policy_demos} expert demonstrations for the policy')
        demos = env.record_demos(log)
        n_demo = sum(len(e.transitions) for e in demos)
        model = make_sac(env, config, n_demo)
        fill_replay(model.replay_buffer, demos)
        log(f"{n_demo} demonstration transitions in SAC's replay buffer")
        state = {'episodes': 0, 'env_steps': 0, 'eval': [], 'demo_transitions': n_demo,
                 'offline': {'bc_success': None}, 'wall_time_s': 0.0, 'update_s': 0.0,
                 'train_config': asdict(config), 'learner': LEARNER}
    model.update_s = state['update_s']
    elapsed_before = state['wall_time_s']
    history = [tuple(h) for h in state['eval']]
    training_log = TrainingLog(output)
    training_log.truncate_after(state['episodes'])
    recent = []   # the last finished episodes, for Q vs Monte-Carlo return at the end

    def evaluate_now(episodes):
        actor = FunctionActor(lambda x, det: model.predict(x, deterministic=det)[0])
        return evaluate(eval_sim, actor, config, env.shapes, episodes, env.features)

    def save():
        state.update(eval=history, wall_time_s=elapsed_before + time.perf_counter() - started,
                     update_s=model.update_s)
        save_checkpoint(output, model, state)

    clock = {'start': time.perf_counter(), 'update_s': model.update_s}

    def episode_end(info):
        summary = info['episode_info']
        index = info['episode_index']
        seconds = time.perf_counter() - clock['start']
        update_s = model.update_s - clock['update_s']
        state['episodes'], state['env_steps'] = index, state['env_steps'] + summary['length']
        row = {'episode': index, 'steps_per_s': summary['length'] / seconds,
               'env_steps': state['env_steps'], **summary, 'update_s': update_s,
               'env_s': seconds - update_s,
               **{f'sac/{k}': float(np.mean(v)) for k, v in model.losses.items() if v}}
        model.losses = {k: [] for k in LOSSES}
        training_log.episode(row)
        recent.append(info['episode_record'])
        del recent[:-5]
        last = index >= config.episodes
        episodes = config.eval_layouts(index, last)
        if episodes:
            rate = evaluate_now(episodes)
            history.append((index, rate, episodes))
            training_log.scalar('eval/success_rate', rate, index)
            log(f'episode {index}: evaluation success {rate:.0%} on {episodes} layouts '
                f'(training success {summary["success"]}, intervention rate '
                f'{summary["intervention_rate"]:.2f})')
        if index % config.checkpoint_every == 0 or last:
            save()
        model.stop = last
        clock['start'], clock['update_s'] = time.perf_counter(), model.update_s

    try:
        if not history:
            history.append((0, evaluate_now(config.eval_episodes), config.eval_episodes))
            state['offline']['offline_success'] = history[-1][1]
            log(f'episode 0 (untrained policy): evaluation success {history[-1][1]:.0%}')
            save()
        if state['episodes'] < config.episodes:
            model.episode_end, model.stop = episode_end, False
            clock['start'], clock['update_s'] = time.perf_counter(), model.update_s
            steps = (config.episodes - state['episodes']) * config.max_steps + 1
            model.learn(total_timesteps=steps, callback=StopWhenAsked(),
                        reset_num_timesteps=False)
        (output / 'eval.csv').write_text('episode,success_rate,layouts\n' + ''.join(
            f'{e},{r},{n}\n' for e, r, n in history))
    finally:
        training_log.close()
        env.close()
        eval_sim.close()
    rows = training_rows(output / 'episodes.csv')
    diagnostics = {f'online/{k}': v for k, v in q_vs_mc(model, recent, rule).items()}
    summary = {
        'config': dict(asdict(config), learner=LEARNER), 'learner': LEARNER,
        'peer': peer_settings(model, state['demo_transitions']),
        'privileged': config.privileged, 'eval': history, 'resumed_with_changes': changed,
        'offline': state['offline'],
        'wall_time_s': elapsed_before + time.perf_counter() - started,
        'update_time_s': model.update_s,
        'detector': detector_scores(rows) if config.success in ('detector', 'either')
        else None,
        'operator_effort': operator_effort(rows) if config.operator else None,
        'replay_bytes_per_transition': (model.replay_buffer.observations.nbytes
                                        + model.replay_buffer.next_observations.nbytes
                                        + model.replay_buffer.actions.nbytes)
        / model.replay_buffer.buffer_size,
        'peak_rss_mb': peak_rss_mb(), 'env_steps': state['env_steps'],
        'updates': int(model._n_updates), 'skipped_updates': 0,
        'training_success': training_success(output / 'episodes.csv'),
        'final_diagnostics': diagnostics}
    (output / 'summary.json').write_text(json.dumps(summary, indent=2, default=str) + '\n')
    return summary


def main(argv=None):
    from robodopamine_ros.commands.train import add_arguments, settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    add_arguments(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    grm_dir = args.grm_dir
    if not grm_dir and (args.reward in ('grm', 'progress') or args.operator
                        or args.success in ('detector', 'either')):
        from robodopamine_ros.rl.sim_grm import adapt_sim_grm

        grm_dir = adapt_sim_grm(args.output, seed=args.seed, log=lambda t: print('  ' + t))
    summary = train_peer(settings(args, grm_dir), args.output, resume=not args.no_resume,
                         force=args.force)
    print(f'done: evaluation {summary["eval"]}; {summary["wall_time_s"]:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
