# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A GRM model folder survives a save killed with SIGKILL (what `robodopamine adapt` writes).

Real processes: a child process saves model B over a folder holding model A and is killed at
a chosen point of the save (it stops there and says so on stdout) or while it saves in a loop;
the folder must then load as A or as B, whole: config, weights and references of one model,
the reports beside them kept.
"""

import os
from pathlib import Path
import select
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from robodopamine_ros.grm.compact import CompactGRM
from robodopamine_ros.grm.model_folder import interrupted_save_hint, replace_folder

CHILD = textwrap.dedent("""
    import os, sys
    import numpy as np
    from robodopamine_ros.grm import model_folder
    from robodopamine_ros.grm.compact import CompactGRM
    import safetensors.torch

    folder, point = sys.argv[1], sys.argv[2]

    def pause(where):
        print('PAUSED', where, flush=True)
        sys.stdin.read()          # until killed

    def after(module, name, where, calls=1):
        original, count = getattr(module, name), [0]

        def wrapper(*args, **kwargs):
            result = original(*args, **kwargs)
            count[0] += 1
            if count[0] == calls:
                pause(where)
            return result
        setattr(module, name, wrapper)

    if point == 'weights':
        after(safetensors.torch, 'save_file', point)
    elif point == 'references':
        import robodopamine_ros.data.images as images
        after(images, 'save_png', point, calls=2)
    elif point == 'before-swap':
        after(model_folder, '_sync_tree', point)
    elif point == 'between-renames':      # where RENAME_EXCHANGE is missing
        model_folder._exchange = lambda a, b: False
        replace = os.replace

        def replace_then_pause(source, target):
            replace(source, target)
            if os.path.basename(target) == '.compact.previous':
                pause(point)
        os.replace = replace_then_pause
    models = {'B': CompactGRM.create(image_size=[32, 24], task='B', dim=48),
              'A': CompactGRM.create(task='A')}
    references = {k: [np.full((24, 32, 3), v, np.uint8)] * 2 for k, v in (('A', 10), ('B', 200))}
    saves = 0
    while True:
        name = 'AB'[saves % 2 == 0]
        models[name].save(folder, references[name], extra={'saves': saves})
        saves += 1
        if point == 'loop':
            print('SAVED', saves, flush=True)
        else:
            print('DONE', flush=True)
            break
""")


def model_a(folder):
    model = CompactGRM.create(task='A')
    model.save(folder, [np.full((24, 32, 3), 10, np.uint8)] * 2)
    (folder / 'report.md').write_text('report of A\n')
    (folder / 'plots').mkdir()
    (folder / 'plots' / 'loss.txt').write_text('0.1\n')
    return model


def check_whole(folder, expect=None):
    """Load the folder; it must be one model whole, A or B; return its name."""
    model = CompactGRM.load(folder)
    name = model.config['task']
    assert name in ('A', 'B') and (expect is None or name == expect), name
    assert model.config['image_size'] == ([64, 48] if name == 'A' else [32, 24])
    value = {'A': 10, 'B': 200}[name]
    assert all(int(r.mean()) == value for r in model.saved_references(folder))
    assert (folder / 'report.md').read_text() == 'report of A\n'
    assert (folder / 'plots' / 'loss.txt').read_text() == '0.1\n'
    return name, model


def start_child(folder, point):
    return subprocess.Popen([sys.executable, '-c', CHILD, str(folder), point],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))


def read_line(child, timeout=120.0):
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    if not ready:
        child.kill()
        pytest.fail(f'child said nothing for {timeout} s')
    return child.stdout.readline().strip()


def kill(child):
    child.kill()                      # SIGKILL
    assert child.wait(timeout=30) == -9


@pytest.mark.parametrize('point', ['weights', 'references', 'before-swap'])
def test_kill_mid_save_leaves_the_previous_model(tmp_path, point):
    folder = tmp_path / 'compact'
    before = model_a(folder)
    child = start_child(folder, point)
    assert read_line(child) == f'PAUSED {point}'
    kill(child)
    name, model = check_whole(folder, expect='A')
    for key, value in before.net.state_dict().items():
        assert model.net.state_dict()[key].equal(value)
    # the next save cleans up what the killed one left beside the folder
    CompactGRM.create(task='A').save(folder)
    assert not list(tmp_path.glob('.compact.*'))


def test_save_replaces_the_model_whole_and_keeps_the_reports(tmp_path):
    folder = tmp_path / 'compact'
    model_a(folder)
    child = start_child(folder, 'none')
    assert read_line(child) == 'DONE'
    assert child.wait(timeout=30) == 0
    check_whole(folder, expect='B')
    assert not list(tmp_path.glob('.compact.*'))


def test_kill_while_saving_in_a_loop(tmp_path):
    """Killed right after its k-th save, i.e. somewhere inside the next one."""
    folder = tmp_path / 'compact'
    model_a(folder)
    seen = set()
    for k in (1, 4, 9):
        child = start_child(folder, 'loop')
        while read_line(child) != f'SAVED {k}':
            pass
        kill(child)
        seen.add(check_whole(folder)[0])
    assert seen <= {'A', 'B'}


def test_without_rename_exchange_a_kill_between_renames_is_named(tmp_path):
    folder = tmp_path / 'compact'
    model_a(folder)
    child = start_child(folder, 'between-renames')
    assert read_line(child) == 'PAUSED between-renames'
    kill(child)
    with pytest.raises(FileNotFoundError, match=r'no such model folder \(a save into it was '
                                                r'interrupted; the previous model is at .*'
                                                r'\.compact\.previous: rename it to compact\)'):
        CompactGRM.load(folder)
    os.replace(tmp_path / '.compact.previous', folder)
    check_whole(folder, expect='A')


def test_failed_save_leaves_the_folder_untouched(tmp_path):
    folder = tmp_path / 'compact'
    model_a(folder)
    with pytest.raises(RuntimeError, match='disk full'):
        with replace_folder(folder) as new:
            (new / 'config.json').write_text('{}')
            raise RuntimeError('disk full')
    check_whole(folder, expect='A')
    assert not list(tmp_path.glob('.compact.*')) and interrupted_save_hint(folder) == ''
    with pytest.raises(NotADirectoryError, match='exists and is not a folder'):
        with replace_folder(folder / 'report.md'):
            pass
    assert Path(folder / 'report.md').is_file()
