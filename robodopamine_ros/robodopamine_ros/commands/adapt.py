# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""``robodopamine adapt DEMO -o MODEL_DIR``: one-shot adaptation of a GRM on a demonstration."""

from robodopamine_ros.commands.reading import add_reading_arguments, read_options
from robodopamine_ros.data.topics import IMAGE_SIZE
from robodopamine_ros.grm.one_shot import adapt


def add_arguments(parser):
    parser.add_argument('demo', help='rosbag2 folder or reference-layout episode folder, '
                                     'with keyframes')
    parser.add_argument('-o', '--output', required=True, help='model folder to write')
    parser.add_argument('--backend', choices=('compact', 'vlm'), default='compact',
                        help='compact: the small CNN GRM, trained on a CPU in minutes; vlm: '
                             'fine-tune a pretrained Qwen-VL GRM (--base), a GPU job')
    parser.add_argument('--base', default=None,
                        help='vlm: local folder of the pretrained GRM to start from')
    parser.add_argument('--lora-rank', type=int, default=16,
                        help='vlm: LoRA rank on the language model attention; 0 = full '
                             'fine-tuning (16)')
    parser.add_argument('--lr', type=float, default=None,
                        help='learning rate (compact 1e-3, vlm 1e-4)')
    parser.add_argument('--batch', type=int, default=4, help='vlm: queries per step (4)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1, ...')
    parser.add_argument('--dtype', default='auto', help='vlm: auto, bfloat16, float32')
    parser.add_argument('--template', default=None, help='vlm: prompt template file')
    parser.add_argument('--distill-from', default=None, metavar='TEACHER_DIR',
                        help='compact: train on the hops of this teacher GRM (a VLM or '
                             'compact model folder) instead of the keyframe labels')
    parser.add_argument('--init', default='auto', metavar='auto|pretrained|scratch|DIR',
                        help='compact: start from the pre-trained GRM shipped with the '
                             'package, from random weights, or from a model folder; auto '
                             "(default): the pre-trained GRM when it knows the demo's images "
                             '(its hop error on them well under that of predicting no '
                             'progress), else random weights')
    parser.add_argument('--steps', type=int, default=300, help='training steps (300)')
    parser.add_argument('--pool', type=int, default=24, help='states per step (24)')
    parser.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'), default=IMAGE_SIZE,
                        help='network input size (64 48)')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch chooses)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--quick', action='store_true', help='smoke run: 60 steps')
    parser.add_argument('--force', action='store_true',
                        help='adapt on a recording whose demonstration failed (the simulator '
                             'recorded no success)')
    add_reading_arguments(parser)


def check_demonstration(demo, options, force=False):
    """
    Refuse a recording whose demonstration failed (ValueError naming it), unless force.

    A failed demonstration teaches the GRM that an unfinished task is its end; the verdict is
    the one the recording holds (data.bags.recorded_success: the simulator's success topic).
    """
    from robodopamine_ros.data import bags, demos

    if demos.demo_kind(demo) != 'bag' or bags.recorded_success(demo, options) is not False:
        return
    if force:
        print(f'warning: {demo}: the demonstration failed ({options.topics.success} never '
              'true); adapting on it anyway (--force)')
        return
    raise ValueError(f'{demo}: the demonstration failed ({options.topics.success} never true: '
                     'the task was not completed); record another one (in simulation: '
                     'launch with another seed:=), or pass --force to adapt on it anyway')


def run(args):
    import torch

    check_demonstration(args.demo, read_options(args), args.force)
    if args.threads:
        torch.set_num_threads(args.threads)
    steps = 60 if args.quick else args.steps
    if args.backend == 'vlm':
        return _adapt_vlm(args, steps)
    if args.distill_from:
        return _distill(args, steps)
    adapt(args.demo, args.output, steps=steps, pool=args.pool, size=tuple(args.size),
          seed=args.seed, options=read_options(args), init=args.init, lr=args.lr)
    return 0


def _adapt_vlm(args, steps):
    from tqdm import tqdm

    from robodopamine_ros.data import demos
    from robodopamine_ros.data.images import FitPixels
    from robodopamine_ros.grm.adapt_vlm import fine_tune_vlm, save_vlm, VLMTrainConfig
    from robodopamine_ros.grm.vlm import MAX_PIXELS, VLMGRM

    if not args.base:
        raise ValueError('--backend vlm needs --base: the local folder of a pretrained '
                         'Qwen-VL GRM to fine-tune')
    grm = VLMGRM.load(args.base, device=args.device, dtype=args.dtype, template=args.template)
    # the images as the VLM's processor takes them (at most MAX_PIXELS), never more: memory is
    # frames x that, not the recorded resolution
    episode = demos.load_demo(args.demo, image_size=FitPixels(MAX_PIXELS),
                              options=read_options(args))
    if not episode.keyframes:
        raise ValueError(f'{args.demo}: no keyframes; run `robodopamine keyframes propose`')
    config = VLMTrainConfig(steps=steps, batch=args.batch, lr=args.lr or VLMTrainConfig.lr,
                            lora_rank=args.lora_rank, seed=args.seed)
    bar = tqdm(total=steps, unit='step', desc='fine-tune VLM GRM', mininterval=1.0)
    losses = fine_tune_vlm(grm, episode, config,
                           on_step=lambda step, loss: (bar.update(1),
                                                       bar.set_postfix(loss=f'{loss:.3f}')))
    bar.close()
    save_vlm(grm, args.output)
    print(f'wrote {args.output}: loss {losses[0]:.3f} -> {losses[-1]:.3f} over {steps} steps')
    return 0


def _distill(args, steps):
    from tqdm import tqdm

    from robodopamine_ros.data import demos
    from robodopamine_ros.data.images import FitPixels
    from robodopamine_ros.grm.adapt_compact import CompactTrainConfig, reference_frames
    from robodopamine_ros.grm.distill import distill_compact
    from robodopamine_ros.grm.loading import load_grm
    from robodopamine_ros.grm.vlm import MAX_PIXELS

    teacher, _ = load_grm(args.distill_from, device=args.device)
    options = read_options(args)
    episode = demos.load_demo(args.demo, image_size=tuple(args.size), options=options)
    config = CompactTrainConfig(steps=steps, image_size=tuple(args.size), seed=args.seed,
                                lr=args.lr or CompactTrainConfig.lr)
    # a VLM teacher sees what its processor takes (at most MAX_PIXELS, never more: memory is
    # frames x that); the student its own input size
    full = demos.load_demo(args.demo, image_size=FitPixels(MAX_PIXELS), options=options) \
        if teacher.name == 'vlm' else None
    bar = tqdm(total=steps, unit='step', desc='distill compact GRM', mininterval=1.0)
    student, losses, answered = distill_compact(teacher, episode, config, teacher_episode=full,
                                                on_step=lambda step, loss: bar.update(1))
    bar.close()
    start, end = reference_frames(episode)
    student.save(args.output, (episode.views['front'][start], episode.views['front'][end]),
                 extra={'distilled_from': str(args.distill_from), 'teacher_answers': answered},
                 keep_others=False)   # a previous model's reports never describe this one
    print(f'wrote {args.output}: distilled from {args.distill_from} on {answered} answered '
          f'pairs; loss {losses[0]:.4f} -> {losses[-1]:.4f}')
    return 0
