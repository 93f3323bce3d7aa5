# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Small inputs made safe (issue 29, "also"): corpus task names, terminal text, stale .tmp files.

A corpus.json task name is a folder name; text from files is printed with its control
characters escaped; a writer killed mid-write leaves a temporary file that the next write of
the same path removes (a real process killed with SIGKILL).
"""

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.commands.terminal import printable
from robodopamine_ros.data.atomic import atomic_path, remove_stale, STALE_AGE_S
from robodopamine_ros.data.corpus import task_folder
from robodopamine_ros.data.keyframes import save_keyframes, Segment


@pytest.mark.parametrize('name', ['../outside', '/etc', 'a/b', 'a\\b', '..', '.', '', 7,
                                  'nul\0byte'])
def test_corpus_task_names_with_path_separators_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match=r'corpus.json: task name .* is not a folder name'):
        task_folder(tmp_path, name)
    assert task_folder(tmp_path, 'peg-insert-side-v3') == tmp_path / 'peg-insert-side-v3'


def test_a_corpus_naming_a_folder_outside_is_refused(tmp_path):
    from robodopamine_ros.grm.pretrain import Corpus
    (tmp_path / 'corpus.json').write_text(json.dumps({
        'format': 'robodopamine-grm-corpus', 'settings': {'image_size': [64, 48]},
        'tasks': {'../elsewhere': {}}}))
    with pytest.raises(ValueError, match=r"task name '\.\./elsewhere' is not a folder name"):
        Corpus(tmp_path, (64, 48))


def test_control_characters_are_escaped():
    assert printable('insert the peg') == 'insert the peg'
    assert printable('a\x1b[2Jb\rc\nd\u2028e\x9b') == 'a\\x1b[2Jb\\rc\\nd\\u2028e\\x9b'


def test_demo_info_never_prints_an_escape_sequence(tmp_path, make_episode, capsys):
    from robodopamine_ros.data import bag_writer
    bag = bag_writer.write_episode(tmp_path / 'demo', make_episode(num_frames=6), storage='mcap')
    save_keyframes(bag / 'annotated_keyframes.json', [Segment(0, 2, 'reach\x1b[2J'),
                                                      Segment(2, 5, 'insert')])
    (bag / 'task_instruction.json').write_text(json.dumps(['clear\x1b]0;owned\x07 it']))
    assert cli.main(['demo-info', str(bag)]) == 0
    out = capsys.readouterr().out
    assert '\x1b' not in out and '\x07' not in out
    assert 'reach\\x1b[2J: 0..2' in out and 'clear\\x1b]0;owned\\x07 it' in out


CHILD = textwrap.dedent("""
    import sys
    from robodopamine_ros.data.atomic import atomic_path
    with atomic_path(sys.argv[1]) as tmp:
        tmp.write_bytes(b'half of it')
        print('WRITING', tmp, flush=True)
        sys.stdin.read()   # until killed
""")


def test_a_killed_writers_tmp_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / 'checkpoint.pt'
    target.write_bytes(b'previous')
    child = subprocess.Popen([sys.executable, '-c', CHILD, str(target)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = child.stdout.readline().split()
    finally:
        child.kill()
        child.wait(timeout=30)
    assert line[0] == 'WRITING' and os.path.exists(line[1])
    old_style = tmp_path / '.checkpoint.pt.abc123.tmp'   # before the process id was in it
    old_style.write_bytes(b'x')
    os.utime(old_style, (time.time() - STALE_AGE_S - 10,) * 2)
    mine = tmp_path / f'.checkpoint.pt.{os.getpid()}.live.tmp'   # a live writer's
    mine.write_bytes(b'x')
    with atomic_path(target) as tmp:
        tmp.write_bytes(b'new')
    assert target.read_bytes() == b'new'
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['checkpoint.pt', mine.name])
    assert remove_stale(target) == []
