# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
export-lerobot, read back without our writer: the LeRobotDataset v3.0 layout parsed directly.

lerobot itself cannot be imported beside torch 2.13 (its releases cap torch below 2.13, 0.5+
needs Python 3.12, and its import needs torchvision, which does not import here), and no
other reader of the format installs: so these tests read info.json with json, the tables with
pyarrow and pandas, and decode the videos with PyAV, checking what lerobot's reader relies on
(docs/decisions.md, LeRobot export).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.commands.export_lerobot import export_lerobot, frame_rewards
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.bags import ReadOptions, TopicConfig
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.lerobot_stats import aggregate, feature_stats
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.reward.labels import equalized_states
from robodopamine_ros.reward.shaping import shape_episode, ShapingConfig

av = pytest.importorskip('av', reason='the LeRobot export is the [lerobot] extra')
pa = pytest.importorskip('pyarrow', reason='the LeRobot export is the [lerobot] extra')
pq = pytest.importorskip('pyarrow.parquet', reason='the LeRobot export is the [lerobot] extra')
pd = pytest.importorskip('pandas', reason='the LeRobot export is the [lerobot] extra')

FPS = 10
SIZE = (64, 48)   # libsvtav1 takes 32 x 32 and up
KEYS = {v: f'observation.images.{v}' for v in VIEWS}


def smooth_views(num_frames, size, shift=0):
    """Gradients that move frame to frame: a lossy codec keeps them close."""
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    views = {}
    for k, view in enumerate(VIEWS):
        frames = np.empty((num_frames, height, width, 3), np.uint8)
        for t in range(num_frames):
            frames[t, :, :, 0] = (xx * 3 + 8 * t + shift) % 256
            frames[t, :, :, 1] = (yy * 4 + 70 * k) % 256
            frames[t, :, :, 2] = 60 + 12 * t
        views[view] = frames
    return views


@pytest.fixture
def demo(tmp_path, make_episode):
    """Return a factory: write a small bag, return (its path, the episode written)."""
    def factory(name='demo', num_frames=12, keyframes=True, task='insert the peg',
                size=SIZE, streams=True, topics=TopicConfig(), shift=0):
        episode = make_episode(num_frames=num_frames, size=size, period_ns=10**9 // FPS,
                               streams=streams, episode_id=name)
        episode.views = smooth_views(num_frames, size, shift)
        if keyframes:
            middle = num_frames // 2
            episode.keyframes = [Segment(0, middle, 'reach'),
                                 Segment(middle, num_frames - 2, 'insert')]
        episode.instructions = (task,)
        return write_episode(tmp_path / name, episode, topics=topics), episode
    return factory


def read_table(path):
    return pq.read_table(path)


