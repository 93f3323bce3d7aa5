# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rl_agent_node: the Dopamine-RL agent driving the arm at a fixed control rate (issue 9).

Observations: ``joint_states`` + ``robodopamine/ee_pose`` (state = joint positions and the
pose), and with parameter ``objects`` > 0 the tracked objects' poses (PoseArray on
``robodopamine/object_poses``; robot/state.py gives the layout). Rewards: ``reward`` from
shaping_node: its progress and end flags; the stored reward of each executed step is shaped
from them by the control loop (ControlLoop). Every tick publishes the
agent's command as ActionStamped on ``command`` (what sim_robot_node executes and bags record)
and, through the selected ros2_control adapter, on ``adapter_topic``; the gripper on
``gripper_topic``. The control loop, learner thread, safety layer, watchdog and adapters are
the ROS-free core (rl.agent_loop: ControlLoop, EpisodeCycle, LearnerThread; robot.safety,
robot.watchdog, robot.controller_adapters); the parameters are rl.agent_settings.RLAgentSettings
and the messages are built in nodes.conversions. This node owns timers, topics, services and
parameters.

Modes: ``train`` and ``eval`` start each episode through grm_node's StartEpisode service and
need its rewards; ``collect`` (recording demonstrations) runs without the GRM: episodes are
numbered here, only observations are watched, and the arm moves only while teleop holds the
deadman (the policy never acts). ``demo_bags`` (train): recorded demonstrations
(rl.demonstrations) that fill an empty demo buffer before the offline stage. The policy holds
while the hand is outside the workspace box, and says why.

