# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Episodes as a LeRobotDataset v3.0 folder, written without lerobot (docs/decisions.md).

The layout lerobot 0.6.1 writes (``datasets/utils.py``; 0.4.4 writes the same v3.0), one mp4
per episode and view, every table in one file::

    meta/info.json                codebase_version "v3.0", fps, features, path templates, totals
    meta/stats.json               feature statistics (data/lerobot_stats.py)
    meta/tasks.parquet            pandas index "task" (the text), column task_index
    meta/episodes/chunk-000/file-000.parquet   a row per episode: tasks, length, row range,
                                  each video's file and time range, per-episode stats/*
    meta/reward_contract.json     the reward contract, when one is given (lerobot ignores it)
    data/chunk-000/file-000.parquet            a row per frame
    videos/observation.images.<view>/chunk-CCC/file-FFF.mp4   (data/lerobot_video.py)
    sarm_progress.parquet         the progress as lerobot's reward models write it: index,
                                  episode_index, frame_index, progress_sparse, progress_dense
                                  (float32, the same values), schema metadata
                                  reward_model_path; lerobot's RA-BC weighting reads it

Features of frame t of an episode of T frames (names as lerobot's own tools read them:
``next.reward`` / ``next.done`` are its REWARD / DONE constants, ``next.success`` what its
eval writes, ``complementary_info.*`` what its RL buffer carries along):

    observation.images.front, .left_wrist, .right_wrist   video (H, W, 3), per view
    observation.state   float32 (J + 7,): joint positions (rad, fingers m) in the first
                        episode's joint order, then the hand pose x, y, z (m), qx, qy, qz, qw
    action              float32 (A,): the commanded action in effect at the frame
    progress            float32: Phi(s_t) in [0, 1]
    next.reward         float32: the shaped reward of step t -> t+1 (0 on the last frame)
    next.success        bool;  next.done  bool: the last frame
    complementary_info.is_intervention  bool: the action in effect was a takeover or the
                        demonstrator's (ActionStamped.intervention)
    timestamp (float32, frame_index / fps), frame_index, episode_index, index, task_index

