# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``robodopamine export-lerobot DEMO... -o DATASET``: demos as a LeRobotDataset v3.0.

One episode per demo (a bag with the three views, joint states, hand pose and actions; the
layout: data/lerobot_export.py). Per frame:

- progress Phi: the keyframe progress when the demo has keyframes (the equalized rule,
  piecewise-linear between the sampled states: the GRM's own training target and the truth
  its error is measured against); else, with ``--model``, the GRM's fused progress
  (ProgressEstimator, as ``evaluate`` scores: the model's saved references, else the demo's
  first and last front frames) on every ``--every``-th frame, the frames between holding the
  latest score; with neither, the demo is refused. Keyframes win over a model: a human's
  annotation is the ground truth a model is measured against;
- next.reward: reward.shaping.shape_episode (ShapingConfig, ``--gamma``; the episode ends at
  its first success, a truncation otherwise): frame t's reward is step t -> t+1's; the last
  frame and any after the terminal step get 0 (steps the shaped episode does not have);
- next.success: whether step t reached success (progress >= 1 - delta), then true to the end;
  next.done: the last frame; complementary_info.is_intervention: the recorded
  ActionStamped.intervention of the action in effect.

The dataset is written into a temporary folder beside DATASET and renamed into place when
complete (grm/model_folder.replace_folder): a failed export leaves no folder, or the previous
one untouched. An existing DATASET is refused unless ``--overwrite``, and even then a
non-empty folder that is not a LeRobot dataset (no meta/info.json) is never replaced.
"""

from pathlib import Path

from robodopamine_ros.commands.reading import add_reading_arguments, read_options
from robodopamine_ros.data.lerobot_video import CODECS
from robodopamine_ros.reward.shaping import GAMMA


def add_arguments(parser):
    parser.add_argument('demos', nargs='+', metavar='DEMO',
                        help='demos, one episode each (bags with the three views, joint '
                             'states, hand pose and actions)')
    parser.add_argument('-o', '--output', required=True, metavar='DATASET',
                        help='dataset folder to write (refused if it exists, unless '
                             '--overwrite)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing dataset folder (atomically)')
    parser.add_argument('--task', default=None,
                        help="task text of every episode (default: each demo's instruction)")
    parser.add_argument('--model', default=None, metavar='MODEL_DIR',
                        help='GRM scoring the progress of demos without keyframes (a model '
                             'folder, or pixel-baseline); keyframes win where both exist')
    parser.add_argument('--every', type=int, default=1,
                        help='with --model: score every N-th frame, the frames between hold '
                             'the latest score (1)')
    parser.add_argument('--device', default='cpu', help='--model: cpu, cuda, ...')
    parser.add_argument('--template', default=None, help='--model: VLM prompt template file')
    parser.add_argument('--gamma', type=float, default=GAMMA,
                        help=f"shaping discount; must equal the learner's ({GAMMA})")
    parser.add_argument('--fps', type=int, default=None,
                        help="frames per second of the dataset (default: the first demo's "
                             'camera rate, rounded)')
    parser.add_argument('--image-size', type=int, nargs=2, default=None, metavar=('W', 'H'),
                        help='resize every view to W x H pixels (default: as recorded)')
    parser.add_argument('--vcodec', choices=CODECS, default=CODECS[0],
                        help="video codec (libsvtav1: AV1, lerobot's default)")
    parser.add_argument('--robot-type', default=None, help="info.json's robot_type")
    parser.add_argument('--mix-contracts', action='store_true',
                        help='export episodes whose progress comes under different reward '
                             'contracts (keyframes for some, --model for others; or bags '
                             'scored under different ones) into one dataset')
    add_reading_arguments(parser)


def run(args):
    info = export_lerobot(
        args.demos, args.output, options=read_options(args), task=args.task,
        model=args.model, every=args.every, device=args.device, template=args.template,
        gamma=args.gamma, fps=args.fps, image_size=args.image_size, codec=args.vcodec,
        robot_type=args.robot_type, overwrite=args.overwrite, mix=args.mix_contracts)
    print(f'{args.output}: LeRobotDataset {info["codebase_version"]}, '
          f'{info["total_episodes"]} episode(s), {info["total_frames"]} frames at '
          f'{info["fps"]} fps, {info["total_tasks"]} task(s)')
    return 0


def export_lerobot(demos, output, *, options=None, task=None, model=None, every=1,
                   device='cpu', template=None, gamma=GAMMA, fps=None, image_size=None,
                   codec=CODECS[0], robot_type=None, overwrite=False, mix=False, log=print):
    """
    Write demos (paths) as a LeRobotDataset v3.0 at `output`; return its info.json content.

    options: bags.ReadOptions; task: every episode's text (None: each demo's instruction);
    model: GRM folder or builtin name for demos without keyframes; every: its scoring stride
    (frames); gamma: the shaping discount; fps: int (None: the first demo's rate, rounded);
    image_size: (width, height) or None; codec: lerobot_video.CODECS. meta/reward_contract.json
    holds the reward contract of the exported progress and rewards (``contract_file``;
    reward/contract.py:
    keyframes, or the model with its references, and the shaping); episodes under different
    contracts, or bags recorded under different ones, are refused unless mix (ContractError,
    a ValueError). Raises FileExistsError (output exists, not overwrite),
    FileNotFoundError, ValueError naming the demo and what is missing or wrong; ImportError
    without the [lerobot] extra.
    """
    from robodopamine_ros.data.lerobot_export import (DatasetWriter, ExportEpisode,
                                                      HAND_POSE_NAMES, measured_fps,
                                                      robot_frames)
    from robodopamine_ros.grm.model_folder import replace_folder
    from robodopamine_ros.reward.shaping import ShapingConfig

    output = Path(output)
    check_output(output, overwrite)
    shaping = ShapingConfig(gamma=gamma)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f'--every must be an integer >= 1, got {every!r}')
    if fps is not None and (isinstance(fps, bool) or not isinstance(fps, int) or fps < 1):
        raise ValueError(f'--fps must be an integer >= 1, got {fps!r}')
    if image_size is not None and not (len(image_size) == 2 and min(image_size) > 0):
        raise ValueError(f'--image-size must be two sizes > 0 (W H), got {image_size!r}')
    if model and model != 'pixel-baseline' and not Path(model).is_dir():
        raise FileNotFoundError(f'{model}: no such model folder')
    from robodopamine_ros.reward.contract import check_one_contract, recorded_contracts

    # bags scored under different contracts (rl_agent_node's) do not belong in one dataset
    check_one_contract(recorded_contracts(demos, options.storage if options else 'auto'),
                       mix=mix)
    scorer = _Scorer(model, device, template, every)
    used, contracts = [], []
    with replace_folder(output, keep_others=False) as folder:
        writer = joints = None
        for path in demos:
            episode = _read(path, options, image_size)
            text = task if task is not None else episode.instructions[0]
            if not (text or '').strip():
                raise ValueError(f'{path}: no task instruction (task_instruction.json beside '
                                 'the bag): give --task')
            robot = robot_frames(episode, str(path), options.topics if options else None,
                                 joints)
            joints = joints or robot['state_names'][:-len(HAND_POSE_NAMES)]
            progress, source = episode_progress(episode, path, scorer, text)
            used.append(source)
            contracts.append((path, scorer.contract(source, text, shaping)))
            reward, success = frame_rewards(progress, shaping)
            rate = fps or measured_fps(episode.stamps)
            if writer is None:
                writer = DatasetWriter(folder, rate, codec, robot_type)
            elif abs(rate - writer.fps) > 0.1 * writer.fps:
                log(f"warning: {path}: recorded at {rate} fps, written at the first demo's "
                    f'{writer.fps} fps (--fps sets it)')
            writer.add(ExportEpisode(task=text, views=episode.views, progress=progress,
                                     reward=reward, success=success, source=str(path),
                                     **robot))
        check_one_contract(contracts, mix=mix)
        info = writer.finish(contract=contract_file(contracts),
                             reward_model_path='; '.join(dict.fromkeys(used)))
    return info


def contract_file(contracts):
    """
    Return meta/reward_contract.json's content: each contract with the episodes it covers.

    {"contracts": [{"digest": ..., "episodes": [episode_index, ...], "contract": {...}}]}:
    one entry, unless episodes under several were exported together (--mix-contracts).
    """
    groups = {}
    for index, (_, contract) in enumerate(contracts):
        entry = groups.setdefault(contract.digest, {'digest': contract.digest, 'episodes': [],
                                                    'contract': contract.to_dict()})
        entry['episodes'].append(index)
    return {'contracts': list(groups.values())}


def check_output(output, overwrite):
    """Refuse an existing output unless overwrite, and never replace a non-dataset folder."""
    output = Path(output)
    if not output.exists() and not output.is_symlink():
        return
    if not overwrite:
        raise FileExistsError(f'{output}: already exists; --overwrite replaces it')
    if not output.is_dir():
        raise ValueError(f'{output}: exists and is not a folder: not replaced')
    if any(output.iterdir()) and not (output / 'meta' / 'info.json').is_file():
        raise ValueError(f'{output}: not a LeRobot dataset (no meta/info.json): not replaced')


def episode_progress(episode, path, scorer, task):
    """
    Return (progress (T,) in [0, 1], its source: 'keyframes' or the model) of an Episode.

    Keyframe progress when the episode has keyframes, else the scorer's (a _Scorer of
    --model); ValueError naming `path` when neither exists.
    """
    import numpy as np

    from robodopamine_ros.reward.labels import equalized_states

    if episode.keyframes:
        return np.clip(equalized_states(episode.keyframes).dense_progress(
            np.arange(episode.num_frames)), 0.0, 1.0), 'keyframes'
    if scorer.spec:
        return scorer.progress(episode, task), str(scorer.spec)
    raise ValueError(f'{path}: no keyframes and no --model: nothing gives its progress '
                     f'(`robodopamine keyframes propose {path}`, or --model MODEL_DIR)')


def frame_rewards(progress, config):
    """
    Per-frame (next.reward, next.success) of an episode's progress (T,) under a ShapingConfig.

    reward[t]: shaped reward of step t -> t+1, 0 where the shaped episode has no such step
    (the last frame, frames after the terminal step); success[t]: step t reached success,
    true from then on. Both (T,) float32 and bool.
    """
    import numpy as np

    from robodopamine_ros.reward.shaping import shape_episode

    steps = shape_episode([float(p) for p in progress], config, truncated_at_end=True)
    reward = np.zeros(len(progress), np.float32)
    success = np.zeros(len(progress), bool)
    for t, step in enumerate(steps):
        reward[t] = step.reward
        success[t] = step.sparse_reward > 0
    return reward, np.maximum.accumulate(success)


def _read(path, options, image_size):
    """Load a demo; a missing camera is refused naming the view."""
    from robodopamine_ros.data import demos
    from robodopamine_ros.data.bags import MissingCameraError
    from robodopamine_ros.data.topics import VIEWS

    try:
        return demos.load_demo(path, image_size=tuple(image_size) if image_size else None,
                               options=options)
    except MissingCameraError as error:
        raise ValueError(f'no {error.view} view: {error} (a LeRobot dataset holds all of '
                         f'{", ".join(VIEWS)}; --{error.view.replace("_", "-")}-topic names '
                         'another topic)') from error


class _Scorer:
    """A GRM, loaded at its first use, scoring an episode's progress (ProgressEstimator)."""

    def __init__(self, spec, device, template, every):
        self.spec, self.device, self.template, self.every = spec, device, template, every
        self.model = self.references = self.content_hash = None
        self.used_references = ()   # the last scored episode's: saved, else its own

    def contract(self, source, task, shaping):
        """
        Return the RewardContract of an episode's exported progress and rewards.

        source: 'keyframes' (the annotation's progress) or the model that scored it.
        """
        from robodopamine_ros.grm.loading import saved_template
        from robodopamine_ros.reward.contract import compose, grm_content_hash, grm_terms
        from robodopamine_ros.reward.progress import ProgressConfig

        if source == 'keyframes':
            terms = {'grm': 'builtin:keyframes', 'backend': 'keyframes', 'task': task}
        else:
            if self.content_hash is None:   # once: a VLM's weights take seconds to hash
                self.content_hash = grm_content_hash(self.spec)
            template = self.template or (saved_template(self.spec)
                                         if self.model.name == 'vlm' else None)
            terms = grm_terms(self.spec, self.model.name, task, template=template,
                              references=self.used_references, progress=ProgressConfig(),
                              content_hash=self.content_hash)
        return compose(terms, shaping, 'detector', grm_every=self.every)

    def progress(self, episode, task):
        """Return every frame's fused GRM progress in [0, 1], shape (T,)."""
        import numpy as np

        from robodopamine_ros.data.episode import Episode
        from robodopamine_ros.data.images import FitPixels, resize
        from robodopamine_ros.data.topics import IMAGE_SIZE, VIEWS
        from robodopamine_ros.grm.base import progress_curve, run_episode
        from robodopamine_ros.grm.loading import load_grm
        from robodopamine_ros.grm.vlm import MAX_PIXELS

        if self.model is None:
            self.model, self.references = load_grm(self.spec, self.device, self.template)
        model = self.model
        size = tuple(model.config['image_size']) if model.name == 'compact' else \
            (FitPixels(MAX_PIXELS) if model.name == 'vlm' else IMAGE_SIZE)
        count = episode.num_frames
        scored = list(range(0, count, self.every))
        if scored[-1] != count - 1:
            scored.append(count - 1)
        views = {v: np.stack([resize(episode.views[v][f], size) for f in scored])
                 for v in VIEWS}
        small = Episode(episode.episode_id, episode.stamps[scored], views)
        # run_episode's rule: the model's saved references, else the episode's own first and
        # last front frames (then each episode has its own, named in its contract)
        self.used_references = self.references or (small.views['front'][0],
                                                   small.views['front'][-1])
        ticks = run_episode(model, small, range(len(scored)), task, self.used_references)
        curve = np.clip(progress_curve(ticks), 0.0, 1.0)
        held = np.searchsorted(scored, np.arange(count), side='right') - 1
        return curve[held]
