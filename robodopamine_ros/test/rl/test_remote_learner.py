# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The learner apart from the robots, ROS-free (rl/remote_learner.py).

Episodes from several actors stored once each, a restart from checkpoint and journal,
rate-limited weights.
"""

import time

import numpy as np
import pytest
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.delivery import Inbox
from robodopamine_ros.rl.learner_thread import LearnerThread
from robodopamine_ros.rl.remote_learner import learner_ledger, RemoteLearner
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.wire import pack_episode, unpack_weights, weights_spec

SHAPES = {'state': (4,)}
CONFIG = AgentConfig(algorithm='calql', hidden=(16, 16), batch_size=8)
SPEC = weights_spec('calql', 'robot', SHAPES, 4)


def episode(episode_id, steps=5, state_size=4):
    rng = np.random.default_rng(episode_id)
    obs = [{'state': rng.normal(size=state_size).astype(np.float32)} for _ in range(steps + 1)]
    out = Episode(episode_id)
    for t in range(steps):
        out.add(obs[t], rng.uniform(-1, 1, 4), obs[t + 1], 0.1, False, t == steps - 1)
    return out


def remote(tmp_path, learner=None, ledger=(), **kwargs):
    learner = learner or Learner(CONFIG, SHAPES, capacity=1000)
    thread = LearnerThread(learner, publish_every=1)
    return RemoteLearner(thread, Inbox(tmp_path / 'journal', ledger), tmp_path / 'ckpt', SPEC,
                         log=lambda line: None, **kwargs).start()


def test_episodes_of_two_arms_are_stored_once_and_a_bad_one_never(tmp_path):
    learner = remote(tmp_path, checkpoint_every=100)
    sent = {arm: [pack_episode(episode(k + 10 * n), arm) for k in range(3)]
            for n, arm in enumerate(('arm1', 'arm2'))}
    for arm in sent:
        for uid, data in sent[arm]:
            receipt = learner.receive(data)
            assert (receipt.status, receipt.robot_id, receipt.uid) == ('stored', arm, uid)
    again = learner.receive(sent['arm1'][0][1])          # the ack was lost: sent again
    assert again.status == 'duplicate' and again.acknowledged
    bad = learner.receive(pack_episode(episode(99, state_size=5), 'arm2')[1])
    assert bad.status == 'refused' and not bad.acknowledged
    assert 'arm2 episode 99: field obs/state is float32 (6, 5)' in bad.message
    assert learner.receive(b'not an episode').status == 'refused'
    assert learner.checkpoint() is not None    # stores what the thread has not taken yet
    learner.stop()
    assert learner.received['arm1'] == {'stored': 3, 'duplicate': 1, 'refused': 0, 'steps': 15}
    assert learner.received['arm2']['refused'] == 1
    assert learner.learner.counters['episodes'] == 6 and len(learner.learner.online) == 30


def test_a_learner_killed_between_checkpoints_restarts_with_every_episode_once(tmp_path):
    first = remote(tmp_path, checkpoint_every=2)
    packed = [pack_episode(episode(k), 'arm1') for k in range(5)]
    for _, data in packed:
        assert first.receive(data).status == 'stored'
    first.thread.stop()   # kill -9 here: 4 episodes checkpointed, the 5th in the journal only
    resumed, extra = Learner.resume(tmp_path / 'ckpt', SHAPES, capacity=1000)
    assert len(learner_ledger(extra)) == 4 and len(resumed.online) == 20
    second = remote(tmp_path, learner=resumed, ledger=learner_ledger(extra),
                    checkpoint_every=2)
    assert len(second.learner.online) == 25 and second.learner.counters['episodes'] == 5
    # the actor never got the 5th's ack and sends it again, with the 2nd: both duplicates
    assert [second.receive(packed[k][1]).status for k in (4, 1)] == ['duplicate'] * 2
    assert second.receive(pack_episode(episode(7), 'arm2')[1]).status == 'stored'
    second.checkpoint()
    second.stop()
    assert len(second.learner.online) == 30


def test_weights_go_out_when_new_at_most_once_a_period_with_their_spec(tmp_path):
    learner = remote(tmp_path, weights_period_s=1.0)
    learner.receive(pack_episode(episode(1), 'arm1')[1])
    deadline = time.monotonic() + 30
    initial = learner.weights(now=100.0)   # at start: the weights as they are (version 0)
    assert initial is not None, 'a learner publishes its weights at start'
    first = None
    while first is None or first[0] < 1:   # an update after the episode arrived (polled)
        first = learner.weights(now=200.0)
        assert time.monotonic() < deadline, 'no weights from the learner'
    version, data = first
    state, got = unpack_weights(data, SPEC)
    assert got == version >= 1 and set(state)
    assert learner.weights(now=200.5) is None           # inside the period: nothing
    with pytest.raises(ValueError, match='this actor is'):
        unpack_weights(data, weights_spec('conrft', 'robot', SHAPES, 4))
    learner.stop()
