# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.contact_sheet import COLORS, render_contact_sheet
from robodopamine_ros.data.episode import Episode, Stream
from robodopamine_ros.data.keyframe_proposal import propose_keyframes, waypoint_boundaries
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


def _with_hand_path(episode, corners):
    """Add an ee_pose stream: straight lines in time between (frame, xyz) corners."""
    frames, points = zip(*corners)
    t = np.arange(episode.num_frames)
    xyz = np.column_stack([np.interp(t, frames, [p[k] for p in points]) for k in range(3)])
    poses = np.column_stack([xyz, np.zeros((len(t), 3)), np.ones(len(t))])
    episode.streams['ee_pose'] = Stream(episode.stamps, poses)
    return episode


def test_the_hands_waypoints_split_a_gripper_phase():
    # closed from frame 75 to the end; the hand carries the object to (0.3, 0, 0) by frame
    # 150, then pushes it 0.1 m along y (an insertion's last straight push): a corner at 150
    gripper = np.where(np.arange(240) >= 75, 1.0, -1.0)
    episode = _with_hand_path(moving_episode([(10, 220)], 240, gripper=gripper),
                              [(0, (0, 0, 0.2)), (75, (0, 0, 0)), (150, (0.3, 0, 0)),
                               (239, (0.3, 0.1, 0))])
    segments, source = propose_keyframes(episode)
    assert source == 'gripper + waypoints'
    boundaries = [s.end for s in segments[:-1]]
    assert 75 in boundaries and any(abs(b - 150) <= 2 for b in boundaries), segments
    assert all(b - a >= 15 for a, b in zip([segments[0].start] + boundaries,
                                           boundaries + [segments[-1].end]))   # 0.5 s apart
    # the gripper alone keeps one segment from the grasp to the end
    segments, source = propose_keyframes(episode, source='gripper')
    assert source == 'gripper' and [s.end for s in segments[:-1]] == [75]
    # a tolerance wider than the path's turns: no corner
    assert waypoint_boundaries(episode, 0, 239, tolerance=1.0) == []


def test_waypoints_need_the_hands_path():
    episode = moving_episode([(10, 220)], 240)
    assert waypoint_boundaries(episode, 0, 239) is None
    with pytest.raises(ValueError, match=r'no end-effector stream \(ee_pose\)'):
        propose_keyframes(episode, source='waypoints')
    with pytest.raises(ValueError, match='source must be one of'):
        propose_keyframes(episode, source='corners')


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