Services: ``~/set_intervention`` (SetIntervention: teleop takes over / hands back),
``~/estop`` and ``~/clear_estop`` (Trigger; the stop latches), ``~/save_checkpoint``.
Faults: stale observations or rewards -> zero motion, gripper held, until they return;
e-stop -> the same until cleared; a bad parameter -> the node does not start.
"""

import time

from geometry_msgs.msg import PoseArray, PoseStamped
import numpy as np
from rclpy.node import Node
from robodopamine_interfaces.msg import ActionStamped, EpisodeSummary, RewardStamped
from robodopamine_interfaces.srv import SetIntervention, StartEpisode
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.nodes.conversions import (action_msg, adapter_msg, ADAPTER_TYPES,
                                                pose_array_values, pose_values, reward_values,
                                                seconds_from_header, summary_msg)
from robodopamine_ros.nodes.parameters import declare_settings
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, EpisodeCycle, LearnerThread
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.demonstrations import load_demonstrations
from robodopamine_ros.rl.logs import TrainingLog
from robodopamine_ros.robot.controller_adapters import to_command
from robodopamine_ros.robot.state import robot_state
from robodopamine_ros.robot.watchdog import Watchdog
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64
from std_srvs.srv import Trigger


class RLAgentNode(Node):

    def __init__(self, **kwargs):
        super().__init__('rl_agent_node', **kwargs)
        self.settings = s = declare_settings(self, RLAgentSettings)
        shapes = s.state_shape()
        learner, _ = Learner.resume(s.checkpoint_dir, shapes, algorithm=s.algorithm) \
            if s.resumes_checkpoint else (None, None)
        learner = learner or Learner(s.agent_config(), shapes)
        self.actor = PolicyActor(learner.config, shapes, s.safety_config())
        self.actor.load(learner.actor_state())
        shaping = s.shaping_config(learner.config.gamma)
        if s.mode == 'train' and len(learner.demo) == 0:
            for path, episode in load_demonstrations(s.demo_bags, s.joints, shaping,
                                                     s.objects):
                learner.add_episode(episode)
                self.get_logger().info(f'demonstration {path}: {len(episode.transitions)} '
                                       'transitions in the demo buffer')
        self.learner = LearnerThread(learner, offline_updates=s.offline_updates,
                                     pretrain_updates=s.pretrain_updates,
                                     updates_per_step=s.updates_per_step)
        if s.mode == 'train':
            self.learner.start()
        self.watchdog = Watchdog(s.watchdog_timeouts())
        self.loop = ControlLoop(self.actor, s.mode, s.max_steps, self.watchdog,
                                on_episode=self.learner.add_episode, home=s.home(),
                                home_tolerance=s.home_tolerance, shaping=shaping,
                                teleop=s.teleop_expiry(), on_step=self.learner.grant)
        self.cycle = EpisodeCycle(learner.counters['episodes'], s.checkpoint_every,
                                  checkpoints=s.saves_checkpoints,
                                  home=self.loop.home is not None)
        self.jacobian = s.jacobian_matrix()
        self.log = TrainingLog(s.log_dir) if s.log_dir else None
        self.joints, self.pose, self.objects = None, None, None
        self.stop_reason = None

        self.create_subscription(JointState, 'joint_states', self._on_joints, 10)
        self.create_subscription(PoseStamped, 'robodopamine/ee_pose', self._on_pose, 10)
        if s.objects:
            self.create_subscription(PoseArray, 'robodopamine/object_poses', self._on_objects,
                                     10)
        self.create_subscription(RewardStamped, 'reward', self._on_reward, 10)
        self.create_subscription(ActionStamped, 'teleop/action', self._on_teleop, 10)
        self.command = self.create_publisher(ActionStamped, 'command', 10)
        self.adapter = self.create_publisher(ADAPTER_TYPES[s.adapter], s.adapter_topic, 10)
        self.gripper = self.create_publisher(Float64, s.gripper_topic, 10)
        self.summary = self.create_publisher(EpisodeSummary, 'episode_summary', 10)
        self.create_service(SetIntervention, '~/set_intervention', self._on_set_intervention)
        self.create_service(Trigger, '~/estop', self._on_estop)
        self.create_service(Trigger, '~/clear_estop', self._on_clear_estop)
        self.create_service(Trigger, '~/save_checkpoint', self._on_save)
        self.reset_client = self.create_client(Trigger, s.reset_service) \
            if s.reset_service else None
        self.start_client = self.create_client(StartEpisode, s.start_episode_service) \
            if s.mode != 'collect' and s.start_episode_service else None
        self.create_timer(s.period, self._on_tick)

    # inputs ------------------------------------------------------------------------------------
    @staticmethod
    def _now():
        """Monotonic seconds: every staleness check uses it, never the (steppable) ROS clock."""
        return time.monotonic()

    def _on_joints(self, msg):
        self.joints = np.asarray(msg.position, dtype=np.float32)
        self.watchdog.feed('observation', self._now(), seconds_from_header(msg))

    def _on_pose(self, msg):
        self.pose = pose_values(msg)

    def _on_objects(self, msg):
        self.objects = pose_array_values(msg)
        self.watchdog.feed('objects', self._now(), seconds_from_header(msg))

    def _on_reward(self, msg):
        if msg.episode_id != self.loop.episode_id:
            return  # a reward of another episode (before a start took effect)
        if self.watchdog.feed('reward', self._now(), seconds_from_header(msg)):
            self.loop.observe_reward(reward_values(msg))

    def _on_teleop(self, msg):
        self.loop.set_teleop_action(msg.values, self._now())

    # control -----------------------------------------------------------------------------------
    def _observation(self):
        s = self.settings
        if self.joints is None or self.pose is None or (s.objects and self.objects is None):
            return None
        try:
            state = robot_state(self.joints, self.pose,
                                () if self.objects is None else self.objects, s.joints,
                                s.objects)
        except ValueError as error:
            self.get_logger().error(f'{error}: holding still', throttle_duration_sec=5.0)
            return None
        return {'state': state}

    def _on_tick(self):
        weights = self.learner.take_weights()
        if weights is not None:
            self.actor.load(*weights)
        if self.learner.error is not None:  # e.g. mode train without demonstrations
            self.get_logger().error(f'learner: {self.learner.error}', once=True)
        obs = self._observation()
        if obs is not None and self.cycle.may_start(self.loop):
            self._start_next_episode()
        if obs is None:
            self._publish(self.loop.stop_action(), ActionSource.STOP)
            return
        if self.cycle.homing:  # between episodes, on a robot without a reset service
            result, at_home = self.loop.home_step(self._now(), self.pose[:3])
            self.cycle.homing = not at_home
            self._publish(result.action, result.source)
            return
        result = self.loop.tick(self._now(), obs, self.pose[:3])
        if result.stop_reason != self.stop_reason and result.stop_reason not in (
                None, 'between episodes'):
            self.get_logger().warn(f'holding the arm: {result.stop_reason}')
        self.stop_reason = result.stop_reason
        self._publish(result.action, result.source)
        if result.summary is not None:
            self._finish_episode(result.summary)

    def _publish(self, action, source):
        s, stamp = self.settings, self.get_clock().now().to_msg()
        self.command.publish(action_msg(action, source, stamp))
        self.gripper.publish(Float64(data=float(action[3])))
        try:
            command = to_command(s.adapter, action, s.period, s.meters_per_unit,
                                 ee_pose=self.pose, joint_positions=self.joints,
                                 jacobian=self.jacobian)
        except ValueError as error:  # no pose / joints yet: nothing to hold, send nothing
            self.get_logger().warn(f'{s.adapter} adapter: {error}', throttle_duration_sec=5.0)
            return
        self.adapter.publish(adapter_msg(command, stamp, s.base_frame, s.joint_names))

    # episodes ----------------------------------------------------------------------------------
    def _start_next_episode(self):
        if self.start_client is None:  # collect: no GRM to tell
            self.loop.start_episode(self.cycle.next_episode_id())
            return
        if not self.start_client.service_is_ready():
            return
        self.cycle.starting = True

        def started(future):
            response = future.result()
            self.cycle.starting = False
            if response is not None and response.success:
                self.loop.start_episode(response.episode_id)
        request = StartEpisode.Request(episode_id=self.cycle.next_episode_id())
        self.start_client.call_async(request).add_done_callback(started)

    def _finish_episode(self, summary):
        self.summary.publish(summary_msg(summary, self.get_clock().now().to_msg()))
        if self.log is not None:
            self.log.episode(dict(summary, episode=summary['episode_id'],
                                  updates=self.learner.updates,
                                  learner_backlog=self.learner.backlog,
                                  **self.learner.last_stats))
        self.get_logger().info(f'episode {summary["episode_id"]}: success {summary["success"]}, '
                               f'return {summary["return"]:.3f}, intervention rate '
                               f'{summary["intervention_rate"]:.2f}')
        reset = self.reset_client is not None and self.reset_client.service_is_ready()
        if self.cycle.finished(reset):
            self.learner.save(self.settings.checkpoint_dir)
        if reset:
            self.reset_client.call_async(Trigger.Request()).add_done_callback(
                lambda _: setattr(self.cycle, 'starting', False))

    # services ----------------------------------------------------------------------------------
    def _on_set_intervention(self, request, response):
        self.loop.set_intervention(request.active, now=self._now())
        response.accepted = True
        response.message = f'intervention {"on" if request.active else "off"} ' \
            f'({request.source or "unknown source"})'
        return response

    def _on_estop(self, request, response):
        self.watchdog.estop('~/estop called')
        response.success, response.message = True, 'stopped; call ~/clear_estop to resume'
        return response

    def _on_clear_estop(self, request, response):
        self.watchdog.clear_estop()
        response.success, response.message = True, 'e-stop cleared'
        return response

    def _on_save(self, request, response):
        if not self.settings.checkpoint_dir:
            response.success, response.message = False, 'parameter checkpoint_dir is empty'
            return response
        path = self.learner.save(self.settings.checkpoint_dir)
        response.success, response.message = True, str(path)
        return response

    def destroy_node(self):
        self.learner.stop()
        if self.log is not None:
            self.log.close()
        super().destroy_node()


def main(args=None):
    run(RLAgentNode, 'rl_agent_node', args)


if __name__ == '__main__':
    main()
