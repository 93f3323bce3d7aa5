# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The actor of a remote learner (rl/remote_actor.py): episodes out in order, weights in.

The learner side is the real RemoteLearner over a real LearnerThread; only the graph between
them (learner_node's service and topics) is left out: the ROS tier runs that.
"""

import time

import pytest
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.delivery import Outbox
from robodopamine_ros.rl.remote_actor import NO_LEARNER, RemoteActor, RemoteConfig, SILENT_S
from robodopamine_ros.rl.wire import pack_weights, weights_spec
from test_remote_learner import CONFIG, episode, remote, SHAPES, SPEC
import torch

torch.set_num_threads(1)


def actor(tmp_path, name='arm1', **config):
    return RemoteActor(Outbox(tmp_path / name / 'outbox', config.pop('capacity', 100)), SPEC,
                       RemoteConfig(robot_id=name, **config))


def deliver(arm, learner, now):
    """Send what the arm has, one at a time, as rl_agent_node's delivery timer does."""
    while (item := arm.next_send(now)) is not None:
        uid, data = item
        receipt = learner.receive(data)
        arm.answered(uid, receipt.status, receipt.message, learner.thread.total_updates, now)


def test_two_arms_feed_one_learner_and_get_its_weights(tmp_path):
    learner = remote(tmp_path, checkpoint_every=100)
    arms = [actor(tmp_path, name) for name in ('arm1', 'arm2')]
    for n, arm in enumerate(arms):
        for k in range(3):
            arm.add_episode(episode(10 * n + k))
        assert arm.backlog == 3 and arm.status(0.0)[0] == 'error'   # no learner yet
        assert NO_LEARNER in arm.status(0.0)[1]
        deliver(arm, learner, 1.0)
        assert arm.backlog == 0 and arm.sent['stored'] == 3
    assert {r: c['stored'] for r, c in learner.received.items()} == {'arm1': 3, 'arm2': 3}
    deadline, newest = time.monotonic() + 30, None
    while newest is None:   # the thread's first update after the episodes (polled)
        newest = learner.weights(now=5.0)
        assert time.monotonic() < deadline, 'no weights from the learner'
    version, data = newest
    for arm in arms:
        assert arm.receive_weights(data, 5.0) == version
        state, got = arm.take_weights()
        assert got == version and arm.take_weights() is None
        assert arm.receive_weights(data, 6.0) is None    # the same version again: nothing new
    learner.stop()


def test_episodes_go_in_order_one_at_a_time_and_a_lost_answer_sends_again(tmp_path):
    arm = actor(tmp_path, retry_s=1.0, send_timeout_s=10.0)
    for k in range(3):
        arm.add_episode(episode(k))
    first = arm.next_send(0.0)
    assert arm.next_send(0.0) is None                 # one in flight at a time
    assert arm.overdue(5.0) is None and arm.overdue(10.5) == first[0]
    arm.send_failed(first[0], 10.5)
    assert arm.next_send(11.0) is None                 # retried after retry_s
    again = arm.next_send(11.6)
    assert again == first                              # the same episode, the same bytes
    arm.answered(first[0], 'stored', 'ok', 7, 12.0)
    arm.answered(first[0], 'duplicate', 'stored before', 7, 12.1)   # a late second answer
    second = arm.next_send(12.2)
    assert second[0] != first[0] and arm.backlog == 2
    line = arm.answered(second[0], 'refused', 'arm1 episode 1: field obs/state ...', 7, 12.3)
    assert 'refused episode' in line and 'not sent again' in line
    assert arm.backlog == 1 and (arm.outbox.folder / 'refused').is_dir()
    assert len(list((arm.outbox.folder / 'refused').iterdir())) == 1
    assert arm.sent == {'stored': 1, 'duplicate': 1, 'refused': 1, 'failed': 1}


def test_the_outbox_survives_a_restart_of_the_actor(tmp_path):
    arm = actor(tmp_path)
    arm.add_episode(episode(1))
    arm.add_episode(episode(2))
    uids = list(arm.outbox.entries)
    again = actor(tmp_path)                            # the node restarted: nothing lost
    assert list(again.outbox.entries) == uids and again.next_send(0.0)[0] == uids[0]


def test_weights_of_another_policy_are_refused_naming_both(tmp_path):
    arm = actor(tmp_path)
    other = weights_spec('calql', 'cameras', {'state': (4,)}, 4)
    state = Learner(CONFIG, SHAPES, capacity=10).actor_state()
    with pytest.raises(ValueError, match='"observation": "cameras".*this actor is.*"robot"'):
        arm.receive_weights(pack_weights(state, 3, other), 1.0)
    assert arm.version is None and arm.take_weights() is None


def test_hold_until_the_first_weights_and_while_the_outbox_is_full(tmp_path):
    arm = actor(tmp_path, wait='hold', capacity=2)
    assert 'first weights' in arm.ready() and not arm.online
    state = Learner(CONFIG, SHAPES, capacity=10).actor_state()
    assert arm.receive_weights(pack_weights(state, 4, SPEC), 1.0) == 4
    assert arm.ready() is True
    arm.add_episode(episode(1))
    arm.add_episode(episode(2))
    assert 'outbox' in arm.ready() and 'full' in arm.ready()
    assert 'outbox full' in arm.status(1.5)[1]
    assert actor(tmp_path / 'b', wait='act').ready() is True   # acts on its initial weights


def test_diagnostics_say_when_the_weights_fall_behind_or_the_learner_goes_silent(tmp_path):
    arm = actor(tmp_path, max_lag=100)
    state = Learner(CONFIG, SHAPES, capacity=10).actor_state()
    arm.receive_weights(pack_weights(state, 50, SPEC), 10.0)
    arm.learner_status(120, 10.0)
    level, message, values = arm.status(10.5)
    assert level == 'ok' and values['weights_behind'] == '70'
    arm.learner_status(151, 11.0)
    level, message, values = arm.status(11.5)
    assert level == 'warn' and '101 learner updates behind' in message
    level, message, _ = arm.status(11.0 + SILENT_S + 1)
    assert level == 'warn' and 'no word from the learner' in message


def test_bad_remote_settings_are_refused_naming_the_parameter():
    with pytest.raises(ValueError, match='remote_wait'):
        RemoteConfig(wait='sometimes')
    with pytest.raises(ValueError, match='max_weights_lag'):
        RemoteConfig(max_lag=0)
    with pytest.raises(ValueError, match='robot_id'):
        RemoteConfig(robot_id='')
