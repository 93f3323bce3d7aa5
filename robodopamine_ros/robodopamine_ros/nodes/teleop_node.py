# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
teleop_node: a joystick (sensor_msgs/Joy) as the human's hand on the arm, with a deadman.

Pressing the deadman calls the agent's ``set_intervention`` service (active), releasing it
calls it again (inactive), and silence on ``joy`` past ``timeout_s`` ends the takeover too.
While the deadman is held, each Joy message becomes an ActionStamped on ``teleop/action``
(end-effector delta + gripper, intervention true). Mapping: ``preset`` (gamepad | spacemouse)
or the axis/button parameters (the ROS-free core: teleop.py). Time is monotonic (a wall-clock
step cannot hide a silent joystick); Joy stamps follow data/stamps.py: a small reordering or a
stamp more than ``future_tolerance`` s ahead of this node's clock is ignored, a jump beyond
``jump_threshold`` s re-bases the stream (logged once), so the deadman takes effect with the
first message after a clock step. The clear button pressed while the deadman is held
(``clear_estop_button`` of the preset: START on a gamepad) calls ``clear_estop_service``: the
agent clears its e-stop only while the deadman is held. Input frozen at a deflection (joy_node
repeating the last message of a pad that went out of range) counts as silence: the takeover
ends ``timeout_s`` after the input last changed (robot/teleop.py). A Joy message too short for
the mapping is refused: one error line per distinct problem, the takeover ends, and
``/diagnostics`` reports it (ERROR) until a valid message arrives.

