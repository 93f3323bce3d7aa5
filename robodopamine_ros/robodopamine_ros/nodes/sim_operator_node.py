# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
sim_operator_node: the scripted operator at the simulated cell, a test double of the person.

Simulation only (``operator:=scripted`` of the launch file): it refuses to start unless
``use_sim_time`` is true or its parameter ``simulation`` says it runs against the simulated
robot (the launch file sets it), naming why. It does through ROS what a person with the
joystick does, by the rules of the ROS-free simulated training (rl/outcomes.py:
``ScriptedOperator``, ``OutcomeJudge``; the step loop: rl/sim_operator.py, ``SimOperator``):

- Watches ``progress`` (ProgressStamped: episode id, progress, grm_node's detector verdict),
  ``sim_robot/success`` (Bool: the simulator's flag, what a person at the cell sees; it reaches
  the learner only through this node's labels), ``sim_robot/expert_action`` (ActionStamped:
  sim_robot_node's scripted expert for the current state), ``reward`` (RewardStamped: the
  episode's last reward, terminal or truncated, ends takeovers in it: the arm stops) and
  ``episode_summary`` (the agent ended an episode, after any label window: nothing more is
  done for it).
- Takeovers: when progress gained less than ``min_gain`` over ``stall_steps`` control steps, it
  calls ``intervention_service`` (SetIntervention, active) and publishes the expert's action on
  ``teleop/action`` (ActionStamped, source 'teleop', intervention true) every control step, as
  teleop_node does for a joystick, for ``takeover_steps`` steps; then it hands back
  (SetIntervention, inactive), at once when the episode ends. A takeover that gained nothing
  goes on (the stall rule fires again).
- Labels: with ``success`` 'operator' or 'either' (set as rl_agent_node's: the launch file
  copies it), ``label_delay`` control steps after it sees the simulator's success (with
  'either', after grm_node's detector hold too: ``success_hold_s``, the launch file copies
  grm_node's) it calls ``mark_outcome_service`` (MarkOutcome, the episode's id) with success
  (right with ``label_accuracy``); with 'either' also a failure label at once when the
  detector's success ends an episode the simulator says did not succeed. The answer is logged.
- Its effort is logged, one line per episode: takeovers, labels, control steps watched.

Control steps: a timer at ``control_rate`` Hz (rl_agent_node's; on the simulation clock with
use_sim_time). Parameters: the fields of ``OperatorConfig`` (stall_steps, min_gain,
takeover_steps, label_delay, label_accuracy; its defaults), ``success`` (rl_agent_node's
default), ``control_rate``, ``success_hold_s`` (grm_node's), ``seed`` (the labels'
randomness), ``simulation``, the two service names. A malformed message (a non-finite
progress, an expert action that is not 4 finite values in [-1, 1]) is refused and logged,
never fatal.
"""

import math

from rclpy.node import Node
from robodopamine_interfaces.msg import (ActionStamped, EpisodeSummary, ProgressStamped,
                                         RewardStamped)
from robodopamine_interfaces.srv import SetIntervention
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.nodes.conversions import action_msg
from robodopamine_ros.nodes.outcome_client import OutcomeClient
from robodopamine_ros.nodes.parameters import (declare_parameter, declare_settings,
                                               refuse_parameter_changes)
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.reward.success import DEFAULT_HOLD_S, ticks_for_hold
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.outcomes import LABELLED_SOURCES, OperatorConfig
from robodopamine_ros.rl.sim_operator import effort_line, SimOperator
from std_msgs.msg import Bool

SOURCE = 'sim_operator_node'   # who asks, in SetIntervention and MarkOutcome requests


class SimOperatorNode(Node):

    def __init__(self, **kwargs):
        super().__init__('sim_operator_node', **kwargs)
        declare_parameter(self, 'simulation', False)
        config = declare_settings(self, OperatorConfig)
        declare_parameter(self, 'success', RLAgentSettings.success)
        declare_parameter(self, 'control_rate', RLAgentSettings.control_rate)   # Hz
        declare_parameter(self, 'success_hold_s', DEFAULT_HOLD_S)   # grm_node's detector hold
        declare_parameter(self, 'seed', 0)
        declare_parameter(self, 'intervention_service', 'rl_agent_node/set_intervention')
        declare_parameter(self, 'mark_outcome_service', 'rl_agent_node/mark_outcome')
        if not (self.get_parameter('use_sim_time').value or
                self.get_parameter('simulation').value):
            raise ValueError('sim_operator_node is a scripted stand-in for the operator in '
                             "simulation only (it drives the simulator's scripted expert and "
                             "labels from the simulator's success flag): start it with "
                             'use_sim_time:=true or simulation:=true (the launch file does, '
                             'with use_sim:=true operator:=scripted)')
        rate = self.get_parameter('control_rate').value
        if not (math.isfinite(rate) and rate > 0):
            raise ValueError(f'parameter control_rate must be a number of Hz > 0, got {rate}')
        self.operator = SimOperator(config, self.get_parameter('success').value,
                                    self.get_parameter('seed').value, ticks_for_hold(
                                        rate, self.get_parameter('success_hold_s').value))
        self.actions = self.create_publisher(ActionStamped, 'teleop/action', 10)
        self.intervention = self.create_client(
            SetIntervention, self.get_parameter('intervention_service').value)
        self.labels = OutcomeClient(self, self.get_parameter('mark_outcome_service').value,
                                    SOURCE)
        self.create_subscription(ProgressStamped, 'progress', self._on_progress, 10)
        self.create_subscription(Bool, 'sim_robot/success', self._on_sim_success, 10)
        self.create_subscription(ActionStamped, 'sim_robot/expert_action', self._on_expert, 10)
        self.create_subscription(RewardStamped, 'reward', self._on_reward, 10)
        self.create_subscription(EpisodeSummary, 'episode_summary', self._on_summary, 10)
        refuse_parameter_changes(self)
        node_timer(self, 1.0 / rate, self._on_tick)
        c, success = self.operator.config, self.operator.success
        labels = (f"labels ({success!r}) {c.label_delay} steps after the simulator's success, "
                  f'right with probability {c.label_accuracy:g}'
                  if success in LABELLED_SOURCES else
                  f'labels nothing (success {success!r}: the agent takes no labels)')
        self.get_logger().info(
            f'scripted operator: takes over for {c.takeover_steps} steps when progress gains '
            f'< {c.min_gain:g} over {c.stall_steps} steps; {labels}')

    # inputs ------------------------------------------------------------------------------------
    def _on_progress(self, msg):
        if not math.isfinite(msg.progress):
            self.get_logger().error(f'{self.resolve_topic_name("progress")}: progress '
                                    f'{msg.progress} is not finite: message refused',
                                    throttle_duration_sec=5.0)
            return
        self._log_effort(self.operator.observe_progress(msg.episode_id, msg.progress,
                                                        msg.success))

    def _on_sim_success(self, msg):
        self.operator.observe_simulator(msg.data)

    def _on_expert(self, msg):
        try:
            self.operator.observe_expert(msg.values)
        except ValueError as error:
            self.get_logger().error(f'{self.resolve_topic_name("sim_robot/expert_action")}: '
                                    f'{error}: message refused', throttle_duration_sec=5.0)

    def _on_reward(self, msg):
        if (msg.terminal or msg.truncated) and self.operator.last_reward(msg.episode_id):
            self._set_intervention(False, msg.episode_id)

    def _on_summary(self, msg):
        effort, hand_back = self.operator.episode_ended(msg.episode_id)
        if hand_back:
            self._set_intervention(False, msg.episode_id)
        self._log_effort(effort)

    def _log_effort(self, effort):
        if effort is not None:
            self.get_logger().info(effort_line(effort))

    # control -----------------------------------------------------------------------------------
    def _on_tick(self):
        step = self.operator.step()
        if step.take_over is not None:
            self._set_intervention(step.take_over, step.episode_id)
        if step.action is not None:
            self.actions.publish(action_msg(step.action, ActionSource.TELEOP,
                                            self.get_clock().now().to_msg()))
        elif step.missing_action:
            self.get_logger().warn(f'taking over but no expert action on '
                                   f'{self.resolve_topic_name("sim_robot/expert_action")} yet',
                                   throttle_duration_sec=5.0)
        if step.label is not None:
            self.labels.send(step.label, step.episode_id, f'episode {step.episode_id}: ')

    def _set_intervention(self, active, episode_id):
        why = f'{SOURCE}: progress stalled' if active else f'{SOURCE}: hands back'
        self.get_logger().info(f'episode {episode_id}: ' + (
            'takes over (progress stalled)' if active else 'hands back to the policy'))
        if not self.intervention.service_is_ready():
            self.get_logger().warn(f'{self.intervention.srv_name} is not available: the '
                                   f'takeover {"start" if active else "end"} is not sent')
            return
        self.intervention.call_async(SetIntervention.Request(active=active, source=why)) \
            .add_done_callback(self._intervention_answer)

    def _intervention_answer(self, future):
        response = future.result()
        if response is not None and not response.accepted:
            self.get_logger().warn(f'{self.intervention.srv_name} refused: {response.message}')


def main(args=None):
    run(SimOperatorNode, 'sim_operator_node', args)


if __name__ == '__main__':
    main()
