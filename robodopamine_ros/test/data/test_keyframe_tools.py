# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.contact_sheet import COLORS, render_contact_sheet
from robodopamine_ros.data.episode import Episode, Stream
from robodopamine_ros.data.keyframe_proposal import propose_keyframes
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.data.topics import VIEWS

FPS = 30
PERIOD = 1_000_000_000 // FPS


def moving_episode(bursts, num_frames, gripper=None):
    """Make a bright square that moves during the (start, end) frame bursts, else rests."""
    position = np.zeros(num_frames)
    x = 0.0
    for t in range(num_frames):
        if any(a <= t < b for a, b in bursts):
            x += 1.0
        position[t] = x
    views = {}
    for k, view in enumerate(VIEWS):
        frames = np.full((num_frames, 24, 32, 3), 40, np.uint8)
        for t in range(num_frames):
            left = int(position[t] * 31 / max(position[-1], 1)) % 28
            frames[t, 8:16, left:left + 4, k] = 255
        views[view] = frames
    stamps = np.arange(num_frames) * PERIOD
    streams = {}
    if gripper is not None:
        streams['action'] = Stream(stamps, np.column_stack([np.zeros(num_frames), gripper]))
    return Episode('moving', stamps, views, streams)


def test_motion_pauses_become_boundaries():
    bursts = [(10, 60), (90, 140), (170, 220)]
    episode = moving_episode(bursts, 240)
    segments, source = propose_keyframes(episode, num_segments=3)
    assert source == 'motion' and len(segments) == 3
    assert abs(segments[0].start - 10) <= 8 and abs(segments[-1].end - 220) <= 8
    boundaries = [s.end for s in segments[:-1]]
    for boundary, (pause_start, pause_end) in zip(boundaries, [(60, 90), (140, 170)]):
        assert pause_start - 4 <= boundary <= pause_end + 4, (boundary, segments)


def test_gripper_events_win_when_present():
    gripper = np.where((np.arange(240) >= 75) & (np.arange(240) < 160), 1.0, -1.0)
    episode = moving_episode([(10, 220)], 240, gripper=gripper)
    segments, source = propose_keyframes(episode)
    assert source == 'gripper'
    assert [s.end for s in segments[:-1]] == [75, 160]
    with pytest.raises(ValueError, match='no gripper events'):
        propose_keyframes(moving_episode([(10, 220)], 240), source='gripper')


def test_contact_sheet_draws_boundaries():
    episode = moving_episode([(10, 60)], 90)
    episode.keyframes = [Segment(5, 45, 'a'), Segment(45, 80, 'b')]
    sheet = render_contact_sheet(episode, every=30, columns=4, tile_width=64)
    # frames 0, 30, 60 + boundaries 5, 45, 80 -> 6 tiles in 2 rows of 4
    tile_height = 18 + 48 + 24 + 4
    assert sheet.shape == (2 * tile_height, 4 * 68, 3)
    border = COLORS[0]
    assert np.any(np.all(sheet == border, axis=2)), 'segment 1 border colour not drawn'


def test_cli_propose_then_sheet(tmp_path, capsys):
    episode = moving_episode([(10, 60), (90, 140)], 160)
    bag = write_episode(tmp_path / 'demo', episode)
    assert cli.main(['keyframes', 'propose', str(bag), '--segments', '2']) == 0
    written = json.loads((bag / 'annotated_keyframes.json').read_text())
    assert len(written) == 2
    assert set(written[0]) == {'anotation', 'start_frame_id', 'end_frame_id'}
    assert cli.main(['keyframes', 'propose', str(bag)]) == 1
    assert 'keyframes exist already; pass --force' in capsys.readouterr().err
    assert cli.main(['keyframes', 'sheet', str(bag), '-o', str(tmp_path / 's.png')]) == 0
    assert (tmp_path / 's.png').read_bytes()[:4] == b'\x89PNG'
    assert '2 segments drawn' in capsys.readouterr().out
