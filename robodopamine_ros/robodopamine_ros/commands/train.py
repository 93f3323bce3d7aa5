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
    from robodopamine_ros.rl.observations import IMAGE_ENCODERS, OBSERVATIONS
    from robodopamine_ros.rl.outcomes import SUCCESS_SOURCES
    from robodopamine_ros.rl.sim_training import TrainConfig

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
    parser.add_argument('--observation', choices=OBSERVATIONS, default=d.observation,
                        help="cameras = the three views + proprioception (the product's); "
                        'robot and state hold object positions (privileged upper bounds)')
    parser.add_argument('--success', choices=SUCCESS_SOURCES, default=d.success,
                        help="where an episode's success comes from: detector (the GRM's), "
                        'operator (its labels), either (the detector, the operator overrides), '
                        'simulator (privileged upper bound)')
    parser.add_argument('--image-encoder', choices=IMAGE_ENCODERS, default=d.image_encoder,
                        help='cnn: trained by the critic with random shift; grm: a GRM image '
                        'encoder, frozen (--encoder-dir, default the --grm-dir model); '
                        'grm-tuned: that GRM encoder, trained on by the critic')
    parser.add_argument('--encoder-dir', default=d.encoder_dir)
    parser.add_argument('--image-size', type=int, nargs=2, default=list(d.image_size),
                        metavar=('WIDTH', 'HEIGHT'), help="each view's size for the policy")
    parser.add_argument('--success-hold-s', type=float, default=d.success_hold_s,
                        help="seconds the success detector's threshold must hold, in GRM "
                        'ticks at the control rate over --grm-every (reward/success.py)')
    parser.add_argument('--success-min-agreement', type=float,
                        default=d.success_min_agreement,
                        help="the success detector's familiarity gate: a tick counts toward "
                        'the hold only when its forward / backward agreement is at least this '
                        '(0: off; reward/success.py)')
    parser.add_argument('--grm-refresh-every', type=int, default=d.grm_refresh_every,
                        help='refresh the GRM on the labelled online episodes every N '
                        'episodes (0: never; grm/refresh.py); needs --operator')
    parser.add_argument('--grm-demo', default=d.grm_demo,
                        help="the demonstration a refresh trains on (default: the GRM's own, "
                        'from its config.json)')
    parser.add_argument('--label-delay', type=int, default=d.label_delay,
                        help="the scripted operator's steps from seeing an outcome to its label")
    parser.add_argument('--label-accuracy', type=float, default=d.label_accuracy)
    parser.add_argument('--demo-layout', default='grm',
                        help="first layout of the policy demonstrations: 'grm' (the GRM's own "
                        "demonstration first, when known: the user's path), 'own', or a seed")
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
    parser.add_argument('--force', action='store_true',
                        help="resume even when the settings differ from the checkpoint's run "
                        "(the learner keeps the checkpoint's agent settings; both recorded)")


def settings(args, grm_dir):
    from robodopamine_ros.rl.sim_training import TrainConfig

    return TrainConfig(
        algorithm=args.algorithm, reward=args.reward, episodes=args.episodes,
        policy_demos=args.policy_demos, successful_demos_only=not args.keep_failed_demos,
        pretrain_updates=args.pretrain_updates,
        offline_updates=args.offline_updates, updates_per_step=args.updates_per_step,
        max_steps=args.max_steps, observation=args.observation, grm_dir=str(grm_dir or ''),
        success=args.success, image_encoder=args.image_encoder, encoder_dir=args.encoder_dir,
        image_size=tuple(args.image_size), label_delay=args.label_delay,
        success_hold_s=args.success_hold_s, success_min_agreement=args.success_min_agreement,
        grm_refresh_every=args.grm_refresh_every, grm_demo=args.grm_demo,
        label_accuracy=args.label_accuracy, demo_layout=demo_layout(args.demo_layout, grm_dir),
        grm_every=args.grm_every, operator=args.operator, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, final_eval_every=args.final_eval_every,
        final_eval_episodes=args.final_eval_episodes, seed=args.seed, device=args.device,
        agent=dict({'batch_size': args.batch, 'cql_batch': args.cql_batch, 'gamma': args.gamma},
                   **agent_overrides(args.agent)))


def demo_layout(choice, grm_dir):
    """--demo-layout as TrainConfig.demo_layout: 'grm', 'own' or a layout seed."""
    from robodopamine_ros.rl.sim_grm import grm_demo_layout

    if choice == 'own':
        return -1
    if choice == 'grm':
        return grm_demo_layout(grm_dir) if grm_dir else -1
    try:
        return int(choice)
    except ValueError:
        raise ValueError(f"--demo-layout must be 'grm', 'own' or a layout seed, got "
                         f'{choice!r}') from None


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
    from robodopamine_ros.rl.sim_grm import adapt_sim_grm
    from robodopamine_ros.rl.sim_training import train

    torch.set_num_threads(args.threads)
    output = Path(args.output)
    grm_dir = args.grm_dir
    if not grm_dir and (args.reward in ('grm', 'progress') or args.operator
                        or args.success in ('detector', 'either')):
        grm_dir = adapt_sim_grm(output, seed=args.seed, log=lambda t: print('  ' + t))
    summary = train(settings(args, grm_dir), output, resume=not args.no_resume,
                    force=args.force)
    report = write_report(output, {f'{args.algorithm}, {args.reward} reward':
                                   [summary]}, title='robodopamine train')
    print(f'done: {report}')
    return 0
