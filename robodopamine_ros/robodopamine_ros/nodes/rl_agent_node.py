# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rl_agent_node: the Dopamine-RL agent driving the arm at a fixed control rate (issue 9).

Observations: ``joint_states`` + ``robodopamine/ee_pose`` (state = joint positions and the
pose). Rewards: ``reward`` from shaping_node (stored as published). Every tick publishes the
agent's command as ActionStamped on ``command`` (what sim_robot_node executes and bags record)
and, through the selected ros2_control adapter, on ``adapter_topic``; the gripper on
``gripper_topic``. The control loop, learner thread, safety layer, watchdog and adapters are
the ROS-free core (rl.agent_loop, rl.safety, watchdog, controller_adapters); this node owns
timers, topics, services and parameters.

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

from geometry_msgs.msg import PoseStamped, TwistStamped
import numpy as np
from rclpy.node import Node
from robodopamine_interfaces.msg import ActionStamped, EpisodeSummary, RewardStamped
from robodopamine_interfaces.srv import SetIntervention, StartEpisode
from robodopamine_ros.controller_adapters import ADAPTERS, to_command
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.rl.acting import Learner, PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, LearnerThread, TeleopExpiry
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.demonstrations import load_demonstrations
from robodopamine_ros.rl.logs import TrainingLog
from robodopamine_ros.rl.safety import SafetyConfig
from robodopamine_ros.shaping import ShapingConfig
from robodopamine_ros.watchdog import Watchdog
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64, Float64MultiArray
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

ADAPTER_TYPES = {'twist': TwistStamped, 'float64_array': Float64MultiArray,
                 'joint_trajectory': JointTrajectory, 'pose': PoseStamped}
REWARD_FIELDS = ('reward', 'sparse_reward', 'progress_before', 'progress_after', 'terminal',
                 'truncated')


