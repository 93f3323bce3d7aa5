# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine train``: Dopamine-RL on the simulated peg insertion (docs/method.md).

Without --grm-dir (and with a GRM reward), one expert demonstration is recorded and a compact
GRM adapted on it first. Then: policy demonstrations, the offline stage, online episodes with
evaluations; the output folder gets episodes.csv, eval.csv, tensorboard/, checkpoint.pt,
success.png, report.md and summary.json. Running again on the same folder resumes.
"""

from pathlib import Path


def add_arguments(parser):
    from robodopamine_ros.rl.agents import AgentConfig
    from robodopamine_ros.rl.rewards import SOURCES
    from robodopamine_ros.rl.sim_training import OBSERVATIONS, TrainConfig

    d, a = TrainConfig, AgentConfig  # every default comes from the config dataclasses
    parser.add_argument('-o', '--output', default='robodopamine_train',
                        help='output folder (resumed when it holds a checkpoint)')
    parser.add_argument('--algorithm', choices=('calql', 'conrft'), default=d.algorithm)
    parser.add_argument('--reward', choices=SOURCES, default=d.reward,
                        help='grm = Dopamine-RL shaping (default); progress = the naive '
                        "ablation; dense = the simulator's own reward; oracle = the shaping "
                        "of a progress computed from the simulator's state")
    parser.add_argument('--grm-dir', default='', help='compact GRM folder (default: adapt one '
                        'on one expert demo into OUTPUT/compact_grm)')
    parser.add_argument('--episodes', type=int, default=d.episodes)
    parser.add_argument('--policy-demos', type=int, default=d.policy_demos)
    parser.add_argument('--keep-failed-demos', action='store_true',
                        help='keep expert attempts that failed in the demo buffer (default: '
                        'only successful ones)')
    parser.add_argument('--pretrain-updates', type=int, default=d.pretrain_updates,
                        help='imitation updates (the actor fits the demos) before offline RL')
    parser.add_argument('--offline-updates', type=int, default=d.offline_updates)
    parser.add_argument('--updates-per-step', type=int, default=d.updates_per_step)
    parser.add_argument('--max-steps', type=int, default=d.max_steps)
    parser.add_argument('--observation', choices=OBSERVATIONS,
                        default=d.observation)
    parser.add_argument('--grm-every', type=int, default=d.grm_every,
                        help='GRM tick every N control steps (progress holds between)')
    parser.add_argument('--operator', action='store_true',
                        help='the scripted operator takes over when progress stalls')
    parser.add_argument('--eval-every', type=int, default=d.eval_every)
    parser.add_argument('--eval-episodes', type=int, default=d.eval_episodes)
    parser.add_argument('--final-eval-every', type=int, default=d.final_eval_every)
    parser.add_argument('--final-eval-episodes', type=int, default=d.final_eval_episodes)
    parser.add_argument('--batch', type=int, default=a.batch_size)
    parser.add_argument('--cql-batch', type=int, default=a.cql_batch,
                        help='states the Cal-QL term is computed on')
    parser.add_argument('--gamma', type=float, default=a.gamma)
    parser.add_argument('--seed', type=int, default=d.seed)
    parser.add_argument('--device', default=d.device, help='torch device of the learner '
                        '(cpu, cuda, cuda:1)')
    parser.add_argument('--agent', nargs='*', default=[], metavar='FIELD=VALUE',
                        help='any other learner setting (rl.agents.AgentConfig), e.g. '
                        'cql_alpha=0.5 bc_weight=1.0 (values are YAML)')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--no-resume', action='store_true')


def settings(args, grm_dir):
    from robodopamine_ros.rl.sim_training import TrainConfig

    return TrainConfig(
        algorithm=args.algorithm, reward=args.reward, episodes=args.episodes,
        policy_demos=args.policy_demos, successful_demos_only=not args.keep_failed_demos,
        pretrain_updates=args.pretrain_updates,
        offline_updates=args.offline_updates, updates_per_step=args.updates_per_step,
        max_steps=args.max_steps, observation=args.observation, grm_dir=str(grm_dir or ''),
        grm_every=args.grm_every, operator=args.operator, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, final_eval_every=args.final_eval_every,
        final_eval_episodes=args.final_eval_episodes, seed=args.seed, device=args.device,
        agent=dict({'batch_size': args.batch, 'cql_batch': args.cql_batch, 'gamma': args.gamma},
                   **agent_overrides(args.agent)))


def agent_overrides(items):
    """Parse FIELD=VALUE pairs into AgentConfig overrides; unknown fields are named."""
    from dataclasses import fields

    import yaml

    from robodopamine_ros.rl.agents import AgentConfig

    known = {f.name for f in fields(AgentConfig)}
    out = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep or key not in known:
            raise ValueError(f'--agent {item!r}: expected FIELD=VALUE with FIELD one of '
                             f'{sorted(known)}')
        out[key] = yaml.safe_load(value)
    return out


def run(args):
    import torch

    from robodopamine_ros.rl.report import write_report
    from robodopamine_ros.rl.sim_training import adapt_sim_grm, train

    torch.set_num_threads(args.threads)
    output = Path(args.output)
    grm_dir = args.grm_dir
    if not grm_dir and (args.reward in ('grm', 'progress') or args.operator):
        grm_dir = adapt_sim_grm(output, seed=args.seed, log=lambda t: print('  ' + t))
    summary = train(settings(args, grm_dir), output, resume=not args.no_resume)
    report = write_report(output, {f'{args.algorithm}, {args.reward} reward':
                                   [summary]}, title='robodopamine train')
    print(f'done: {report}')
    return 0
