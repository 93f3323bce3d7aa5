# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
learner_node and rl_agent_node with learner 'remote', over real DDS (issue 32).

learner_node is fed by two arms (probes sending packed episodes, as rl_agent_node does) and
answers each with stored / duplicate / refused; its weights come out versioned and fit the
arms' spec; a new learner_node on the same folder has every acknowledged episode, and so does
one restarted after SIGKILL (its checkpoint, then its journal), none stored twice. An actor
with no learner runs episodes on its initial weights, says so once a second in /diagnostics,
keeps them on disk, and sends them when a learner appears, then acts on its weights.
"""

import array
import json
from pathlib import Path
import signal
import subprocess

from ament_index_python.packages import get_package_prefix
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import EpisodeSummary, LearnerStatus, PolicyWeights
from robodopamine_interfaces.srv import SubmitEpisode
from robodopamine_ros.nodes.conversions import LATCHED
from robodopamine_ros.nodes.learner_node import LearnerNode
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.rl.wire import pack_episode, unpack_weights, weights_spec
from test_agent import AGENT, graph  # noqa: F401  (the fixture)

SHAPES = RLAgentSettings().state_shape()
SPEC = weights_spec('calql', 'robot', SHAPES, 4)
LEARNER = {'batch_size': 16, 'weights_rate': 20.0, 'checkpoint_every': 2,
           'pretrain_updates': 0, 'offline_updates': 0}


def learner_node(context, folder, **parameters):
    values = dict(LEARNER, checkpoint_dir=str(folder), **parameters)
    return LearnerNode(context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in values.items()])


def episode(episode_id, steps=6, size=SHAPES['state'][0]):
    rng = np.random.default_rng(episode_id)
    obs = [{'state': rng.normal(size=size).astype(np.float32)} for _ in range(steps + 1)]
    out = Episode(episode_id)
    for t in range(steps):
        out.add(obs[t], rng.uniform(-1, 1, 4), obs[t + 1], 0.1, False, t == steps - 1)
    return out


def with_nan(packed):
    """Return the packed episode with a NaN in its observations, as a broken actor sends."""
    from safetensors.numpy import load, save

    uid, data = packed
    arrays = load(data)
    arrays['obs/state'][2, 0] = np.nan
    header = json.loads(data[8:8 + int.from_bytes(data[:8], 'little')])
    return uid, save(arrays, header['__metadata__'])


def submit(background, client, robot, packed):
    uid, data = packed
    request = SubmitEpisode.Request(robot_id=robot, uid=uid, data=array.array('B', data))
    return background.call(client, request, f'submit_episode of {robot}')


def test_one_learner_stores_two_arms_episodes_once_refuses_bad_ones_and_sends_weights(
        ros_context, background, tmp_path):
    learner = learner_node(ros_context, tmp_path / 'learner')
    probe = rclpy.create_node('rd_test_arms', context=ros_context)
    weights, status = [], []
    probe.create_subscription(PolicyWeights, '/learner_node/policy_weights',
                              background.collector(weights), LATCHED)
    probe.create_subscription(LearnerStatus, '/learner_node/status',
                              background.collector(status), 10)
    client = probe.create_client(SubmitEpisode, '/learner_node/submit_episode')
    background.add_node(learner)
    background.add_node(probe)
    wait = background.wait_until
    wait(client.service_is_ready, what='learner_node/submit_episode')
    sent = {arm: [pack_episode(episode(10 * n + k), arm) for k in range(3)]
            for n, arm in enumerate(('arm1', 'arm2'))}
    for arm, packed in sent.items():
        for one in packed:
            answer = submit(background, client, arm, one)
            assert answer.status == 'stored', answer.message
    again = submit(background, client, 'arm1', sent['arm1'][0])   # its ack was lost
    assert again.status == 'duplicate'
    wrong = submit(background, client, 'arm2', pack_episode(episode(98, size=5), 'arm2'))
    assert wrong.status == 'refused' and 'arm2 episode 98' in wrong.message
    nan = submit(background, client, 'arm2', with_nan(pack_episode(episode(99), 'arm2')))
    assert nan.status == 'refused' and 'arm2 episode 99' in nan.message
    assert 'finite' in nan.message
    junk = submit(background, client, 'arm3', ('0' * 32, b'not an episode'))
    assert junk.status == 'refused'
    wait(lambda: weights and weights[-1].version > 0, timeout=30, what='versioned weights')
    state, version = unpack_weights(bytes(weights[-1].data), SPEC)
    assert version == weights[-1].version and set(state)
    wait(lambda: status and status[-1].episodes == 6 and status[-1].transitions == 36,
         timeout=10, what="the learner's status: 6 episodes of 6 steps")
    assert status[-1].stage == 'online' and status[-1].updates >= version
    assert learner.remote.received['arm2'] == {'stored': 3, 'duplicate': 0, 'refused': 2,
                                               'steps': 18}
    background.shutdown()
    learner.destroy_node()   # a clean shutdown writes a checkpoint
    probe.destroy_node()
    # a new learner on the same folder has every acknowledged episode: none stored twice
    again = learner_node(ros_context, tmp_path / 'learner')
    try:
        assert again.remote.receive(sent['arm2'][2][1]).status == 'duplicate'
        assert again.remote.status()['episodes'] == 6
    finally:
        again.destroy_node()


def test_an_actor_without_a_learner_runs_keeps_its_episodes_and_sends_them_when_one_comes(
        graph, ros_context, tmp_path, background):  # noqa: F811
    probe = rclpy.create_node('rd_test_actor_probe', context=ros_context)
    summaries, diagnostics = [], []
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    probe.create_subscription(DiagnosticArray, '/diagnostics',
                              background.collector(diagnostics), 50)
    background.add_node(probe)
    wait = background.wait_until
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter(k, value=v) for k, v in dict(
            AGENT, learner='remote', robot_id='arm1', remote_wait='act',
            log_dir=str(tmp_path / 'logs'),
            checkpoint_dir=str(tmp_path / 'ckpt')).items()])
    background.add_node(agent)
    outbox, learner = tmp_path / 'logs' / 'outbox', None

    def said(text):
        return [s for d in diagnostics for s in d.status
                if s.name.endswith('remote learner') and text in s.message]
    try:
        wait(lambda: len(summaries) >= 2, timeout=60, what='two episodes on initial weights')
        wait(lambda: said('no learner has answered yet'), timeout=5, what='the diagnostics')
        assert len(list(outbox.glob('*.episode'))) >= 2          # kept on disk, unsent
        assert not (tmp_path / 'ckpt' / 'checkpoint.pt').exists()  # checkpoints: the learner's
        learner = learner_node(ros_context, tmp_path / 'learner')
        background.add_node(learner)
        wait(lambda: learner.remote.received.get('arm1', {}).get('stored', 0) >= 2,
             timeout=30, what="the arm's waiting episodes at the learner")
        wait(lambda: agent.learner.version is not None, timeout=30,
             what="the learner's weights at the arm")
        wait(lambda: agent.actor.version == agent.learner.version, timeout=10,
             what='the control loop acting on them')
        count = len(summaries)
        wait(lambda: len(summaries) >= count + 1, timeout=60, what='an episode on them')
        assert agent.tick_error is None, agent.tick_error
        wait(lambda: said('weights version'), timeout=5, what='diagnostics with the weights')
        wait(lambda: not list(outbox.glob('*.episode')), timeout=30, what='an empty outbox')
        stored = learner.remote.received['arm1']['stored']
        assert stored >= 2 and learner.remote.received['arm1']['duplicate'] == 0
    finally:
        background.shutdown()
        agent.destroy_node()
        if learner is not None:
            learner.destroy_node()


def start_learner(folder, checkpoint_every):
    """learner_node as a process of its own (its executable, as the launch starts it)."""
    exe = Path(get_package_prefix('robodopamine_ros')) / 'lib' / 'robodopamine_ros' / \
        'learner_node'
    args = [str(exe), '--ros-args', '-p', f'checkpoint_dir:={folder}', '-p',
            f'checkpoint_every:={checkpoint_every}']
    for name, value in LEARNER.items():
        if name != 'checkpoint_every':
            args += ['-p', f'{name}:={value}']
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_learner_killed_with_sigkill_restarts_with_every_acknowledged_episode_once(
        ros_context, background, tmp_path):
    probe = rclpy.create_node('rd_test_kill_arm', context=ros_context)
    client = probe.create_client(SubmitEpisode, '/learner_node/submit_episode')
    status = []
    probe.create_subscription(LearnerStatus, '/learner_node/status',
                              background.collector(status), 10)
    background.add_node(probe)
    wait = background.wait_until
    sent = [pack_episode(episode(k), 'arm1') for k in range(5)]
    learner = start_learner(tmp_path / 'learner', checkpoint_every=3)
    try:
        wait(client.service_is_ready, timeout=60, what='learner_node/submit_episode')
        for one in sent:   # 3 go into a checkpoint, 2 into the journal only
            assert submit(background, client, 'arm1', one).status == 'stored'
        learner.send_signal(signal.SIGKILL)
        assert learner.wait(timeout=30) == -signal.SIGKILL
        print(learner.communicate()[0][-1500:])
        status.clear()
        learner = start_learner(tmp_path / 'learner', checkpoint_every=3)
        wait(lambda: status and status[-1].episodes == 5, timeout=60,
             what='the restarted learner holding the 5 acknowledged episodes')
        for one in sent:   # their acks were lost: sent again, none stored twice
            assert submit(background, client, 'arm1', one).status == 'duplicate'
        assert submit(background, client, 'arm1', pack_episode(episode(9), 'arm1')).status \
            == 'stored'
        wait(lambda: status[-1].episodes == 6, timeout=10, what='6 episodes')
    finally:
        if learner.poll() is None:
            learner.send_signal(signal.SIGINT)
            try:
                learner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                learner.kill()
        background.shutdown()
        probe.destroy_node()