def decode(path):
    """Frames (RGB) and presentation times (s) of an mp4, and its stream's codec."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [(f.to_ndarray(format='rgb24'), float(f.pts * stream.time_base))
                  for f in container.decode(stream)]
        return [f for f, _ in frames], [t for _, t in frames], stream.codec.canonical_name


def test_two_demos_read_back_as_lerobot_reads_them(tmp_path, demo):
    first, first_episode = demo('first', num_frames=12)
    second, second_episode = demo('second', num_frames=9, keyframes=False, task='pull the peg',
                                  shift=40)
    out = tmp_path / 'dataset'
    # keyframe progress for one, the GRM's for the other: two reward contracts
    with pytest.raises(ValueError, match='2 different reward contracts.*--mix-contracts'):
        export_lerobot([first, second], out, options=ReadOptions(), model='pixel-baseline')
    assert not out.exists()
    info = export_lerobot([first, second], out, options=ReadOptions(), model='pixel-baseline',
                          mix=True)

    # meta/info.json
    written = json.loads((out / 'meta' / 'info.json').read_text())
    assert written == info
    assert written['codebase_version'] == 'v3.0' and written['fps'] == FPS
    assert (written['total_episodes'], written['total_frames'], written['total_tasks']) == \
        (2, 21, 2)
    assert written['splits'] == {'train': '0:2'}
    features = written['features']
    for key in KEYS.values():
        assert features[key]['dtype'] == 'video'
        assert features[key]['shape'] == [SIZE[1], SIZE[0], 3]
        assert features[key]['info']['video.codec'] == 'av1'
        assert features[key]['info']['video.pix_fmt'] == 'yuv420p'
    assert features['observation.state']['shape'] == [14]
    assert features['observation.state']['names'][:7] == list(first_episode.joint_names)
    assert features['action'] == {'dtype': 'float32', 'shape': [4],
                                  'names': ['delta_x', 'delta_y', 'delta_z', 'gripper']}
    for name, dtype in (('progress', 'float32'), ('next.reward', 'float32'),
                        ('next.success', 'bool'), ('next.done', 'bool'),
                        ('complementary_info.is_intervention', 'bool'),
                        ('timestamp', 'float32'), ('index', 'int64'), ('task_index', 'int64')):
        assert features[name] == {'dtype': dtype, 'shape': [1], 'names': None}

    # data/chunk-000/file-000.parquet: a row per frame
    data = read_table(out / 'data' / 'chunk-000' / 'file-000.parquet')
    assert data.schema.field('observation.state').type == pa.list_(pa.float32(), 14)
    assert data.schema.field('action').type == pa.list_(pa.float32(), 4)
    assert data.schema.field('next.done').type == pa.bool_()
    assert set(data.column_names) == {k for k, f in features.items() if f['dtype'] != 'video'}
    rows = data.to_pydict()
    assert rows['index'] == list(range(21))
    assert rows['episode_index'] == [0] * 12 + [1] * 9
    assert rows['frame_index'] == list(range(12)) + list(range(9))
    assert rows['task_index'] == [0] * 12 + [1] * 9
    np.testing.assert_array_equal(np.array(rows['timestamp'], np.float32),
                                  (np.array(rows['frame_index']) / FPS).astype(np.float32))
    assert rows['next.done'] == [False] * 11 + [True] + [False] * 8 + [True]

    config = ShapingConfig()
    for episode, rows_of in ((first_episode, slice(0, 12)), (second_episode, slice(12, 21))):
        state = np.array(rows['observation.state'][rows_of])
        np.testing.assert_allclose(state[:, :7], episode.streams['joint_positions'].values,
                                   rtol=1e-6)
        np.testing.assert_allclose(state[:, 7:], episode.streams['ee_pose'].values, rtol=1e-6)
        np.testing.assert_allclose(np.array(rows['action'][rows_of]),
                                   episode.streams['action'].values, rtol=1e-6)
        assert rows['complementary_info.is_intervention'][rows_of] == \
            list(episode.streams['intervention'].values[:, 0])
        progress = np.array(rows['progress'][rows_of])
        assert np.all((progress >= 0) & (progress <= 1)) and progress[0] == 0.0
        steps = shape_episode(list(progress.astype(float)), config)
        reward = np.array(rows['next.reward'][rows_of])
        np.testing.assert_allclose(reward[:len(steps)], [s.reward for s in steps], atol=1e-6)
        assert np.all(reward[len(steps):] == 0.0)
        success = np.array(rows['next.success'][rows_of])
        assert list(success[:len(steps)]) == list(np.maximum.accumulate(
            [s.sparse_reward > 0 for s in steps]))
    truth = equalized_states(first_episode.keyframes).dense_progress(np.arange(12))
    np.testing.assert_allclose(rows['progress'][:12], truth, atol=1e-6)
    assert rows['next.success'][11] and rows['next.reward'][9] > 0   # success at frame 10

    # meta/episodes: a row per episode
    episodes = read_table(out / 'meta' / 'episodes' / 'chunk-000' / 'file-000.parquet')
    episodes = episodes.to_pylist()
    assert [e['tasks'] for e in episodes] == [['insert the peg'], ['pull the peg']]
    assert [e['length'] for e in episodes] == [12, 9]
    assert [(e['dataset_from_index'], e['dataset_to_index']) for e in episodes] == \
        [(0, 12), (12, 21)]
    for e in episodes:
        for key in KEYS.values():
            assert e[f'videos/{key}/from_timestamp'] == 0.0
            assert e[f'videos/{key}/to_timestamp'] == pytest.approx(e['length'] / FPS)
        assert e['stats/progress/count'] == [e['length']]

    # meta/tasks.parquet: pandas index "task"
    tasks = pd.read_parquet(out / 'meta' / 'tasks.parquet')
    assert tasks.index.name == 'task'
    assert list(tasks.index) == ['insert the peg', 'pull the peg']
    assert list(tasks['task_index']) == [0, 1]

    # videos: a frame at frame_index / fps, close to the recorded image
    for ep, episode in enumerate((first_episode, second_episode)):
        row = episodes[ep]
        for view, key in KEYS.items():
            video = out / written['video_path'].format(
                video_key=key, chunk_index=row[f'videos/{key}/chunk_index'],
                file_index=row[f'videos/{key}/file_index'])
            frames, times, codec = decode(video)
            assert codec == 'av1' and len(frames) == row['length']
            np.testing.assert_allclose(times, np.arange(row['length']) / FPS, atol=1e-4)
            error = np.abs(np.stack(frames).astype(int) - episode.views[view].astype(int))
            assert error.mean() < 6, (view, error.mean())
            source = episode.views[view].astype(int)
            nearest = [int(np.argmin(np.abs(source - f.astype(int)).mean(axis=(1, 2, 3))))
                       for f in frames]
            assert nearest == list(range(row['length'])), view   # each frame is its own

    # meta/stats.json
    stats = json.loads((out / 'meta' / 'stats.json').read_text())
    assert stats['progress']['count'] == [21]
    assert stats['progress']['min'] == [0.0] and stats['progress']['max'][0] <= 1.0
    assert stats['next.done']['min'] == [False] and stats['next.done']['max'] == [True]
    assert np.array(stats[KEYS['front']]['mean']).shape == (3, 1, 1)
    state = np.array(rows['observation.state'])
    np.testing.assert_allclose(stats['observation.state']['mean'], state.mean(axis=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats['observation.state']['std'], state.std(axis=0),
                               rtol=1e-5, atol=1e-6)

    # sarm_progress.parquet: lerobot's reward-model progress, RA-BC weighting reads it
    sarm = read_table(out / 'sarm_progress.parquet')
    assert sarm.schema.metadata == {b'reward_model_path': b'keyframes; pixel-baseline'}
    assert sarm.schema.field('index').type == pa.int64()
    assert sarm.schema.field('progress_sparse').type == pa.float32()
    sarm = sarm.to_pydict()
    assert sarm['index'] == rows['index'] and sarm['episode_index'] == rows['episode_index']
    assert sarm['frame_index'] == rows['frame_index']
    assert sarm['progress_sparse'] == rows['progress'] == sarm['progress_dense']

    # meta/reward_contract.json: each contract with the episodes it covers
    from robodopamine_ros.reward.contract import RewardContract

    contracts = json.loads((out / 'meta' / 'reward_contract.json').read_text())['contracts']
    assert [c['episodes'] for c in contracts] == [[0], [1]]
    keyframes, model = (RewardContract.from_dict(c['contract']) for c in contracts)
    assert keyframes.grm == 'builtin:keyframes' and model.grm == 'builtin:pixel-baseline'
    assert [c['digest'] for c in contracts] == [keyframes.digest, model.digest]
    assert model.shaping['gamma'] == 0.99 and model.task == 'pull the peg'


def test_model_progress_is_the_estimators_and_keyframes_win(tmp_path, demo):
    from robodopamine_ros.data.demos import load_demo
    from robodopamine_ros.grm.base import progress_curve, run_episode
    from robodopamine_ros.grm.pixel_baseline import PixelBaselineGRM

    bare, _ = demo('bare', num_frames=9, keyframes=False)
    export_lerobot([bare], tmp_path / 'every', model='pixel-baseline', every=3)
    progress = read_table(tmp_path / 'every' / 'data' / 'chunk-000' /
                          'file-000.parquet').column('progress').to_numpy()
    episode = load_demo(bare)
    scored = [0, 3, 6, 8]
    curve = progress_curve(run_episode(PixelBaselineGRM(), episode, scored))
    np.testing.assert_allclose(progress, np.clip(curve, 0, 1)[[0, 0, 0, 1, 1, 1, 2, 2, 3]],
                               atol=1e-6)

    annotated, episode = demo('annotated', num_frames=10)
    export_lerobot([annotated], tmp_path / 'both', model='pixel-baseline')
    sarm = read_table(tmp_path / 'both' / 'sarm_progress.parquet')
    assert sarm.schema.metadata[b'reward_model_path'] == b'keyframes'
    np.testing.assert_allclose(sarm.column('progress_sparse').to_numpy(),
                               equalized_states(episode.keyframes).dense_progress(
                                   np.arange(10)), atol=1e-6)


def test_h264_videos(tmp_path, demo):
    path, episode = demo(num_frames=6)
    info = export_lerobot([path], tmp_path / 'dataset', codec='h264')
    assert info['features'][KEYS['front']]['info']['video.codec'] == 'h264'
    frames, times, codec = decode(tmp_path / 'dataset' / 'videos' / KEYS['left_wrist'] /
                                  'chunk-000' / 'file-000.mp4')
    assert codec == 'h264' and len(frames) == 6
    np.testing.assert_allclose(times, np.arange(6) / FPS, atol=1e-4)


def test_a_bag_without_a_view_is_refused_naming_it(tmp_path, demo):
    path, _ = demo(topics=TopicConfig(left_wrist='/elsewhere/image_raw'))
    with pytest.raises(ValueError, match='no left_wrist view.*/cameras/left_wrist/image_raw'):
        export_lerobot([path], tmp_path / 'dataset')
    assert not (tmp_path / 'dataset').exists()


def test_a_bag_without_actions_is_refused_naming_them(tmp_path, demo, make_episode):
    path, episode = demo(streams=True)
    bare = tmp_path / 'no_actions'
    del episode.streams['action'], episode.streams['intervention']
    write_episode(bare, episode)
    with pytest.raises(ValueError, match=r'no actions \(/robodopamine/action\) recorded'):
        export_lerobot([bare], tmp_path / 'dataset')
    del episode.streams['ee_pose']
    write_episode(tmp_path / 'no_pose', episode)
    with pytest.raises(ValueError, match=r'actions .*, hand pose \(/robodopamine/ee_pose\)'):
        export_lerobot([tmp_path / 'no_pose'], tmp_path / 'dataset')


def test_an_existing_dataset_is_kept_unless_overwrite(tmp_path, demo):
    path, _ = demo(num_frames=6)
    out = tmp_path / 'dataset'
    export_lerobot([path], out, task='first task')
    before = (out / 'meta' / 'info.json').read_text()
    with pytest.raises(FileExistsError, match='already exists; --overwrite'):
        export_lerobot([path], out, task='second task')
    assert (out / 'meta' / 'info.json').read_text() == before
    export_lerobot([path], out, task='second task', overwrite=True)
    assert list(pd.read_parquet(out / 'meta' / 'tasks.parquet').index) == ['second task']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['dataset', 'demo']


def test_a_failed_export_leaves_nothing_half_written(tmp_path, demo):
    good, _ = demo('good', num_frames=6)
    bad, _ = demo('bad', num_frames=6, keyframes=False)
    out = tmp_path / 'dataset'
    with pytest.raises(ValueError, match='no keyframes and no --model'):
        export_lerobot([good, bad], out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bad', 'good']
    export_lerobot([good], out)
    before = {p: p.read_bytes() for p in out.rglob('*') if p.is_file()}
    with pytest.raises(ValueError, match='no keyframes'):
        export_lerobot([good, bad], out, overwrite=True)
    assert {p: p.read_bytes() for p in out.rglob('*') if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ['bad', 'dataset', 'good']


def test_overwrite_never_replaces_a_folder_that_is_not_a_dataset(tmp_path, demo):
    path, _ = demo(num_frames=6)
    other = tmp_path / 'notes'
    other.mkdir()
    (other / 'keep.txt').write_text('mine')
    with pytest.raises(ValueError, match='not a LeRobot dataset'):
        export_lerobot([path], other, overwrite=True)
    assert (other / 'keep.txt').read_text() == 'mine'


@pytest.mark.parametrize('kwargs, message', [
    ({'codec': 'libsvtav1'}, "under libsvtav1's 32 x 32"),
    ({'codec': 'h264', 'image_size': (31, 24)}, 'h264 in yuv420p needs an even width'),
])
def test_sizes_the_codec_cannot_encode_are_refused_before_encoding(tmp_path, demo, kwargs,
                                                                   message):
    # libsvtav1 kills the process (SIGFPE) on images this narrow: refused first
    path, _ = demo(size=(16, 12), num_frames=6)
    with pytest.raises(ValueError, match=message):
        export_lerobot([path], tmp_path / 'dataset', **kwargs)


def test_one_layout_per_dataset_and_a_task_per_episode(tmp_path, demo):
    small, _ = demo('small', num_frames=6)
    large, _ = demo('large', num_frames=6, size=(80, 64))
    with pytest.raises(ValueError, match=r'large: front is \(64, 80, 3\).*--image-size'):
        export_lerobot([small, large], tmp_path / 'dataset')
    info = export_lerobot([small, large], tmp_path / 'dataset', image_size=(48, 32))
    assert info['features'][KEYS['right_wrist']]['shape'] == [32, 48, 3]
    untitled, _ = demo('untitled', num_frames=6, task='')
    with pytest.raises(ValueError, match='no task instruction.*--task'):
        export_lerobot([untitled], tmp_path / 'other')
    export_lerobot([untitled], tmp_path / 'other', task='wipe')


def test_rewards_end_with_the_shaped_episode():
    reward, success = frame_rewards(np.array([0.0, 0.5, 1.0, 1.0, 1.0]), ShapingConfig())
    np.testing.assert_allclose(reward, [0.99 * 0.5, 1.0 - 0.5, 0.0, 0.0, 0.0], atol=1e-6)
    assert list(success) == [False, True, True, True, True]
    reward, success = frame_rewards(np.array([0.0, 0.2, 0.4]), ShapingConfig(gamma=0.5))
    np.testing.assert_allclose(reward, [0.1, 0.0, 0.0], atol=1e-6)
    assert not success.any()


def test_aggregated_statistics_are_those_of_all_frames():
    rng = np.random.default_rng(1)
    parts = [rng.normal(size=(n, 3)) for n in (5, 11, 2)]
    whole = feature_stats(np.concatenate(parts))
    merged = aggregate([{'x': feature_stats(p)} for p in parts])['x']
    for key in ('min', 'max', 'mean', 'std', 'count'):
        np.testing.assert_allclose(merged[key], whole[key], rtol=1e-9, atol=1e-12)


def test_the_layout_paths_are_lerobots():
    from robodopamine_ros.data import lerobot_export
    assert lerobot_export.DATA_PATH == \
        'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet'
    assert lerobot_export.VIDEO_PATH == \
        'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4'
    assert Path(lerobot_export.EPISODES_PATH).parts[:2] == ('meta', 'episodes')
