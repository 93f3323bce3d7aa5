# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine train``: Dopamine-RL on the simulated peg insertion (SPEC 3, 5, 6, 7).

Without --grm-dir (and with a GRM reward), one expert demonstration is recorded and a compact
GRM adapted on it first. Then: policy demonstrations, the offline stage, online episodes with
evaluations; the output folder gets episodes.csv, eval.csv, tensorboard/, checkpoint.pt,
success.png, report.md and summary.json. Running again on the same folder resumes.
"""

from pathlib import Path


def add_arguments(parser):
    parser.add_argument('-o', '--output', default='robodopamine_train',
                        help='output folder (resumed when it holds a checkpoint)')
    parser.add_argument('--algorithm', choices=('calql', 'conrft'), default='conrft')
    parser.add_argument('--reward', choices=('grm', 'sparse', 'progress', 'dense'),
                        default='grm', help='grm = Dopamine-RL shaping (default); progress = '
                        "the naive ablation; dense = the simulator's own reward")
    parser.add_argument('--grm-dir', default='', help='compact GRM folder (default: adapt one '
                        'on one expert demo into OUTPUT/compact_grm)')
    parser.add_argument('--episodes', type=int, default=150)
    parser.add_argument('--policy-demos', type=int, default=10)
    parser.add_argument('--offline-updates', type=int, default=1000)
    parser.add_argument('--max-steps', type=int, default=150)
    parser.add_argument('--observation', choices=('state', 'images', 'both'), default='state')
    parser.add_argument('--grm-every', type=int, default=4,
                        help='GRM tick every N control steps (progress holds between)')
    parser.add_argument('--operator', action='store_true',
                        help='the scripted operator takes over when progress stalls')
    parser.add_argument('--eval-every', type=int, default=10)
    parser.add_argument('--eval-episodes', type=int, default=20)
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--cql-batch', type=int, default=16,
                        help='states the Cal-QL term is computed on (CPU budget)')
    parser.add_argument('--gamma', type=float, default=0.99)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--no-resume', action='store_true')


def settings(args, grm_dir):
    from robodopamine_ros.rl.sim_training import TrainConfig

    return TrainConfig(
        algorithm=args.algorithm, reward=args.reward, episodes=args.episodes,
        policy_demos=args.policy_demos, offline_updates=args.offline_updates,
        max_steps=args.max_steps, observation=args.observation, grm_dir=str(grm_dir or ''),
        grm_every=args.grm_every, operator=args.operator, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, seed=args.seed,
        agent={'batch_size': args.batch, 'cql_batch': args.cql_batch, 'gamma': args.gamma})


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
