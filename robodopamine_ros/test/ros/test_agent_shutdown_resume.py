# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rl_agent_node over real DDS: a clean shutdown keeps what was learned; a resume logs no row twice.

Issue 30, items 4, 5 and 7: the last checkpoint at Ctrl-C, the log's numbering and ``updates``
column across a resume, and the lines that say so.
"""

from agent_feeders import EpisodeFeeder
from rcl_interfaces.msg import Log
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import EpisodeSummary
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.logs import read_log


def training_agent(context, tmp_path):
    """Return a training agent without grm_node (it starts its own episodes), 5 steps each."""
    return RLAgentNode(context=context, parameter_overrides=[
        Parameter(k, value=v) for k, v in {
            'mode': 'train', 'start_episode_service': '', 'reset_service': '',
            'max_steps': 5, 'batch_size': 16, 'pretrain_updates': 0, 'offline_updates': 0,
            'updates_per_step': 1, 'checkpoint_every': 2,
            'checkpoint_dir': str(tmp_path / 'ckpt'), 'log_dir': str(tmp_path / 'logs'),
        }.items()])


def test_ctrl_c_saves_a_checkpoint_and_the_resume_logs_each_episode_once(
        ros_context, tmp_path, background):
    probe = rclpy.create_node('rd_test_shutdown_probe', context=ros_context)
    summaries, logs = [], []
    probe.create_subscription(EpisodeSummary, 'episode_summary',
                              background.collector(summaries), 10)
    probe.create_subscription(Log, '/rosout', background.collector(logs), 100)
    background.add_node(probe)
    wait = background.wait_until

    def said(text):
        return any(text in m.msg for m in logs if m.name == 'rl_agent_node')

    first = training_agent(ros_context, tmp_path)   # the first launch: no checkpoint
    background.add_node(first)
    feeder = EpisodeFeeder(ros_context, background, first)
    wait(lambda: len(summaries) >= 3, timeout=60, what='three episodes')
    wait(lambda: said('checkpoint written: '), what='the periodic checkpoint said')
    periodic = Learner.read(tmp_path / 'ckpt')['counters']['updates']
    wait(lambda: first.learner.total_updates > periodic + 3, what='updates after it')
    # Ctrl-C: spin ends, the node is destroyed (nodes/spin.py)
    background.executor.remove_node(first)
    first.destroy_node()
    saved = Learner.read(tmp_path / 'ckpt')
    ended = first.cycle.episodes_done
    assert saved['counters']['updates'] == first.learner.total_updates > periodic
    assert saved['extra']['episodes_done'] == ended >= 3
    wait(lambda: said('shutdown: checkpoint written: '), what='the shutdown save said')
    assert said('demo buffer: empty (no demos:= bags)')
    before = read_log(tmp_path / 'logs')
    assert [r['episode'] for r in before] == [float(k) for k in range(1, ended + 1)]

    # the next launch resumes
    second = training_agent(ros_context, tmp_path)
    count = len(summaries)
    feeder.agent = second
    background.add_node(second)
    wait(lambda: len(summaries) >= count + 2, timeout=60, what='two episodes after the resume')
    background.executor.remove_node(second)
    second.destroy_node()
    assert said(f'resumed from {tmp_path / "ckpt" / "checkpoint.pt"}: ')
    rows = read_log(tmp_path / 'logs')
    episodes = [r['episode'] for r in rows]
    assert episodes == [float(k) for k in range(1, len(rows) + 1)]   # none twice, none lost
    assert len(rows) >= ended + 2
    updates = [r['updates'] for r in rows]
    # the learner's total: it goes on from the checkpoint's, never restarts at 0
    assert updates == sorted(updates) and updates[ended] >= saved['counters']['updates']
    feeder.node.destroy_node()
