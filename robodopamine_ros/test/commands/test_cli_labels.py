# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

from robodopamine_ros.commands import cli


def test_labels_on_the_real_demo_folder(example_episode, capsys):
    assert cli.main(['labels', str(example_episode), '--json']) == 0
    summary = json.loads(capsys.readouterr().out)
    episode = summary['episodes']['episode_001']
    assert summary['num_frames'] == 1277 and summary['segments'] == 16
    assert episode['num_intervals'] == 64 and episode['frames'][:2] == [8, 43]
    assert summary['pairs'] == 1000 and summary['zero_hop_anchors'] == 50
    assert sum(summary['hop_bin_counts']) == 1050
    assert sum(summary['gap_bin_counts']) == 1000


def test_labels_human_readable(example_episode, capsys):
    assert cli.main(['labels', str(example_episode)]) == 0
    out = capsys.readouterr().out
    assert 'M = 64' in out and '1263:1.000' in out and 'zero-hop anchors' in out


def test_labels_from_a_keyframe_file(tmp_path, capsys):
    path = tmp_path / 'kf.json'
    path.write_text(json.dumps([{'anotation': 'a', 'start_frame_id': 0, 'end_frame_id': 40},
                                {'anotation': 'b', 'start_frame_id': 40, 'end_frame_id': 80}]))
    assert cli.main(['labels', str(path), '--json', '--samples', '50']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['episodes']['kf']['frames'] == [0, 20, 40, 60, 80]


def test_labels_bad_input_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / 'kf.json'
    path.write_text(json.dumps([{'start_frame_id': 10, 'end_frame_id': 5}]))
    assert cli.main(['labels', str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith('robodopamine labels: error: ')
    assert f'{path}: segment 0: empty segment' in err
    assert cli.main(['labels', str(tmp_path / 'nothing')]) == 1
    assert 'no such demo' in capsys.readouterr().err
