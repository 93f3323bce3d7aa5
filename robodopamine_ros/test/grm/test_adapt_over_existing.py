# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
``adapt -o EXISTING`` keeps the previous model until the new one is complete (issue 29, 12).

A real process adapting over a folder is killed right after its first intermediate save: the
folder still holds the previous model with its own reports, and the intermediate save sits in
``<output>.partial`` (loading it warns). A run that completes replaces the folder in one swap
with the new model and its own reports; nothing of the previous folder is carried over.
"""

import json
import logging
import os
import select
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.grm.one_shot import adapt, partial_folder

CHILD = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[2])
    import torch
    torch.set_num_threads(1)
    from test_compact_grm import sliding_episode
    from robodopamine_ros.grm import compact
    from robodopamine_ros.grm.one_shot import adapt

    save = compact.CompactGRM.save

    def save_then_pause(self, folder, *args, **kwargs):
        result = save(self, folder, *args, **kwargs)
        print('SAVED', folder, flush=True)
        sys.stdin.read()   # until killed
        return result
    compact.CompactGRM.save = save_then_pause
    adapt('demo', sys.argv[1], steps=60, pool=8, episode=sliding_episode(60, seed=2),
          init='scratch', log=lambda text: None)
""")


def old_model(folder):
    CompactGRM.create(task='the previous task').save(
        folder, [np.full((48, 64, 3), 10, np.uint8)] * 2)
    (folder / 'report.md').write_text('report of the previous model\n')
    (folder / 'notes.txt').write_text('notes about the previous model\n')


def test_a_kill_after_an_intermediate_save_leaves_the_previous_model(tmp_path, caplog):
    output = tmp_path / 'grm'
    old_model(output)
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)))
    child = subprocess.Popen([sys.executable, '-c', CHILD, str(output), here],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=dict(os.environ, OMP_NUM_THREADS='1'))
    try:
        line = ''
        while not line.startswith('SAVED'):   # (the progress bar writes evaluations too)
            ready, _, _ = select.select([child.stdout], [], [], 300)
            assert ready, 'the child made no intermediate save'
            line = child.stdout.readline().strip()
            assert line, 'the child ended before an intermediate save'
        assert line == f'SAVED {partial_folder(output)}'
    finally:
        child.kill()
        child.wait(timeout=30)
    assert CompactGRM.load(output).config['task'] == 'the previous task'
    assert (output / 'report.md').read_text() == 'report of the previous model\n'
    with caplog.at_level(logging.WARNING):
        partial = CompactGRM.load(partial_folder(output))
    assert partial.config['checkpoint_step'] == 50 and partial.config['partial'] is True
    assert 'an intermediate save of an adaptation that did not finish (step 50)' in caplog.text


def test_a_completed_adaptation_replaces_the_folder_whole(tmp_path):
    from test_compact_grm import sliding_episode

    output = tmp_path / 'grm'
    old_model(output)
    logged = []
    adapt('demo', output, steps=60, pool=8, episode=sliding_episode(60, seed=2),
          init='scratch', log=logged.append)
    assert logged[0] == 'start: random weights: asked for (--init scratch)'   # which, and why
    config = json.loads((output / 'config.json').read_text())
    assert config['task'] == 'slide the block' and 'partial' not in config
    assert config['checkpoint_step'] == 60
    assert sorted(p.name for p in output.iterdir()) == [
        'config.json', 'history.json', 'loss.png', 'model.safetensors', 'progress.png',
        'reference_end.png', 'reference_start.png', 'report.md']
    assert 'report of the previous model' not in (output / 'report.md').read_text()
    assert not partial_folder(output).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ['grm']


@pytest.fixture(autouse=True)
def one_thread():
    import torch
    torch.set_num_threads(1)
