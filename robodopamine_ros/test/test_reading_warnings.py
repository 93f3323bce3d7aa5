# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""A demo's warning is printed once by a command that reads it, not once per camera or pass."""

import logging
import subprocess
import sys

import numpy as np
from robodopamine_ros.data.bag_writer import write_episode

GAP_NS = 1_030_000_000


def stalled_recording(path, make_episode):
    """Write a bag whose three cameras were silent for about a second (one gap)."""
    episode = make_episode(num_frames=40)
    episode.stamps = episode.stamps + np.where(np.arange(40) >= 20, GAP_NS, 0)
    for stream in episode.streams.values():
        stream.stamps = episode.stamps
    write_episode(path, episode)
    return path


def robodopamine(*args, cwd):
    return subprocess.run([sys.executable, '-m', 'robodopamine_ros.commands.cli', *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd,
                          stdin=subprocess.DEVNULL)


def test_demo_info_and_keyframes_print_a_gap_once(tmp_path, make_episode):
    bag = stalled_recording(tmp_path / 'demo1', make_episode)
    for command in (['demo-info', bag], ['keyframes', 'propose', bag]):
        result = robodopamine(*command, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]
        output = result.stdout + result.stderr
        assert output.count('no frames for') == 1, (command, output)
        line = next(x for x in output.splitlines() if 'no frames for' in x)
        assert all(f'/cameras/{view}/image_raw' in line
                   for view in ('front', 'left_wrist', 'right_wrist')), line


def test_the_reader_of_every_command_and_rl_agent_node_logs_a_gap_once(tmp_path, make_episode,
                                                                       caplog):
    from robodopamine_ros.data.bags import read_episode

    bag = stalled_recording(tmp_path / 'demo1', make_episode)
    with caplog.at_level(logging.WARNING):
        episode = read_episode(bag)   # rl.demonstrations.load_demonstrations reads with it
    gaps = [r.getMessage() for r in caplog.records if 'no frames for' in r.getMessage()]
    assert len(gaps) == 1 and str(bag) in gaps[0], caplog.text
    assert [w for w in episode.warnings if 'no frames for' in w] == [gaps[0].split(': ', 1)[1]]
