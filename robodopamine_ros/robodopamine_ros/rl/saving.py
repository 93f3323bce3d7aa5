# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Checkpoints written beside control, never in its way, and never fatal (ROS-free).

A checkpoint of a full buffer takes seconds (2.7 s reported for one, issue 29);
in the thread that runs the control tick that is seconds without a command. And a disk that is
full, gone read-only or over quota makes ``torch.save`` raise (OSError, or RuntimeError from
its zip writer): raised in a node's callback, that ends the node with the arm in whatever
state its controller keeps. So ``CheckpointSaver``:

- ``save()`` writes one checkpoint and returns ``SaveResult`` (ok, message); a failure is a
  result, one line naming the folder and the cause, never an exception. The previous
  checkpoint stays: the write goes to a temporary file renamed only when complete
  (data/atomic.py), and a failed one's temporary file is removed.
- ``save_later()`` does the same in a thread of its own (the periodic checkpoint at the end of
  an episode) and hands the result to a callback; one save runs at a time, a second asked while
  one runs is refused (``busy``), not queued.

- ``save_at_exit()`` is the last checkpoint of a clean shutdown (Ctrl-C): bounded in time
  (EXIT_SAVE_S).
- None is written in the middle of the offline stage (begun, not finished: the learner's
  ``mid_offline``; its save returns None): a checkpoint with updates would make the next launch
  skip the rest of it; it then runs again whole. The result says so (``OFFLINE``);
  ``save_later()`` skips it.

rl_agent_node answers ``~/save_checkpoint`` from its own callback group, on another executor
thread than the control tick, with ``save()``; its periodic checkpoints use ``save_later()``.
"""

from dataclasses import dataclass
import threading
import time

# what torch.save and the filesystem raise for a write that cannot complete (ENOSPC, EROFS,
# EDQUOT, EFBIG: OSError; torch's zip writer: RuntimeError "file write failed")
SAVE_ERRORS = (OSError, RuntimeError)
# s: the checkpoint of a clean shutdown gets at most this long, a periodic save still running
# included (a full buffer took 2.7 s, issue 29); the launch gives rl_agent_node longer
# (launch/franka_insertion.launch.py)
EXIT_SAVE_S = 8.0
# s: rl_agent_node's whole cleanup at shutdown: the learner stopped, that save, the logs closed
EXIT_CLEANUP_S = EXIT_SAVE_S + 4.0


@dataclass(frozen=True)
class SaveResult:
    """What a save did: ok, and one line (the checkpoint's path, or why it failed)."""

    ok: bool
    message: str


# what a save during the offline stage answers (none is written)
OFFLINE = SaveResult(False, 'no checkpoint during the offline stage (imitation, offline RL): it '
                            'would skip the rest of it; it runs again whole at the next launch')


class CheckpointSaver:
    """Save a LearnerThread's learner without raising, and off the caller's thread on request."""

    def __init__(self, learner):
        """
        learner: anything with save(folder, extra) -> path (rl.learner_thread.LearnerThread).

        Its save may return None: nothing written, the offline stage is under way.
        """
        self.learner = learner
        self._running = threading.Lock()   # held while a save runs
        self.failures = 0
        self.last = None                   # the last SaveResult
        self._thread = None

    @property
    def busy(self):
        return self._running.locked()

    def save(self, folder, extra=None):
        """Write a checkpoint into folder now; return a SaveResult (never raises a save error)."""
        if not folder:
            return SaveResult(False, 'no checkpoint folder (parameter checkpoint_dir is empty)')
        if not self._running.acquire(blocking=False):
            return SaveResult(False, 'a checkpoint is being saved: try again when it is done')
        try:
            return self._save(folder, extra)
        finally:
            self._running.release()

    def save_later(self, folder, extra=None, done=None):
        """
        Write a checkpoint in a thread of its own; done(SaveResult) is called there.

        Returns False (and calls nothing) when a save is already running, or during the
        offline stage.
        """
        if self._offline() or not self._running.acquire(blocking=False):
            return False

        def work():
            try:
                result = self._save(folder, extra)
            finally:
                self._running.release()
            if done is not None:
                done(result)
        self._thread = threading.Thread(target=work, name='checkpoint', daemon=True)
        self._thread.start()
        return True

    def save_at_exit(self, folder, extra=None, timeout_s=EXIT_SAVE_S):
        """
        Write the last checkpoint of a clean shutdown; return a SaveResult, at most timeout_s.

        Call with the learner stopped (LearnerThread.stop). A periodic save still running is
        waited for first, within the same bound. None is written in the middle of the offline
        stage (the learner's ``mid_offline``): the result is OFFLINE. One that does not
        finish in time is a failure, the previous checkpoint kept (its temporary file goes at
        the next save: data/atomic.py). Time is monotonic.
        """
        if not folder:
            return SaveResult(False, 'no checkpoint folder (parameter checkpoint_dir is empty)')
        deadline = time.monotonic() + timeout_s
        results = []
        while not self.save_later(folder, extra, done=results.append):
            if self._offline():
                return OFFLINE
            if time.monotonic() >= deadline:   # the periodic save still runs
                break
            self.wait(max(0.0, min(0.1, deadline - time.monotonic())))
        self.wait(max(0.0, deadline - time.monotonic()))
        if results:
            return results[0]
        return SaveResult(False, f'the checkpoint into {folder} did not finish in {timeout_s} '
                                 's: the previous checkpoint is kept')

    def _offline(self):
        return getattr(self.learner, 'mid_offline', False)

    def wait(self, timeout=None):
        """Wait for a save_later() to finish (shutdown, tests); True when none runs."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy

    def _save(self, folder, extra):
        try:
            path = self.learner.save(folder, extra)
        except SAVE_ERRORS as error:
            self.failures += 1
            text = str(error).strip().splitlines()
            self.last = SaveResult(False, (
                f'cannot save a checkpoint into {folder}: {type(error).__name__}: '
                f'{text[0] if text else ""}; the previous checkpoint is kept'))
            return self.last
        self.last = OFFLINE if path is None else SaveResult(True, str(path))
        return self.last
