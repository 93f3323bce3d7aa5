# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Ctrl-C keeps what was learned, a resume logs no episode twice, and the learner says what it does.

Issue 30, items 4, 5 and 7 (rl/saving.py save_at_exit, rl/episode_cycle.py, rl/logs.py,
rl/learner_thread.py LearnerThread, rl/demonstrations.py fill_demo_buffer).
"""

import threading
import time

import numpy as np
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.demonstrations import fill_demo_buffer
from robodopamine_ros.rl.episode_cycle import EpisodeCycle, episodes_done
from robodopamine_ros.rl.learner_thread import LearnerThread
from robodopamine_ros.rl.logs import read_log, TrainingLog
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.saving import CheckpointSaver, OFFLINE, SaveResult

SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='conrft', hidden=(16, 16), batch_size=8)
OBS = {'state': np.zeros(4, np.float32)}


def demo_learner():
    learner = Learner(CONFIG, SHAPES, capacity=100)
    demo = Episode(-1, demo=True)
    for t in range(10):
        demo.add(OBS, [0.5, 0.0, 0.0, 1.0], OBS, float(t == 9), terminal=t == 9,
                 truncated=False, success=t == 9)
    learner.add_episode(demo)
    return learner


class Saving:
    """A learner whose save waits for `release` (a full buffer being written)."""

    def __init__(self):
        self.release, self.saves = threading.Event(), []

    def save(self, folder, extra=None):
        assert self.release.wait(30)
        self.saves.append(extra)
        return f'{folder}/checkpoint.pt'


def test_the_exit_save_waits_for_a_running_periodic_save_then_writes_its_own(tmp_path):
    learner = Saving()
    saver = CheckpointSaver(learner)
    assert saver.save_later(tmp_path, {'periodic': True})
    threading.Timer(0.2, learner.release.set).start()   # the periodic save ends meanwhile
    result = saver.save_at_exit(tmp_path, {'exit': True}, timeout_s=30)
    assert result == SaveResult(True, f'{tmp_path}/checkpoint.pt')
    assert learner.saves == [{'periodic': True}, {'exit': True}]


def test_the_exit_save_is_bounded_in_time_and_keeps_the_previous_checkpoint(tmp_path):
    learner = Saving()   # never released: a disk that hangs
    started = time.monotonic()
    result = CheckpointSaver(learner).save_at_exit(tmp_path, timeout_s=0.5)
    assert time.monotonic() - started < 5.0
    assert not result.ok and result.message == (
        f'the checkpoint into {tmp_path} did not finish in 0.5 s: the previous checkpoint is '
        'kept')
    learner.release.set()


def test_no_checkpoint_in_the_middle_of_the_offline_stage(tmp_path):
    thread = LearnerThread(demo_learner(), pretrain_updates=50, offline_updates=50)
    thread.learner.counters['updates'] = 50   # imitation done, offline RL to come
    assert thread.mid_offline and not thread.online
    saver = CheckpointSaver(thread)
    for result in (saver.save_at_exit(tmp_path), saver.save(tmp_path)):
        assert result == OFFLINE and 'no checkpoint during the offline stage' in result.message
    assert not saver.save_later(tmp_path)
    assert not (tmp_path / 'checkpoint.pt').exists()
    assert not CheckpointSaver(Saving()).save_at_exit('').ok


def test_a_stopped_learner_thread_saves_its_total_updates_and_says_so(tmp_path):
    logged = []
    thread = LearnerThread(demo_learner(), pretrain_updates=20, offline_updates=30,
                           log=logged.append).start()
    try:
        deadline = time.monotonic() + 60
        while thread.updates < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        thread.stop()
    assert thread.online and thread.total_updates == 50 + thread.updates   # offline included
    assert logged[0] == 'imitation: 20 updates on the demo buffer (10 transitions)'
    assert logged[1].startswith('imitation done in ') and logged[1].endswith(
        's; offline RL: 30 updates on the demo buffer (10 transitions)')
    assert logged[2].startswith('offline RL done in ') and logged[2].endswith(
        'offline stage over (50 updates): online learning')
    result = CheckpointSaver(thread).save_at_exit(tmp_path, {'episodes_done': 0})
    assert result.ok
    resumed, _ = Learner.resume(tmp_path, SHAPES, capacity=100)
    assert resumed.counters['updates'] == thread.total_updates
    assert thread.describe() == (f'0 episodes, {thread.total_updates} updates, demo buffer 10 '
                                 'transitions, online buffer 0')


def test_a_stop_during_the_offline_stage_leaves_it_to_the_next_launch():
    logged = []
    thread = LearnerThread(demo_learner(), offline_updates=10 ** 6, log=logged.append)
    thread._stop.set()   # Ctrl-C before the first chunk ran
    thread.start()
    thread.thread.join(30)
    assert not thread.online and thread.total_updates == 0
    assert not thread.mid_offline   # nothing learned yet: a checkpoint would rerun it whole
    assert logged[-1] == 'offline stage stopped in offline RL (shutdown): it runs again at the ' \
                         'next launch'


def test_a_resume_continues_the_numbering_and_drops_the_rows_logged_after_its_checkpoint(
        tmp_path):
    cycle = EpisodeCycle(checkpoint_every=3)
    log = TrainingLog(tmp_path, tensorboard=False)
    extra = None
    for k in range(1, 6):   # episode 2 ended held throughout: no step, never stored
        episode = cycle.next_episode_id()
        log.episode({'steps': 0 if k == 2 else 6, 'episode': episode, 'updates': 10 * k})
        if cycle.finished(False):
            extra = cycle.checkpoint_extra({'joint_names': ['a']})   # after episode 3
    log.close()
    assert extra == {'joint_names': ['a'], 'episodes_done': 3}
    counters = {'episodes': 2}   # the learner stored episodes 1 and 3
    done = episodes_done(counters, extra)
    assert done == 3 and episodes_done(counters, None) == 2   # the ROS-free trainer's
    resumed = TrainingLog(tmp_path, tensorboard=False)
    resumed.truncate_after(done)
    resumed_cycle = EpisodeCycle(done, checkpoint_every=3)
    for _ in range(2):
        episode = resumed_cycle.next_episode_id()
        resumed.episode({'steps': 6, 'episode': episode, 'updates': 99})
        resumed_cycle.finished(False)
    resumed.close()
    assert [row['episode'] for row in read_log(tmp_path)] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [row['updates'] for row in read_log(tmp_path)] == [10.0, 20.0, 30.0, 99.0, 99.0]


def test_the_demo_buffer_says_where_it_came_from_and_ignored_bags():
    shaping = ShapingConfig(gamma=CONFIG.gamma)
    learner = demo_learner()   # as resumed: its checkpoint holds the demonstrations
    lines = fill_demo_buffer(learner, ['/nowhere/demo1'], ('j1',), shaping,
                             checkpoint='ckpt/checkpoint.pt')
    assert lines == [
        ('info', 'demo buffer: 10 transitions from the checkpoint ckpt/checkpoint.pt'),
        ('warn', 'demos ignored (/nowhere/demo1): the demo buffer comes from the checkpoint '
                 'ckpt/checkpoint.pt; to start from these bags, use another checkpoint_dir')]
    assert len(learner.demo) == 10   # the bag was never read
    empty = Learner(CONFIG, SHAPES, capacity=100)
    assert fill_demo_buffer(empty, ['', ''], ('j1',), shaping) == [
        ('info', 'demo buffer: empty (no demos:= bags)')]
