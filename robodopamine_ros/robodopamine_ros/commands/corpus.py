# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine corpus``: record the multi-task corpus the GRM is pre-trained on (sim/corpus.py).

Meta-World's tasks (all but the insertion and its reverse) on our camera rig: expert, halfway
and random episodes per layout, with progress labels. Resumable: finished tasks are kept, a
run continues at the next one. A progress bar counts tasks.
"""

from robodopamine_ros.data.topics import IMAGE_SIZE


def add_arguments(parser):
    parser.add_argument('-o', '--output', required=True, help='corpus folder (resumed)')
    parser.add_argument('--tasks', nargs='*', default=None,
                        help='Meta-World task names (default: every task but the excluded)')
    parser.add_argument('--layouts', type=int, default=3, help='layouts per task')
    parser.add_argument('--max-steps', type=int, default=200)
    parser.add_argument('--every', type=int, default=2,
                        help='record every n-th control step (and the last)')
    parser.add_argument('--size', type=int, nargs=2, default=IMAGE_SIZE, metavar=('W', 'H'))
    parser.add_argument('--seed', type=int, default=0)


def run(args):
    from robodopamine_ros.sim.corpus import corpus_tasks, record_corpus
    from tqdm import tqdm

    tasks = args.tasks or corpus_tasks()
    with tqdm(total=len(tasks), unit='task', desc='corpus') as bar:
        manifest = record_corpus(args.output, tasks, args.layouts, args.max_steps, args.every,
                                 tuple(args.size), args.seed, log=bar.write,
                                 progress=lambda task: (bar.set_postfix_str(task),
                                                        bar.update(1)))
    print(f'{args.output}: {len(manifest["tasks"])} tasks, {manifest["episodes"]} episodes; '
          f'skipped {len(manifest["skipped"])}: ' + (', '.join(manifest['skipped']) or 'none'))
    return 0
