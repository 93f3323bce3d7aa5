# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine refresh MODEL_DIR --episodes DIR``: refresh a GRM on the robot's own episodes.

The refresh: docs/method.md#refresh-on-the-robots-own-episodes (grm/refresh.py). It reads the
labelled episode bags under ``--episodes`` (data/online_episodes.py), re-trains the compact GRM
in MODEL_DIR on them and on the demonstration it was adapted on, and swaps the new model into
MODEL_DIR only when its held-out check is at least as good. Run it on the learner's machine,
beside a training run: grm_node loads a swapped model at its next episode (``reload_model``).
"""

from dataclasses import fields


def add_arguments(parser):
    from robodopamine_ros.grm.refresh import RefreshConfig

    d = RefreshConfig()
    parser.add_argument('model_dir', help='the compact GRM folder to refresh (replaced whole '
                                          'when the new model checks at least as well)')
    parser.add_argument('--episodes', required=True,
                        help='folder of online episode bags (episode_NNNNNN, with outcomes)')
    parser.add_argument('--demo', default='', help="the demonstration (default: the GRM's "
                                                   'own, from its config.json)')
    for name in ('steps', 'lr', 'pool', 'holdout_every', 'min_episodes', 'success_hold_s',
                 'seed'):
        kind = type(getattr(d, name))
        parser.add_argument('--' + name.replace('_', '-'), type=kind, default=getattr(d, name))


def run(args):
    import json
    from pathlib import Path

    from robodopamine_ros.data import demos
    from robodopamine_ros.data.online_episodes import read_labelled_episodes
    from robodopamine_ros.grm.refresh import RefreshConfig, refresh_grm
    from robodopamine_ros.rl.grm_refresh_loop import demo_of

    config = RefreshConfig(**{f.name: getattr(args, f.name) for f in fields(RefreshConfig)
                              if hasattr(args, f.name)})
    size = tuple(json.loads((Path(args.model_dir) / 'config.json').read_text())['image_size'])
    demo = demos.load_demo(demo_of(args.model_dir, args.demo), image_size=size)
    episodes = read_labelled_episodes(args.episodes, size)
    result = refresh_grm(args.model_dir, demo, episodes, config)
    print(f'{len(episodes)} labelled episodes ({result.train_episodes} to train, '
          f'{result.heldout_episodes} held out, {result.corrected_frames} corrected frames): '
          f'{result.reason}')
    return 0
