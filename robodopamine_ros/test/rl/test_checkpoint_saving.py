# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
A failed checkpoint save is a result, not a crash; saving is off the caller's thread.

Issue 29, item 15 (rl/saving.py).

The failure is real: a child process whose file size limit (RLIMIT_FSIZE, what a full disk does
to a write) is below the checkpoint's size.
"""

import json
import os
import subprocess
import sys
import textwrap
import threading

from robodopamine_ros.rl.saving import CheckpointSaver, SaveResult

CHILD = textwrap.dedent("""
    import json, resource, signal, sys
    sys.path.insert(0, sys.argv[2])
    from test_rl_learner import demo_learner
    from robodopamine_ros.rl.acting import Learner
    from robodopamine_ros.rl.saving import CheckpointSaver

    folder = sys.argv[1]
    saver = CheckpointSaver(demo_learner())
    first = saver.save(folder, {'round': 0})
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails (EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
    second = saver.save(folder, {'round': 1})
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    print(json.dumps({'first': first.ok, 'second': [second.ok, second.message],
                      'failures': saver.failures,
                      'kept': Learner.read(folder)['extra']['round']}))
""")


def test_a_save_that_cannot_be_written_answers_false_and_keeps_the_previous(tmp_path):
    here = os.path.dirname(os.path.abspath(__file__))
    result = subprocess.run([sys.executable, '-c', CHILD, str(tmp_path), here],
                            capture_output=True, text=True, timeout=120,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out['first'] is True and out['failures'] == 1 and out['kept'] == 0
    ok, message = out['second']
    assert not ok and message.startswith(f'cannot save a checkpoint into {tmp_path}: ')
    assert message.endswith('; the previous checkpoint is kept') and '\n' not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ['checkpoint.pt']   # no .tmp left


class SlowLearner:
    """Saves when released (a full buffer being written)."""

    def __init__(self):
        self.release, self.started, self.saves = threading.Event(), threading.Event(), 0

    def save(self, folder, extra=None):
        self.started.set()
        assert self.release.wait(30)
        self.saves += 1
        return f'{folder}/checkpoint.pt'


def test_save_later_runs_in_its_own_thread_one_at_a_time(tmp_path):
    learner = SlowLearner()
    saver = CheckpointSaver(learner)
    results = []
    assert saver.save_later(tmp_path, done=results.append)   # returns at once
    assert learner.started.wait(30) and saver.busy
    assert not saver.save_later(tmp_path)                    # refused, not queued
    assert saver.save(tmp_path) == SaveResult(False, 'a checkpoint is being saved: try again '
                                                     'when it is done')
    learner.release.set()
    assert saver.wait(30)
    assert results == [SaveResult(True, f'{tmp_path}/checkpoint.pt')] and learner.saves == 1
    assert saver.save('') == SaveResult(False, 'no checkpoint folder (parameter checkpoint_dir '
                                               'is empty)')
