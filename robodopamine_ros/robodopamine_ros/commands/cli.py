# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The ``robodopamine`` command: one subcommand per job, each in its own module.

A subcommand module (robodopamine_ros/commands/) exposes ``add_arguments(parser)`` and
``run(args) -> int``; register it in ``SUBCOMMANDS`` below. Modules keep heavy imports inside
``run``, so ``--help`` stays fast and a missing optional dependency affects only the subcommand
that needs it.
"""

import argparse
import importlib
import os
import sys

from robodopamine_ros import __version__

# name -> (module, one-line help)
SUBCOMMANDS = {
    'demo': ('robodopamine_ros.commands.demo',
             'the main job end to end: demo -> labels -> GRM progress -> shaped rewards -> '
             'report and bag'),
    'adapt': ('robodopamine_ros.commands.adapt',
              'adapt a GRM one-shot on a demonstration (compact: CPU minutes)'),
    'evaluate': ('robodopamine_ros.commands.evaluate',
                 'VOC, VOC-, per-perspective VOC, error vs keyframes, forward-back and stall '
                 'tests, completion accuracy of a GRM on episodes'),
    'labels': ('robodopamine_ros.commands.labels',
               'show the GRM training labels (sampled states, hop and gap bins) of a demo'),
    'demo-info': ('robodopamine_ros.commands.demo_info',
                  'topics, frame counts, synchronization, duration and keyframes of a demo'),
    'import-demo': ('robodopamine_ros.commands.import_demo',
                    'write a reference-layout demo (three videos + keyframes) as a rosbag2'),
    'train': ('robodopamine_ros.commands.train',
              'Dopamine-RL on the simulated robot: GRM from one demo, Cal-QL or ConRFT, '
              'success curve'),
    'corpus': ('robodopamine_ros.commands.corpus',
               'record the multi-task simulated corpus the GRM is pre-trained on'),
    'pretrain': ('robodopamine_ros.commands.pretrain',
                 'pre-train the compact GRM on a corpus (the model one-shot adaptation starts '
                 'from)'),
    'refresh': ('robodopamine_ros.commands.refresh',
                "refresh a compact GRM on the robot's own labelled episodes (swapped in only "
                'when its held-out check is at least as good)'),
    'keyframes': ('robodopamine_ros.commands.keyframes',
                  'propose sub-task keyframes for a demo, or render a contact sheet of them'),
    'export-lerobot': ('robodopamine_ros.commands.export_lerobot',
                       'demos as a LeRobotDataset v3.0: three videos, state, action, '
                       'progress, shaped reward'),
}


def build_parser():
    parser = argparse.ArgumentParser(
        prog='robodopamine',
        description='Robo-Dopamine: general reward model, policy-invariant shaping and '
                    'human-in-the-loop RL for robot manipulation.')
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        sub_parser.set_defaults(_module=module_name)
        importlib.import_module(module_name).add_arguments(sub_parser)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    try:
        return module.run(args)
    except (ValueError, FileNotFoundError, FileExistsError, KeyError) as error:
        # Bad input: one clear line naming what is wrong, no traceback.
        print(f'robodopamine {args.command}: error: {error}', file=sys.stderr)
        return 1
    except LOADER_ERRORS as error:
        # what a loader raises on input it did not expect (a wrong type in a JSON or YAML
        # file, a nesting too deep, torch refusing a tensor, a missing optional package): one
        # line as well; ROBODOPAMINE_TRACEBACK=1 shows where
        if os.environ.get('ROBODOPAMINE_TRACEBACK'):
            raise
        print(f'robodopamine {args.command}: error: {type(error).__name__}: '
              f'{_one_line(error)} (ROBODOPAMINE_TRACEBACK=1 shows where)', file=sys.stderr)
        return 1


def _loader_errors():
    errors = [TypeError, IndexError, RuntimeError, RecursionError, ImportError]
    try:
        import yaml
        errors.append(yaml.YAMLError)
    except ImportError:
        pass
    return tuple(errors)


LOADER_ERRORS = _loader_errors()


def _one_line(error):
    """Return the first line of an error's text, at most 300 characters."""
    text = str(error).strip().splitlines()
    return (text[0] if text else '')[:300]


if __name__ == '__main__':
    sys.exit(main())
