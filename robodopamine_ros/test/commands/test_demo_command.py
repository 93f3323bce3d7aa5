# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

from robodopamine_ros.commands import cli
from robodopamine_ros.data.bags import read_episode


def test_demo_quick_end_to_end(example_episode, tmp_path, capsys):
    out = tmp_path / 'out'
    assert cli.main(['demo', '--quick', '--demo', str(example_episode), '-o', str(out)]) == 0
    printed = capsys.readouterr().out
    assert '[5/5]' in printed and 'done in' in printed
    summary = json.loads((out / 'summary.json').read_text())
    metrics = summary['metrics']
    assert metrics['frames_scored'] == 16  # 300 frames, every 20th, plus the last
    assert -1.0 <= metrics['voc_fused'] <= 1.0 and metrics['voc_minus'] < 0
    assert (out / 'progress.png').read_bytes()[:4] == b'\x89PNG'
    scored = read_episode(out / 'scored_episode')
    assert len(scored.progress) == 16 and len(scored.rewards) == summary['steps']
    # every logged reward is SPEC's formula applied to the logged progress
    for reward in scored.rewards:
        after = 0.0 if reward['terminal'] else reward['progress_after']
        expected = reward['sparse_reward'] + reward['gamma'] * after - reward['progress_before']
        assert abs(reward['reward'] - expected) < 1e-5


def test_demo_without_keyframes_says_how_to_get_them(tmp_path, make_episode, capsys):
    from robodopamine_ros.data.bag_writer import write_episode
    bag = write_episode(tmp_path / 'bag', make_episode(num_frames=5))
    assert cli.main(['demo', '--demo', str(bag), '-o', str(tmp_path / 'o')]) == 1
    assert 'robodopamine keyframes propose' in capsys.readouterr().err
