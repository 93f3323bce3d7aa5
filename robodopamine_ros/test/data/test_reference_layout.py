# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data import reference_layout
from robodopamine_ros.data.bags import read_episode
from robodopamine_ros.data.demos import demo_kind, load_demo


def test_shared_demo_counts_and_resolution(example_episode):
    assert reference_layout.episode_frame_count(example_episode) == 1277
    assert reference_layout.video_fps(example_episode / 'cam_high.mp4') == pytest.approx(30.0)
    episode = reference_layout.load_episode(example_episode, stop=3)
    assert episode.image_size == (640, 480) and episode.num_frames == 3
    front, left, right = episode.triplet(0)
    assert front.shape == left.shape == right.shape == (480, 640, 3)
    assert not np.array_equal(front, left) and not np.array_equal(left, right)
    np.testing.assert_array_equal(np.diff(episode.stamps), [33_333_333, 33_333_334])


def test_import_demo_to_bag_and_back(example_episode, tmp_path, capsys):
    out = tmp_path / 'episode_001_bag'
    assert cli.main(['import-demo', str(example_episode), '-o', str(out), '--size', '64', '48',
                     '--storage', 'sqlite3', '--image-format', 'png']) == 0
    assert '1277 triplets, 16 keyframe segments' in capsys.readouterr().out
    assert demo_kind(out) == 'bag'
    episode = read_episode(out)
    assert episode.num_frames == 1277 and episode.image_size == (64, 48)
    assert len(episode.keyframes) == 16 and episode.keyframes[0].start == 8
    assert episode.keyframes[-1].end == 1263 and episode.keyframes[0].annotation == 'subtask1'
    assert episode.instructions[0] == 'clean the table' and len(episode.instructions) == 5
    # the same frames as decoding the videos directly (png is lossless)
    direct = load_demo(example_episode, image_size=(64, 48), stop=40)
    np.testing.assert_array_equal(episode.views['front'][:40], direct.views['front'])
    np.testing.assert_array_equal(episode.views['right_wrist'][:40],
                                  direct.views['right_wrist'])
    assert cli.main(['demo-info', str(out), '--json']) == 0
    info = json.loads(capsys.readouterr().out)
    assert info['frames'] == 1277 and info['bag']['storage'] == 'sqlite3'
    assert info['topics']['/cameras/front/image_raw/compressed']['messages'] == 1277
    assert len(info['keyframes']) == 16 and info['sync']['dropped'] == [0, 0, 0]


def test_not_a_demo(tmp_path):
    with pytest.raises(ValueError, match='not a demo: expected a rosbag2 folder'):
        demo_kind(tmp_path)
    with pytest.raises(FileNotFoundError):
        demo_kind(tmp_path / 'nope')


def test_missing_camera_video(tmp_path):
    (tmp_path / 'cam_high.mp4').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match='cam_left_wrist.mp4: missing left_wrist'):
        reference_layout.episode_frame_count(tmp_path)