Needs the ``[lerobot]`` extra (av, pyarrow, pandas), imported when writing.
"""

from dataclasses import dataclass
import json
from pathlib import Path

import numpy as np

from robodopamine_ros.data import lerobot_stats, lerobot_video
from robodopamine_ros.data.bags import TopicConfig
from robodopamine_ros.data.joints import JointOrder
from robodopamine_ros.data.topics import VIEWS

CODEBASE_VERSION = 'v3.0'
CHUNK_SIZE = 1000   # files per chunk folder (lerobot's DEFAULT_CHUNK_SIZE)
DATA_PATH = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet'
VIDEO_PATH = 'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4'
EPISODES_PATH = 'meta/episodes/chunk-000/file-000.parquet'
CONTRACT_FILE = 'meta/reward_contract.json'
PROGRESS_FILE = 'sarm_progress.parquet'
IMAGE_KEYS = {view: f'observation.images.{view}' for view in VIEWS}
STATE, ACTION, PROGRESS = 'observation.state', 'action', 'progress'
REWARD, SUCCESS, DONE = 'next.reward', 'next.success', 'next.done'
INTERVENTION = 'complementary_info.is_intervention'
HAND_POSE_NAMES = ('ee_x', 'ee_y', 'ee_z', 'ee_qx', 'ee_qy', 'ee_qz', 'ee_qw')
ACTION_NAMES = ('delta_x', 'delta_y', 'delta_z', 'gripper')   # lerobot's for a 4-d action
# scalar features after the user's: (name, dtype), lerobot's DEFAULT_FEATURES last
SCALARS = ((PROGRESS, 'float32'), (REWARD, 'float32'), (SUCCESS, 'bool'), (DONE, 'bool'),
           (INTERVENTION, 'bool'), ('timestamp', 'float32'), ('frame_index', 'int64'),
           ('episode_index', 'int64'), ('index', 'int64'), ('task_index', 'int64'))


def measured_fps(stamps):
    """Frames per second of frame stamps (ns, increasing), rounded to an integer >= 1."""
    stamps = np.asarray(stamps, dtype=np.int64)
    if len(stamps) < 2 or stamps[-1] <= stamps[0]:
        raise ValueError(f'{len(stamps)} frame(s) spanning no time: no frame rate to measure '
                         '(give --fps)')
    return max(1, int(round((len(stamps) - 1) * 1e9 / (stamps[-1] - stamps[0]))))


def robot_frames(episode, source, topics=None, joint_names=None):
    """
    Return the robot's features of an Episode at its frame stamps (each stream's latest value).

    Returns {state (T, J + 7) float32, action (T, A) float32, intervention (T,) bool,
    state_names, action_names}. joint_names: the order of the state's joints (default the
    episode's); a recording that names other joints is refused naming both lists. Raises
    ValueError naming `source` and the topics (topics: bags.TopicConfig) of what is missing
    (actions, joint states, the hand pose) or holds NaN or inf.
    """
    topics = topics or TopicConfig()
    streams = episode.streams
    wanted = (('action', f'actions ({topics.action})'),
              ('joint_positions', f'joint states ({topics.joint_states})'),
              ('ee_pose', f'hand pose ({topics.ee_pose})'))
    missing = [what for name, what in wanted if name not in streams]
    if missing:
        raise ValueError(f'{source}: no {", ".join(missing)} recorded: a LeRobot dataset needs '
                         'the actions and the state (joint positions and hand pose)')
    joints = episode.stream_at_frames('joint_positions')
    recorded = tuple(episode.joint_names) or tuple(f'joint{i + 1}'
                                                   for i in range(joints.shape[1]))
    if len(recorded) != joints.shape[1]:
        raise ValueError(f'{source}: {topics.joint_states} has {joints.shape[1]} positions for '
                         f'the names {list(recorded)}')
    order = JointOrder(joint_names or recorded, "the first episode's joint_states")
    joints = joints[:, order.permutation(recorded, f'{source}: {topics.joint_states}')]
    state = np.concatenate([joints, episode.stream_at_frames('ee_pose')], axis=1)
    action = episode.stream_at_frames('action')
    for name, values in ((STATE, state), (ACTION, action)):
        bad = int((~np.isfinite(values)).any(axis=1).sum())
        if bad:
            raise ValueError(f'{source}: {name} holds NaN or inf in {bad} of {len(values)} '
                             'frames')
    intervention = episode.stream_at_frames('intervention')[:, 0].astype(bool) \
        if 'intervention' in streams else np.zeros(episode.num_frames, bool)
    names = ACTION_NAMES if action.shape[1] == len(ACTION_NAMES) else \
        tuple(f'action_{i}' for i in range(action.shape[1]))
    return {'state': state.astype(np.float32), 'action': action.astype(np.float32),
            'intervention': intervention, 'state_names': order.names + HAND_POSE_NAMES,
            'action_names': names}


@dataclass
class ExportEpisode:
    """
    One episode to write, T frames.

    views: view -> (T, H, W, 3) uint8 RGB; state (T, S), action (T, A): float32, with their
    names; intervention, success: (T,) bool; progress (T,) in [0, 1], reward (T,): float32;
    task: the instruction; source: the demo it came from (error messages). Raises ValueError
    naming `source` for a missing view, mismatched lengths or a progress outside [0, 1].
    """

    task: str
    views: dict
    state: np.ndarray
    action: np.ndarray
    intervention: np.ndarray
    progress: np.ndarray
    reward: np.ndarray
    success: np.ndarray
    state_names: tuple
    action_names: tuple
    source: str = 'episode'

    def __post_init__(self):
        missing = [v for v in VIEWS if v not in self.views]
        if missing:
            raise ValueError(f'{self.source}: no {", ".join(missing)} view: a LeRobot dataset '
                             f'holds all of {", ".join(VIEWS)}')
        count = len(self.state)
        if count < 2:
            raise ValueError(f'{self.source}: {count} frame(s): an episode needs at least 2')
        if not isinstance(self.task, str) or not self.task.strip():
            raise ValueError(f'{self.source}: no task text (task_instruction.json; --task)')
        for name in ('state', 'action', 'progress', 'reward'):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32))
        if self.state.ndim != 2 or self.action.ndim != 2:
            raise ValueError(f'{self.source}: state and action must be (T, S) and (T, A), got '
                             f'{self.state.shape} and {self.action.shape}')
        for name in ('intervention', 'success'):
            setattr(self, name, np.asarray(getattr(self, name), dtype=bool))
        arrays = dict(self.views, action=self.action, intervention=self.intervention,
                      progress=self.progress, reward=self.reward, success=self.success)
        wrong = [f'{k} {len(v)}' for k, v in arrays.items() if len(v) != count]
        if wrong:
            raise ValueError(f'{self.source}: {count} states but {", ".join(wrong)} frames')
        for view in VIEWS:
            frames = self.views[view]
            if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 \
                    or 0 in frames.shape[1:3]:
                raise ValueError(f'{self.source}: view {view} must be (T, H, W, 3) uint8 with '
                                 f'H, W > 0, got {frames.dtype} {frames.shape}')
        if not (np.all(self.progress >= 0) and np.all(self.progress <= 1)):
            raise ValueError(f'{self.source}: progress must lie in [0, 1]')
        if len(self.state_names) != self.state.shape[1] or \
                len(self.action_names) != self.action.shape[1]:
            raise ValueError(f'{self.source}: state or action names do not match their sizes')


class DatasetWriter:
    """
    Write episodes into an empty folder as a LeRobotDataset v3.0, one at a time.

    Each add() encodes the episode's three videos at once and keeps only its table rows, so
    memory holds one episode's images. finish() writes the tables and metadata. The folder
    is the caller's temporary one: a failed export leaves it for the caller to remove (the
    command swaps it into place only when complete). fps: frames per second (int > 0) of
    every episode; codec: lerobot_video.CODECS; robot_type: info.json's (None: null).
    """

    def __init__(self, folder, fps, codec='libsvtav1', robot_type=None):
        self.folder = Path(folder)
        if not self.folder.is_dir() or any(self.folder.iterdir()):
            raise ValueError(f'{self.folder}: a dataset is written into an empty folder')
        if isinstance(fps, bool) or not isinstance(fps, int) or fps <= 0:
            raise ValueError(f'fps must be an integer > 0, got {fps!r}')
        lerobot_video.encoder_options(codec)   # a bad codec fails here
        _tables()                                # a missing extra too, before any work
        lerobot_video.av_module()
        self.fps, self.codec, self.robot_type = fps, codec, robot_type
        self.first = None     # the first episode's (names, shapes): the features
        self.rows = []        # per episode: {column: array}
        self.episodes = []    # per episode: its row of meta/episodes
        self.stats = []
        self.tasks = {}       # task text -> task_index, in order of appearance
        self.video_info = {}

    def add(self, episode):
        """Encode and record an ExportEpisode; return its episode_index. ValueError if unfit."""
        shapes = {'state_names': tuple(episode.state_names),
                  'action_names': tuple(episode.action_names),
                  **{view: episode.views[view].shape[1:] for view in VIEWS}}
        if self.first is None:
            for view in VIEWS:
                height, width = shapes[view][:2]
                lerobot_video.check_size(self.codec, width, height, f'{episode.source}: {view}')
            self.first = shapes
        for key, value in shapes.items():
            if value != self.first[key]:
                raise ValueError(f"{episode.source}: {key} is {value}, the first episode's "
                                 f'{self.first[key]}: one dataset holds one layout'
                                 + (' (--image-size)' if key in VIEWS else ''))
        index = len(self.episodes)
        count = len(episode.state)
        start = sum(len(r['index']) for r in self.rows)
        task_index = self.tasks.setdefault(episode.task, len(self.tasks))
        frame_index = np.arange(count, dtype=np.int64)
        rows = {STATE: episode.state, ACTION: episode.action, PROGRESS: episode.progress,
                REWARD: episode.reward, SUCCESS: episode.success,
                DONE: frame_index == count - 1, INTERVENTION: episode.intervention,
                'timestamp': (frame_index / self.fps).astype(np.float32),
                'frame_index': frame_index,
                'episode_index': np.full(count, index, dtype=np.int64),
                'index': start + frame_index,
                'task_index': np.full(count, task_index, dtype=np.int64)}
        stats = {name: lerobot_stats.feature_stats(values) for name, values in rows.items()}
        row = {'episode_index': index, 'tasks': [episode.task], 'length': count,
               'data/chunk_index': 0, 'data/file_index': 0,
               'dataset_from_index': start, 'dataset_to_index': start + count}
        chunk, file_index = divmod(index, CHUNK_SIZE)
        for view in VIEWS:
            key = IMAGE_KEYS[view]
            path = self.folder / VIDEO_PATH.format(video_key=key, chunk_index=chunk,
                                                   file_index=file_index)
            path.parent.mkdir(parents=True, exist_ok=True)
            lerobot_video.encode_video(path, episode.views[view], self.fps, self.codec)
            if key not in self.video_info:
                self.video_info[key] = lerobot_video.video_info(path, self.codec)
            stats[key] = lerobot_stats.video_stats(episode.views[view])
            row.update({f'videos/{key}/chunk_index': chunk,
                        f'videos/{key}/file_index': file_index,
                        f'videos/{key}/from_timestamp': 0.0,
                        f'videos/{key}/to_timestamp': count / self.fps})
        for feature, values in lerobot_stats.as_lists(stats).items():
            row.update({f'stats/{feature}/{k}': v for k, v in values.items()})
        row.update({'meta/episodes/chunk_index': 0, 'meta/episodes/file_index': 0})
        self.rows.append(rows)
        self.episodes.append(row)
        self.stats.append(stats)
        return index

    def features(self):
        """info.json's features: the videos, state, action, then SCALARS."""
        features = {}
        for view in VIEWS:
            height, width, channels = self.first[view]
            features[IMAGE_KEYS[view]] = {'dtype': 'video', 'shape': [height, width, channels],
                                          'names': ['height', 'width', 'channels'],
                                          'info': self.video_info[IMAGE_KEYS[view]]}
        for key, names in ((STATE, self.first['state_names']),
                           (ACTION, self.first['action_names'])):
            features[key] = {'dtype': 'float32', 'shape': [len(names)], 'names': list(names)}
        for name, dtype in SCALARS:
            features[name] = {'dtype': dtype, 'shape': [1], 'names': None}
        return features

    def finish(self, contract=None, reward_model_path='robodopamine'):
        """
        Write the tables and metadata; return info.json's content.

        contract: a dict written as meta/reward_contract.json (None: no file); ValueError when
        it is not a JSON object. reward_model_path: sarm_progress.parquet's schema metadata
        (what produced the progress).
        """
        if not self.episodes:
            raise ValueError('no episode to write')
        if contract is not None and not isinstance(contract, dict):
            raise ValueError(f'the reward contract must be a dict, got {type(contract).__name__}')
        pa, pq, pd = _tables()
        meta = self.folder / 'meta'
        (meta / 'episodes' / 'chunk-000').mkdir(parents=True, exist_ok=True)
        if contract is not None:
            try:
                text = json.dumps(contract, indent=2, allow_nan=False)
            except (TypeError, ValueError) as error:
                raise ValueError(f'the reward contract is not JSON: {error}') from error
            (self.folder / CONTRACT_FILE).write_text(text + '\n', encoding='utf-8')
        columns = {k: np.concatenate([r[k] for r in self.rows]) for k in self.rows[0]}
        features = self.features()
        data = self.folder / DATA_PATH.format(chunk_index=0, file_index=0)
        data.parent.mkdir(parents=True)
        pq.write_table(pa.table({k: _column(pa, v) for k, v in columns.items()}), data)
        pq.write_table(pa.Table.from_pylist(self.episodes), self.folder / EPISODES_PATH)
        pd.DataFrame({'task_index': np.arange(len(self.tasks), dtype=np.int64)},
                     index=pd.Index(list(self.tasks), name='task')).to_parquet(
                         meta / 'tasks.parquet')
        stats = lerobot_stats.as_lists(lerobot_stats.aggregate(self.stats))
        (meta / 'stats.json').write_text(json.dumps(stats, indent=4) + '\n', encoding='utf-8')
        progress = {k: columns[k] for k in ('index', 'episode_index', 'frame_index')}
        progress.update(progress_sparse=columns[PROGRESS], progress_dense=columns[PROGRESS])
        pq.write_table(pa.table(progress).replace_schema_metadata(
            {b'reward_model_path': str(reward_model_path).encode()}),
            self.folder / PROGRESS_FILE)
        total = len(columns['index'])
        info = {'codebase_version': CODEBASE_VERSION, 'robot_type': self.robot_type,
                'total_episodes': len(self.episodes), 'total_frames': total,
                'total_tasks': len(self.tasks), 'chunks_size': CHUNK_SIZE,
                'data_files_size_in_mb': 100, 'video_files_size_in_mb': 200, 'fps': self.fps,
                'splits': {'train': f'0:{len(self.episodes)}'}, 'data_path': DATA_PATH,
                'video_path': VIDEO_PATH, 'features': features}
        (meta / 'info.json').write_text(json.dumps(info, indent=4) + '\n', encoding='utf-8')
        return info


def _tables():
    """Import pyarrow, its parquet module and pandas, or raise ImportError naming the extra."""
    try:
        import pandas
        import pyarrow
        import pyarrow.parquet
    except ImportError as error:
        raise ImportError('writing a LeRobot dataset needs pyarrow and pandas: pip install '
                          '"robodopamine_ros[lerobot]" (av, pyarrow, pandas)') from error
    return pyarrow, pyarrow.parquet, pandas


def _column(pa, values):
    """Return a (N,) array as a plain column, a (N, D) one as fixed_size_list<D> (lerobot's)."""
    if values.ndim == 1:
        return pa.array(values)
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])
