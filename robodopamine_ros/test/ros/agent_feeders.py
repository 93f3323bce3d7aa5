# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Probe nodes that stand in for the robot's streams and grm_node around rl_agent_node."""

from geometry_msgs.msg import PoseStamped
import rclpy
from robodopamine_interfaces.msg import ProgressStamped, RewardStamped
from robodopamine_interfaces.srv import StartEpisode
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from sensor_msgs.msg import JointState


class EpisodeFeeder:
    """Joint states, the hand pose and rewards of the agent's running episode, at 20 Hz."""

    def __init__(self, context, background, agent):
        self.node = rclpy.create_node('rd_test_hold_feeder', context=context)
        self.agent = agent
        self.joints = self.node.create_publisher(JointState, 'joint_states', 10)
        self.pose_pub = self.node.create_publisher(PoseStamped, 'robodopamine/ee_pose', 10)
        self.reward = self.node.create_publisher(RewardStamped, 'reward', 10)
        self.observations, self.fresh_progress, self.end = True, True, None
        self.hand_z = 0.2    # m: 0.9 is above the simulator's box
        self.rewards = True
        self.progress_stamp = None
        self.node.create_timer(0.05, self._publish)
        background.add_node(self.node)

    def _publish(self):
        stamp = self.node.get_clock().now().to_msg()
        if self.observations:
            joints = JointState(name=list(JOINT_NAMES), position=[0.1] * 9)
            pose = PoseStamped()
            pose.header.frame_id = 'base'
            pose.pose.position.y, pose.pose.position.z = 0.6, self.hand_z
            pose.pose.orientation.w = 1.0
            joints.header.stamp = pose.header.stamp = stamp
            self.joints.publish(joints)
            self.pose_pub.publish(pose)
        if not self.rewards:
            return
        if self.fresh_progress or self.progress_stamp is None:
            self.progress_stamp = stamp
        reward = RewardStamped(episode_id=self.agent.loop.episode_id, progress_before=0.2,
                               progress_after=0.2, reward=-0.002, gamma=0.99,
                               truncated=self.end == 'truncated')
        reward.header.stamp, reward.progress_stamp = stamp, self.progress_stamp
        self.reward.publish(reward)


class FakeGRM:
    """grm_node's StartEpisode and progress at 10 Hz; it can die and be respawned."""

    def __init__(self, context, background):
        self.node = rclpy.create_node('rd_test_fake_grm', context=context)
        self.progress = self.node.create_publisher(ProgressStamped, 'progress', 10)
        self.service, self.episode_id = None, None
        self.respawn()
        self.node.create_timer(0.1, self._tick)
        background.add_node(self.node)

    def _start(self, request, response):
        self.episode_id = response.episode_id = request.episode_id
        response.success = True
        return response

    def _tick(self):
        if self.episode_id is not None:
            msg = ProgressStamped(episode_id=self.episode_id, progress=0.2)
            msg.header.stamp = self.node.get_clock().now().to_msg()
            self.progress.publish(msg)

    def die(self):
        self.node.destroy_service(self.service)
        self.service, self.episode_id = None, None

    def respawn(self):   # a new grm_node knows no episode until it is asked to start one
        self.service = self.node.create_service(StartEpisode, 'grm_node/start_episode',
                                                self._start)
