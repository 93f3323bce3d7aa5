# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
sim_robot_node: the simulated robot standing in for the Franka, its cameras and controller.

Started with use_sim:=true. Spin it single-threaded (as main() does): the offscreen OpenGL
context belongs to the thread that built the node.

Publishes the three camera images (rgb8, stamped with the render time, one stamp per instant),
``joint_states``, ``robodopamine/ee_pose`` and ``robodopamine/object_poses`` (PoseArray: the
peg, then the hole; what a pose tracker gives a real agent) at the camera rate, and
``sim_robot/success`` after every control step. Steps the simulation once per command: with
``command_interface:=action`` an ActionStamped on ``command`` (normalized EE delta + gripper,
the agent's own command); with ``command_interface:=twist`` what the agent's twist adapter
sends a real arm (TwistStamped on ``twist_topic``, Float64 on ``gripper_topic``); or, with
``autopilot:=expert``, the scripted expert at the control rate: then the node listens to no
command (nothing else may move the arm while it records a demonstration) and publishes each
executed expert action as ActionStamped on ``command`` (source 'expert', intervention true),
which the launch file remaps to the recorded action topic. ``sim_robot/expert_action``
(ActionStamped, source 'expert') is the scripted expert's action for the current state, after
every step and reset while someone listens: what sim_operator_node drives when it takes over.
``~/reset`` (std_srvs/Trigger) starts a new layout (seed + 1). Layouts: ``seed`` is the first
(default 1: a layout the scripted expert solves, so the README's first demonstration
succeeds); ``layouts:=eval`` offsets every seed by rl.sim_training.EVAL_SEED, the evaluation
layouts of the ROS-free benchmark, which training never uses (the launch file sets it in
mode eval).

Simulation clock (``publish_clock:=true``, a mode only the simulator offers): the node owns
time. Each camera frame advances the simulation time by 1 / camera_rate and publishes it on
``/clock`` (rosgraph_msgs/Clock) before the frame's messages, which carry that stamp; frames
come every 1 / (camera_rate * real_time_factor) s of wall time, so at real_time_factor 2 the
robot runs twice as fast as real time. Every other node runs with ``use_sim_time:=true``: their
timers (the agent's control rate, grm_node's rate) tick on this clock; staleness checks keep
the monotonic clock, which only makes them stricter at factors below 1. Pick a factor at which
the graph keeps up (bench/bench_ros_rl.py reports the control rate achieved).
"""

import math

from geometry_msgs.msg import PoseArray, PoseStamped, TwistStamped
import numpy as np
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ActionStamped
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.data.topics import CAMERA_TOPICS
from robodopamine_ros.nodes.conversions import (action_msg, image_msg, joint_state_msg,
                                                pose_array_msg, pose_msg, time_from_ns)
from robodopamine_ros.nodes.parameters import declare_parameter
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.robot.controller_adapters import twist_to_action
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from rosgraph_msgs.msg import Clock as ClockMsg
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, Float64
from std_srvs.srv import Trigger

# the default first layout: one the scripted expert solves (it fails on layout 0)
FIRST_LAYOUT = 1


class SimRobotNode(Node):

    def __init__(self, **kwargs):
        super().__init__('sim_robot_node', **kwargs)
        for name, default in (('image_width', 128), ('image_height', 96), ('seed', FIRST_LAYOUT),
                              ('max_steps', 200)):
            declare_parameter(self, name, default)
        declare_parameter(self, 'camera_rate', 30.0)
        declare_parameter(self, 'control_rate', 10.0)
        declare_parameter(self, 'autopilot', '')  # '' (commands) or 'expert'
        declare_parameter(self, 'layouts', 'train')  # train | eval (seeds from EVAL_SEED on)
        # 'action': ActionStamped on command; 'twist': what a real controller adapter gets
        # (TwistStamped on twist_topic + Float64 gripper), stepped at control_rate
        declare_parameter(self, 'command_interface', 'action')
        declare_parameter(self, 'twist_topic', 'servo_node/delta_twist_cmds')
        declare_parameter(self, 'gripper_topic', 'gripper/command')
        declare_parameter(self, 'meters_per_unit', 0.01)
        # frame of the hand and object poses: the agent refuses a pose in another frame than
        # its base_frame (the simulator's workspace box is in these coordinates)
        declare_parameter(self, 'base_frame', 'base')
        declare_parameter(self, 'publish_clock', False)   # the simulation clock (docstring)
        declare_parameter(self, 'real_time_factor', 1.0)  # its speed, x real time
        p = {n: self.get_parameter(n).value for n in (
            'image_width', 'image_height', 'seed', 'max_steps', 'camera_rate', 'control_rate',
            'autopilot')}
        interface = self.get_parameter('command_interface').value
        if interface not in ('action', 'twist'):
            raise ValueError(f"command_interface must be 'action' or 'twist', got {interface!r}")
        if p['autopilot'] not in ('', 'expert'):
            raise ValueError(f"autopilot must be '' or 'expert', got {p['autopilot']!r}")
        if not (p['camera_rate'] > 0 and p['control_rate'] > 0):
            raise ValueError('camera_rate and control_rate must be > 0 Hz')
        factor = self.get_parameter('real_time_factor').value
        if not (math.isfinite(factor) and factor > 0):
            raise ValueError(f'real_time_factor must be a finite number > 0, got {factor}')
        from robodopamine_ros.sim.peg_insertion import PegInsertionSim
        self.sim = PegInsertionSim(image_size=(p['image_width'], p['image_height']),
                                   max_steps=p['max_steps'], render_images=False)
        layouts = self.get_parameter('layouts').value
        if layouts not in ('train', 'eval'):
            raise ValueError(f"layouts must be 'train' or 'eval', got {layouts!r}")
        if p['seed'] < 0:
            raise ValueError(f"seed must be a layout number >= 0, got {p['seed']}")
        self.seed = p['seed']
        if layouts == 'eval':
            from robodopamine_ros.rl.sim_episodes import EVAL_SEED
            self.seed += EVAL_SEED
        self.observation, _ = self.sim.reset(seed=self.seed)
        self.success = False
        group = MutuallyExclusiveCallbackGroup()  # the simulation is not thread-safe
        self.cameras = {v: self.create_publisher(Image, t, qos_profile_sensor_data)
                        for v, t in CAMERA_TOPICS.items()}
        self.joints = self.create_publisher(JointState, 'joint_states', 10)
        self.pose = self.create_publisher(PoseStamped, 'robodopamine/ee_pose', 10)
        self.objects = self.create_publisher(PoseArray, 'robodopamine/object_poses', 10)
        self.success_pub = self.create_publisher(Bool, 'sim_robot/success', 10)
        self.expert_now = self.create_publisher(ActionStamped, 'sim_robot/expert_action', 10)
        self.period = 1.0 / p['control_rate']
        self.meters_per_unit = self.get_parameter('meters_per_unit').value
        self.base_frame = self.get_parameter('base_frame').value
        self.gripper = -1.0
        if p['autopilot'] == 'expert':
            self.expert_actions = self.create_publisher(ActionStamped, 'command', 10)
        elif interface == 'action':
            self.create_subscription(ActionStamped, 'command', self._on_command, 10,
                                     callback_group=group)
        else:
            self.create_subscription(TwistStamped, self.get_parameter('twist_topic').value,
                                     self._on_twist, 10, callback_group=group)
            self.create_subscription(Float64, self.get_parameter('gripper_topic').value,
                                     self._on_gripper, 10, callback_group=group)
        autopilot = p['autopilot'] == 'expert'
        self.sim_time_ns = None
        if self.get_parameter('publish_clock').value:
            self.sim_time_ns, self.next_control_ns = 0, 0
            self.frame_ns = round(1e9 / p['camera_rate'])
            self.control_ns = round(1e9 / p['control_rate']) if autopilot else None
            self.clock_pub = self.create_publisher(ClockMsg, '/clock', 10)
            self.create_timer(1.0 / (p['camera_rate'] * factor), self._on_frame,
                              callback_group=group, clock=Clock(clock_type=ClockType.STEADY_TIME))
        else:
            node_timer(self, 1.0 / p['camera_rate'], self._publish_state, callback_group=group)
            if autopilot:
                node_timer(self, 1.0 / p['control_rate'], self._autopilot, callback_group=group)
        self.create_service(Trigger, '~/reset', self._on_reset, callback_group=group)

    def _stamp(self):
        """Now: the simulation time with publish_clock, else the node's clock."""
        if self.sim_time_ns is not None:
            return time_from_ns(self.sim_time_ns)
        return self.get_clock().now().to_msg()

    def _on_frame(self):
        """
        Advance the simulation clock one camera frame, publish it and the frame, then act.

        The autopilot acts after the frame is out: the state stamped t is the one its action
        stamped t was chosen in (as a recorded demonstration pairs them), the step's result
        appears with the next frame.
        """
        self.sim_time_ns += self.frame_ns
        self.clock_pub.publish(ClockMsg(clock=time_from_ns(self.sim_time_ns)))
        self._publish_state()
        if self.control_ns is not None and self.sim_time_ns >= self.next_control_ns:
            self.next_control_ns += self.control_ns
            self._autopilot()

    def _step(self, action):
        if self.success or self.sim.steps >= self.sim.max_steps:
            return  # the episode is over until ~/reset
        self.observation, _, self.success, _, _ = self.sim.step(action)
        self.success_pub.publish(Bool(data=self.success))
        self._publish_expert()

    def _expert(self):
        return np.clip(self.sim.expert_action(self.observation), -1.0, 1.0)

    def _publish_expert(self):
        """Publish the expert's action for the current state (sim_operator_node drives it)."""
        if self.expert_now.get_subscription_count():
            self.expert_now.publish(action_msg(self._expert(), ActionSource.EXPERT,
                                               self._stamp()))

    def _on_command(self, msg):
        try:
            self._step(np.asarray(msg.values, dtype=float))
        except ValueError as error:
            self.get_logger().error(f'command refused: {error}', throttle_duration_sec=2.0)

    def _on_gripper(self, msg):
        self.gripper = float(msg.data)

    def _on_twist(self, msg):
        v = msg.twist.linear
        action = twist_to_action((v.x, v.y, v.z), self.gripper, self.period,
                                 self.meters_per_unit)
        try:
            self._step(action)
        except ValueError as error:
            self.get_logger().error(f'twist refused: {error}', throttle_duration_sec=2.0)

    def _autopilot(self):
        if self.success or self.sim.steps >= self.sim.max_steps:
            return
        action = self._expert()
        self.expert_actions.publish(action_msg(action, ActionSource.EXPERT, self._stamp()))
        self._step(action)
        if self.success or self.sim.steps >= self.sim.max_steps:
            outcome = 'succeeded' if self.success else \
                'did not succeed (this layout defeats it: launch with another seed:=)'
            self.get_logger().info(f'the expert {outcome} in {self.sim.steps} steps on layout '
                                   f'seed {self.seed}: stop the recording (Ctrl-C)')

    def _publish_state(self):
        stamp = self._stamp()
        views = self.sim.render_views()
        for view, publisher in self.cameras.items():
            publisher.publish(image_msg(views[view], stamp, f'{view}_camera_optical_frame'))
        self.joints.publish(joint_state_msg(JOINT_NAMES, self.sim.joint_positions(), stamp))
        self.pose.publish(pose_msg(self.sim.ee_pose(), stamp, self.base_frame))
        self.objects.publish(pose_array_msg(self.sim.object_poses(), stamp, self.base_frame))

    def _on_reset(self, request, response):
        self.seed += 1
        self.observation, _ = self.sim.reset(seed=self.seed)
        self.success = False
        self._publish_expert()
        response.success, response.message = True, f'new layout (seed {self.seed})'
        return response

    def destroy_node(self):
        self.sim.close()
        super().destroy_node()


def main(args=None):
    run(SimRobotNode, 'sim_robot_node', args)


if __name__ == '__main__':
    main()
