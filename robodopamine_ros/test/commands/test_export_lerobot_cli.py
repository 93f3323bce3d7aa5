# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bag_writer import write_episode
from robodopamine_ros.data.keyframes import Segment

pytest.importorskip('av', reason='the LeRobot export is the [lerobot] extra')
pq = pytest.importorskip('pyarrow.parquet', reason='the LeRobot export is the [lerobot] extra')


def test_export_lerobot_command(tmp_path, make_episode, capsys):
    episode = make_episode(num_frames=8, size=(64, 48))   # 30 frames per second
    episode.keyframes = [Segment(0, 4, 'reach'), Segment(4, 7, 'insert')]
    bag = write_episode(tmp_path / 'demo', episode)
    out = tmp_path / 'dataset'
    argv = ['export-lerobot', str(bag), '-o', str(out), '--task', 'wipe', '--gamma', '0.9']
    assert cli.main(argv) == 0
    assert f'{out}: LeRobotDataset v3.0, 1 episode(s), 8 frames at 30 fps, 1 task(s)' in \
        capsys.readouterr().out
    rows = pq.read_table(out / 'data' / 'chunk-000' / 'file-000.parquet').to_pydict()
    assert rows['next.reward'][0] == pytest.approx(0.9 * rows['progress'][1] - 0.0, abs=1e-6)

    assert cli.main(argv) == 1
    error = capsys.readouterr().err
    assert error.count('\n') == 1
    assert error.startswith('robodopamine export-lerobot: error: ')
    assert 'already exists; --overwrite replaces it' in error
    assert cli.main(argv + ['--overwrite']) == 0

    assert cli.main(['export-lerobot', str(bag), '-o', str(tmp_path / 'other')]) == 1
    assert 'no task instruction' in capsys.readouterr().err