Outcome labels (docs/method.md#where-success-comes-from): pressing ``success_button`` or
``failure_button`` (gamepad preset: Y / X; -1: none; -2, the default: the preset's) calls
``mark_outcome_service`` (MarkOutcome, episode 0: the current one) once per press, on its
rising edge, with or without the deadman: the operator marks the episode's end as a success or a
failure (rl_agent_node takes labels with its ``success`` 'operator' or 'either'). The answer,
accepted or refused with the reason, is logged.

"The robot is stuck" (docs/method.md#stall-signal): when grm_node flags an episode stalled
(``ProgressStamped.stalled`` on ``progress``), one line asks the operator to take over, and with
``rumble`` (default true) a rumble goes to ``joy/set_feedback`` (sensor_msgs/JoyFeedback,
intensity 1, as joy_node takes it: it plays each for one second; a pad without rumble ignores
it), and intensity 0 when progress moves again or the next episode starts. One line and one
rumble per stall (reward.stall.StallEdges).
"""

import time

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

from rclpy.node import Node
from robodopamine_interfaces.msg import ActionStamped, ProgressStamped
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.data.stamps import FUTURE_TOLERANCE_S, JUMP_THRESHOLD_S
from robodopamine_ros.nodes.outcome_client import OutcomeClient
from robodopamine_ros.nodes.parameters import declare_parameter
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.reward.stall import StallEdges
from robodopamine_ros.robot.teleop import mapping_from_settings, PRESET_BUTTON, Teleop
from sensor_msgs.msg import Joy, JoyFeedback
from std_srvs.srv import Trigger


class TeleopNode(Node):

    def __init__(self, **kwargs):
        super().__init__('teleop_node', **kwargs)
        declare_parameter(self, 'preset', 'gamepad')
        declare_parameter(self, 'axes', [-1])           # [-1]: the preset's
        declare_parameter(self, 'scale', 0.0)           # 0: the preset's
        declare_parameter(self, 'deadman_button', -1)   # -1: the preset's
        declare_parameter(self, 'timeout_s', 0.0)       # 0: the preset's
        declare_parameter(self, 'intervention_service', 'rl_agent_node/set_intervention')
        declare_parameter(self, 'clear_estop_service', 'rl_agent_node/clear_estop')
        # outcome labels: -2 the preset's (gamepad: Y success, X failure), -1 none
        declare_parameter(self, 'success_button', PRESET_BUTTON)
        declare_parameter(self, 'failure_button', PRESET_BUTTON)
        declare_parameter(self, 'mark_outcome_service', 'rl_agent_node/mark_outcome')
        declare_parameter(self, 'jump_threshold', JUMP_THRESHOLD_S)      # s, data/stamps.py
        declare_parameter(self, 'future_tolerance', FUTURE_TOLERANCE_S)  # s
        declare_parameter(self, 'rumble', True)   # the pad rumbles when the robot gets stuck
        self.teleop = Teleop(mapping_from_settings(*(self.get_parameter(n).value for n in (
            'preset', 'axes', 'scale', 'deadman_button', 'timeout_s', 'success_button',
            'failure_button'))),
            jump_threshold=self.get_parameter('jump_threshold').value,
            future_tolerance=self.get_parameter('future_tolerance').value)
        self.publisher = self.create_publisher(ActionStamped, 'teleop/action', 10)
        self.client = self.create_client(SetIntervention,
                                         self.get_parameter('intervention_service').value)
        self.clear_client = self.create_client(Trigger,
                                               self.get_parameter('clear_estop_service').value)
        self.labels = OutcomeClient(self, self.get_parameter('mark_outcome_service').value,
                                    'teleop_node/joy')
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.joy_error = None
        self.create_subscription(Joy, 'joy', self._on_joy, 10)
        self.stall = StallEdges()
        self.rumble = self.create_publisher(JoyFeedback, 'joy/set_feedback', 10) \
            if self.get_parameter('rumble').value else None
        self.create_subscription(ProgressStamped, 'progress', self._on_progress, 10)
        node_timer(self, 0.05, self._check_silence)
        node_timer(self, 1.0, self._publish_diagnostics)

    def _publish_diagnostics(self):
        level = DiagnosticStatus.ERROR if self.joy_error else DiagnosticStatus.OK
        status = DiagnosticStatus(level=level, name=f'{self.get_name()}: joy mapping',
                                  hardware_id='joy', message=self.joy_error or 'ok')
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array)

    def _set(self, active, why):
        self.client.call_async(SetIntervention.Request(active=active, source=why))

    def _on_joy(self, msg):
        was_active = self.teleop.active
        try:
            event = self.teleop.update(msg.axes, msg.buttons, time.monotonic(),
                                       msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9,
                                       self.get_clock().now().nanoseconds * 1e-9)
        except ValueError as error:
            if str(error) != self.joy_error:  # once per distinct problem
                self.joy_error = str(error)
                self.get_logger().error(self.joy_error)
                self._publish_diagnostics()
            if was_active:
                self._set(False, 'teleop: Joy message too short for the mapping')
            return
        verdict = self.teleop.stamp_verdict
        if verdict.refused == 'future':
            self.get_logger().error(verdict.note, throttle_duration_sec=5.0)
        elif verdict.note:  # a clock jump, re-based: once per jump
            self.get_logger().warn(verdict.note)
        if event is None:  # reordered, from the future, or a frozen repeat: not fresh
            return
        self.joy_error = None
        if event.started:
            self._set(True, 'teleop deadman pressed')
        if event.active:
            out = ActionStamped(values=[float(v) for v in event.action], intervention=True,
                                source='teleop')
            out.header.stamp = self.get_clock().now().to_msg()
            self.publisher.publish(out)
        if event.ended:
            self._set(False, 'teleop deadman released')
        if event.clear_estop:  # the operator at the robot: deadman + the clear button
            self.get_logger().info('clear e-stop requested (deadman held)')
            self.clear_client.call_async(Trigger.Request()).add_done_callback(
                lambda future: future.result() is not None and self.get_logger().info(
                    f'clear e-stop: {future.result().message}'))
        if event.label is not None:   # success or failure pressed (rising edge; no deadman)
            self.labels.send(event.label)

    def _on_progress(self, msg):
        edge = self.stall.update(msg.episode_id, msg.stalled)
        if edge == 'stuck':
            self.get_logger().warn(
                f'episode {msg.episode_id}: progress stalled at {msg.progress:.2f}, the robot '
                f'may be stuck: hold the deadman (button {self.teleop.mapping.deadman_button}) '
                'to take over')
        if edge is not None and self.rumble is not None:
            self.rumble.publish(JoyFeedback(type=JoyFeedback.TYPE_RUMBLE, id=0,
                                            intensity=1.0 if edge == 'stuck' else 0.0))

    def _check_silence(self):
        why = self.teleop.check(time.monotonic())  # silent, or a deflection frozen (lost pad)
        if why:
            self.get_logger().warn(f'takeover ended: {why}')
            self._set(False, f'teleop: {why}')


def main(args=None):
    run(TeleopNode, 'teleop_node', args)


if __name__ == '__main__':
    main()
