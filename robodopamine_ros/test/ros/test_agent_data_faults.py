# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Issue 29 over real DDS, data items: NaN joint positions (11), checkpoint saves (15), log rows.

A joint_states message with NaN positions stops the arm at once with the joints named, until a
finite one arrives. ``~/save_checkpoint`` is answered in a thread of its own: a save waiting for
the learner (here: the test holds its lock) never holds the control tick, and a save that cannot
be written answers false with why; the node goes on. An episode whose log row cannot be written
still counts.
"""

from geometry_msgs.msg import PoseStamped
import pytest
import rclpy
from rclpy.parameter import Parameter
from robodopamine_interfaces.msg import ActionStamped, RewardStamped
from robodopamine_ros.nodes.rl_agent_node import RLAgentNode
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger


class Feeder:
    """Joint states (positions settable), the hand pose and rewards of episode 1, at 20 Hz."""

    def __init__(self, context, background):
        self.node = rclpy.create_node('rd_test_data_feeder', context=context)
        self.joints = self.node.create_publisher(JointState, 'joint_states', 10)
        self.pose_pub = self.node.create_publisher(PoseStamped, 'robodopamine/ee_pose', 10)
        self.reward = self.node.create_publisher(RewardStamped, 'reward', 10)
        self.positions = [0.1] * len(JOINT_NAMES)
        self.node.create_timer(0.05, self._publish)
        background.add_node(self.node)

    def _publish(self):
        stamp = self.node.get_clock().now().to_msg()
        joints = JointState(name=list(JOINT_NAMES), position=list(self.positions))
        pose = PoseStamped()
        pose.header.frame_id = 'base'
        pose.pose.position.y, pose.pose.position.z = 0.6, 0.2
        pose.pose.orientation.w = 1.0
        joints.header.stamp = pose.header.stamp = stamp
        self.joints.publish(joints)
        self.pose_pub.publish(pose)
        reward = RewardStamped(episode_id=1, progress_before=0.2, progress_after=0.2,
                               reward=-0.004, gamma=0.99)
        reward.header.stamp = reward.progress_stamp = stamp
        self.reward.publish(reward)


@pytest.fixture
def agent_with(ros_context, background):
    started = []

    def start(checkpoint_dir=''):
        agent = RLAgentNode(context=ros_context, parameter_overrides=[
            Parameter('mode', value='eval'), Parameter('reset_service', value=''),
            Parameter('max_steps', value=100000), Parameter('observation_timeout', value=0.5),
            Parameter('reward_timeout', value=0.5),
            Parameter('checkpoint_dir', value=str(checkpoint_dir))])
        probe = rclpy.create_node('rd_test_data_faults', context=ros_context)
        commands = []
        probe.create_subscription(ActionStamped, 'command', background.collector(commands),
                                  100)
        for node in (probe, agent):
            background.add_node(node)
        feeder = Feeder(ros_context, background)
        started.extend([agent, probe, feeder.node])
        agent.loop.start_episode(1)
        background.wait_until(lambda: commands and commands[-1].source == 'policy',
                              what='policy commands')
        return agent, probe, feeder, commands
    yield start
    background.shutdown()
    for node in started:
        node.destroy_node()


def test_nan_joint_positions_stop_the_arm_naming_the_joints(agent_with, background):
    agent, _, feeder, commands = agent_with()
    feeder.positions = [0.1] * 7 + [float('nan')] * 2
    background.wait_until(lambda: commands[-1].source == 'stop', what='a stop on NaN joints')
    assert "positions of ['r_close', 'l_close'] are not finite" in \
        agent.watchdog.bad['observation']
    assert agent.joints is None or all(v == v for v in agent.joints)   # never stored
    feeder.positions = [0.1] * 9
    count = len(commands)
    background.wait_until(lambda: any(c.source == 'policy' for c in commands[count:]),
                          what='the policy with finite joints')


def test_a_save_never_holds_the_tick_and_a_failed_one_answers_false(
        agent_with, background, tmp_path):
    blocker = tmp_path / 'not_a_folder'
    blocker.write_text('a file where the checkpoint folder should be\n')
    agent, probe, _, commands = agent_with(checkpoint_dir=blocker / 'ckpt')
    save = probe.create_client(Trigger, 'rl_agent_node/save_checkpoint')
    background.wait_until(save.service_is_ready, what='the save service')
    with agent.learner.lock:   # the learner is busy: the save waits for it
        future = save.call_async(Trigger.Request())
        background.wait_until(lambda: agent.saver.busy, what='the save to start')
        count = len(commands)
        background.wait_until(lambda: len(commands) >= count + 10,
                              what='ten control ticks while the save waits')
        assert not future.done()
    background.wait_until(future.done, what='the answer')
    answer = future.result()
    assert not answer.success
    assert answer.message.startswith(f'cannot save a checkpoint into {blocker}/ckpt: ')
    assert answer.message.endswith('the previous checkpoint is kept')
    count = len(commands)
    background.wait_until(lambda: any(c.source == 'policy' for c in commands[count:]),
                          what='the node acting after the failed save')


def test_an_episode_row_that_cannot_be_written_costs_the_row_not_the_episode(ros_context,
                                                                             tmp_path):
    logs = tmp_path / 'logs'
    (logs / 'episodes.csv').mkdir(parents=True)   # the CSV cannot be opened: an OSError
    agent = RLAgentNode(context=ros_context, parameter_overrides=[
        Parameter('mode', value='train'), Parameter('reset_service', value=''),
        Parameter('log_dir', value=str(logs)),
        Parameter('checkpoint_dir', value=str(tmp_path / 'ckpt'))])
    try:
        done = agent.cycle.episodes_done
        agent._finish_episode({'episode_id': 1, 'steps': 3, 'success': False, 'return': 0.1,
                               'final_progress': 0.2, 'intervention_rate': 0.0})
        assert agent.cycle.episodes_done == done + 1   # counted: the cycle goes on
        assert (logs / 'episodes.csv').is_dir()        # nothing written over
    finally:
        agent.destroy_node()