class RLAgentNode(Node):

    def __init__(self, **kwargs):
        super().__init__('rl_agent_node', **kwargs)
        d = self.declare_parameter
        d('mode', 'train')
        d('algorithm', 'calql')
        d('control_rate', 10.0)
        d('max_steps', 200)
        d('joints', 9)
        d('gamma', 0.98)
        d('batch_size', 128)
        d('checkpoint_dir', '')
        d('checkpoint_every', 5)             # episodes
        d('log_dir', '')                     # episodes.csv + TensorBoard; '' = none
        d('adapter', 'twist')
        d('adapter_topic', 'servo_node/delta_twist_cmds')
        d('gripper_topic', 'gripper/command')
        d('base_frame', 'base')
        d('joint_names', [''])
        d('jacobian', [0.0])                 # 3 x joints, row-major (joint_trajectory only)
        d('meters_per_unit', 0.01)
        d('max_velocity', [0.1, 0.1, 0.1])
        d('workspace_low', [-0.5, 0.4, 0.05])
        d('workspace_high', [0.5, 1.0, 0.5])
        d('observation_timeout', 0.5)
        d('reward_timeout', 0.5)
        d('teleop_timeout', 0.5)             # s: a teleop action expires after this
        d('teleop_max_travel', 0.05)         # m commanded on one teleop message, at most
        d('teleop_on_timeout', 'stop')       # stop | policy
        d('success_delta', 0.05)             # as shaping_node's: success at Phi >= 1 - delta
        d('pretrain_updates', 1000)          # train: imitation on the demo buffer first ...
        d('offline_updates', 1000)           # ... then offline RL on it (stage I)
        d('home_position', [0.0])            # x, y, z: move-to-home between episodes
        d('home_tolerance', 0.005)           # m
        d('reset_service', 'sim_robot_node/reset')
        d('start_episode_service', 'grm_node/start_episode')
        d('demo_bags', [''])                 # train: bags recorded with mode collect
        p = {n.name: n.value for n in self._parameters.values()}
        if p['adapter'] not in ADAPTERS:
            raise ValueError(f'adapter must be one of {ADAPTERS}, got {p["adapter"]!r}')
        if len(p['home_position']) not in (1, 3):
            raise ValueError('home_position must be [x, y, z] (or [0.0]: no homing), got '
                             f'{p["home_position"]}')
        if not p['control_rate'] > 0:
            raise ValueError(f'control_rate must be > 0 Hz, got {p["control_rate"]}')
        self.p = p
        self.period = 1.0 / p['control_rate']
        jacobian = np.asarray(p['jacobian'], dtype=float)
        self.jacobian = jacobian.reshape(3, -1) if jacobian.size > 1 else None
        safety = SafetyConfig(max_velocity=tuple(p['max_velocity']),
                              workspace_low=tuple(p['workspace_low']),
                              workspace_high=tuple(p['workspace_high']),
                              control_period=self.period, meters_per_unit=p['meters_per_unit'])
        shapes = {'state': (p['joints'] + 7,)}
        config = AgentConfig(algorithm=p['algorithm'], gamma=p['gamma'],
                             batch_size=p['batch_size'])
        learner, _ = Learner.resume(p['checkpoint_dir'], shapes, algorithm=p['algorithm']) \
            if p['checkpoint_dir'] else (None, None)
        self.resumed = learner is not None
        learner = learner or Learner(config, shapes)
        self.actor = PolicyActor(learner.config, shapes, safety)
        self.actor.load(learner.actor_state())
        shaping = ShapingConfig(learner.config.gamma, p['success_delta'])
        if p['mode'] == 'train' and len(learner.demo) == 0:
            for path, episode in load_demonstrations(p['demo_bags'], p['joints'], shaping):
                learner.add_episode(episode)
                self.get_logger().info(f'demonstration {path}: {len(episode.transitions)} '
                                       'transitions in the demo buffer')
        self.learner = LearnerThread(learner, offline_updates=p['offline_updates'],
                                     pretrain_updates=p['pretrain_updates'])
        if p['mode'] == 'train':
            self.learner.start()
        timeouts = {'observation': p['observation_timeout']}
        if p['mode'] != 'collect':  # collect runs without the GRM: no rewards to wait for
            timeouts['reward'] = p['reward_timeout']
        self.watchdog = Watchdog(timeouts)
        home = p['home_position'] if len(p['home_position']) == 3 else None
        self.loop = ControlLoop(self.actor, p['mode'], p['max_steps'], self.watchdog,
                                on_episode=self._on_episode, home=home,
                                home_tolerance=p['home_tolerance'],
                                shaping=shaping,
                                teleop=TeleopExpiry(p['teleop_timeout'], p['teleop_max_travel'],
                                                    p['teleop_on_timeout']))
        self.homing = False
        self.log = TrainingLog(p['log_dir']) if p['log_dir'] else None
        self.joints, self.pose = None, None
        self.episodes_done = learner.counters['episodes']
        self.pending_start = False
        self.stop_reason = None

        self.create_subscription(JointState, 'joint_states', self._on_joints, 10)
        self.create_subscription(PoseStamped, 'robodopamine/ee_pose', self._on_pose, 10)
        self.create_subscription(RewardStamped, 'reward', self._on_reward, 10)
        self.create_subscription(ActionStamped, 'teleop/action', self._on_teleop, 10)
        self.command = self.create_publisher(ActionStamped, 'command', 10)
        self.adapter = self.create_publisher(ADAPTER_TYPES[p['adapter']], p['adapter_topic'], 10)
        self.gripper = self.create_publisher(Float64, p['gripper_topic'], 10)
        self.summary = self.create_publisher(EpisodeSummary, 'episode_summary', 10)
        self.create_service(SetIntervention, '~/set_intervention', self._on_set_intervention)
        self.create_service(Trigger, '~/estop', self._on_estop)
        self.create_service(Trigger, '~/clear_estop', self._on_clear_estop)
        self.create_service(Trigger, '~/save_checkpoint', self._on_save)
        self.reset_client = self.create_client(Trigger, p['reset_service']) \
            if p['reset_service'] else None
        self.start_client = self.create_client(StartEpisode, p['start_episode_service']) \
            if p['mode'] != 'collect' and p['start_episode_service'] else None
        self.create_timer(self.period, self._on_tick)

    # inputs ------------------------------------------------------------------------------------
    @staticmethod
    def _now():
        """Monotonic seconds: every staleness check uses it, never the (steppable) ROS clock."""
        return time.monotonic()

    @staticmethod
    def _stamp(msg):
        return msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9

    def _on_joints(self, msg):
        self.joints = np.asarray(msg.position, dtype=np.float32)
        self.watchdog.feed('observation', self._now(), self._stamp(msg))

    def _on_pose(self, msg):
        q, o = msg.pose.position, msg.pose.orientation
        self.pose = np.array([q.x, q.y, q.z, o.x, o.y, o.z, o.w], dtype=np.float32)

    def _on_reward(self, msg):
        if msg.episode_id != self.loop.episode_id:
            return  # a reward of another episode (before a start took effect)
        if self.watchdog.feed('reward', self._now(), self._stamp(msg)):
            self.loop.observe_reward({f: getattr(msg, f) for f in REWARD_FIELDS})

    def _on_teleop(self, msg):
        self.loop.set_teleop_action(msg.values, self._now())

    # control -----------------------------------------------------------------------------------
    def _observation(self):
        if self.joints is None or self.pose is None:
            return None
        if len(self.joints) != self.p['joints']:
            self.get_logger().error(
                f'joint_states has {len(self.joints)} positions, parameter joints says '
                f'{self.p["joints"]}: holding still', throttle_duration_sec=5.0)
            return None
        return {'state': np.concatenate([self.joints, self.pose])}

    def _on_tick(self):
        weights = self.learner.take_weights()
        if weights is not None:
            self.actor.load(*weights)
        if self.learner.error is not None:  # e.g. mode train without demonstrations
            self.get_logger().error(f'learner: {self.learner.error}', once=True)
        obs = self._observation()
        if obs is not None and self.loop.episode is None and not (self.pending_start
                                                                  or self.homing):
            self._start_next_episode()
        if obs is None:
            self._publish(self.loop.stop_action(), 'stop', None)
            return
        if self.homing:  # between episodes, on a robot without a reset service
            result, at_home = self.loop.home_step(self._now(), self.pose[:3])
            self.homing = not at_home
            self._publish(result.action, result.source, obs)
            return
        result = self.loop.tick(self._now(), obs, self.pose[:3])
        if result.stop_reason != self.stop_reason and result.stop_reason not in (
                None, 'between episodes'):
            self.get_logger().warn(f'holding the arm: {result.stop_reason}')
        self.stop_reason = result.stop_reason
        self._publish(result.action, result.source, obs)
        if result.summary is not None:
            self._finish_episode(result.summary)

    def _publish(self, action, source, obs):
        msg = ActionStamped(values=[float(v) for v in action],
                            intervention=source == 'teleop', source=source)
        msg.header.stamp = self.get_clock().now().to_msg()
        self.command.publish(msg)
        p = self.p
        self.gripper.publish(Float64(data=float(action[3])))
        try:
            command = to_command(
                p['adapter'], action, self.period, p['meters_per_unit'], ee_pose=self.pose,
                joint_positions=self.joints, jacobian=self.jacobian)
        except ValueError as error:  # no pose / joints yet: nothing to hold, send nothing
            self.get_logger().warn(f'{p["adapter"]} adapter: {error}',
                                   throttle_duration_sec=5.0)
            return
        self.adapter.publish(self._adapter_msg(command, msg.header.stamp))

    def _adapter_msg(self, command, stamp):
        """Copy a controller_adapters.Command into the adapter's message type."""
        kind = command.kind
        if kind == 'float64_array':
            return Float64MultiArray(data=list(command.velocity))
        if kind == 'twist':
            msg = TwistStamped()
            msg.header.stamp, msg.header.frame_id = stamp, self.p['base_frame']
            t = msg.twist
            t.linear.x, t.linear.y, t.linear.z = command.velocity[:3]
            t.angular.x, t.angular.y, t.angular.z = command.velocity[3:]
            return msg
        if kind == 'pose':
            msg = PoseStamped()
            msg.header.stamp, msg.header.frame_id = stamp, self.p['base_frame']
            x, y, z, qx, qy, qz, qw = command.pose
            msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = x, y, z
            o = msg.pose.orientation
            o.x, o.y, o.z, o.w = qx, qy, qz, qw
            return msg
        msg = JointTrajectory(joint_names=list(self.p['joint_names']))
        msg.header.stamp = stamp
        point = JointTrajectoryPoint(positions=list(command.positions))
        point.time_from_start.nanosec = int(command.time_from_start * 1e9)
        msg.points = [point]
        return msg

    # episodes ----------------------------------------------------------------------------------
    def _start_next_episode(self):
        self.pending_start = True
        episode_id = self.episodes_done + 1

        def started(future):
            response = future.result()
            self.pending_start = False
            if response is not None and response.success:
                self.loop.start_episode(response.episode_id)
        if self.start_client is None:  # collect: no GRM to tell
            self.pending_start = False
            self.loop.start_episode(episode_id)
            return
        request = StartEpisode.Request(episode_id=episode_id)
        if self.start_client.service_is_ready():
            self.start_client.call_async(request).add_done_callback(started)
        else:
            self.pending_start = False

    def _finish_episode(self, summary):
        self.episodes_done += 1
        msg = EpisodeSummary(episode_id=summary['episode_id'], steps=summary['steps'],
                             success=summary['success'],
                             episode_return=float(summary['return']),
                             final_progress=float(summary['final_progress']),
                             intervention_rate=float(summary['intervention_rate']))
        msg.header.stamp = self.get_clock().now().to_msg()
        self.summary.publish(msg)
        if self.log is not None:
            self.log.episode(dict(summary, episode=summary['episode_id'],
                                  updates=self.learner.updates, **self.learner.last_stats))
        self.get_logger().info(f'episode {summary["episode_id"]}: success {summary["success"]}, '
                               f'return {summary["return"]:.3f}, intervention rate '
                               f'{summary["intervention_rate"]:.2f}')
        if self.p['checkpoint_dir'] and self.episodes_done % self.p['checkpoint_every'] == 0:
            self.learner.save(self.p['checkpoint_dir'])
        if self.reset_client is not None and self.reset_client.service_is_ready():
            self.pending_start = True
            self.reset_client.call_async(Trigger.Request()).add_done_callback(
                lambda _: setattr(self, 'pending_start', False))
        elif self.loop.home is not None:
            self.homing = True

    def _on_episode(self, episode):
        self.learner.add_episode(episode)

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
        if not self.p['checkpoint_dir']:
            response.success, response.message = False, 'parameter checkpoint_dir is empty'
            return response
        path = self.learner.save(self.p['checkpoint_dir'])
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
