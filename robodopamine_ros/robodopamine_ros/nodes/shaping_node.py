# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
shaping_node: GRM progress in, one policy-invariant reward per control step out.

The shaping: docs/method.md#shaping.

Subscribes ``progress`` (ProgressStamped), publishes ``reward`` (RewardStamped) at the control
rate. The step alignment lives in shaping.RewardStepper; this node owns the timer, the QoS and
the parameters. A ProgressStamped with a new episode_id starts a new episode. No fresh progress,
no reward: while the newest progress arrived more than ``progress_timeout`` seconds ago
(monotonic clock; grm_node dead, respawning or without camera triplets), nothing is published
and no step is counted (logged when it starts and ends); each reward carries the stamp of the
progress it was shaped from. The reward-defining parameters (SHAPING_PARAMETERS) are applied
(logged) by ``ros2 param set`` only before the first reward and refused, with the reason, once
rewards are shaped: a learner's rewards must not change meaning mid-run.

Where success comes from is parameter ``success`` (rl.outcomes.ShapingSuccess; set it as on
rl_agent_node; docs/method.md#where-success-comes-from): ``detector`` (default) and
``either`` shape from grm_node's detector (``ProgressStamped.success``: terminal and the
success reward); ``operator`` never from it (the episode ends on the operator's label, taken by
rl_agent_node, or at ``max_steps``); ``simulator`` from ``sim_robot/success`` (std_msgs/Bool,
sim_robot_node), the privileged upper bound: refused, and the node does not start, unless
``use_sim_time`` is true (simulation only). The agent gets that flag through the rewards'
terminal flag and success reward, as it gets the detector's.
"""

import time

from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from robodopamine_interfaces.msg import ProgressStamped, RewardStamped
from robodopamine_ros.nodes.conversions import reward_msg
from robodopamine_ros.nodes.parameters import declare_parameter
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.reward.shaping import GAMMA, RewardStepper, ShapingConfig
from robodopamine_ros.rl.outcomes import ShapingSuccess, SUCCESS_DEFAULT
from robodopamine_ros.robot.hold_log import HoldLog
from std_msgs.msg import Bool

RELIABLE_DEPTH = 10
# the parameters that define the rewards: refused once rewards are shaped (RewardStepper.rewarding)
SHAPING_PARAMETERS = ('gamma', 'discount_rate', 'success_delta', 'terminate_on_success',
                      'terminal_potential_zero', 'max_steps')


class ShapingNode(Node):

    def __init__(self, **kwargs):
        super().__init__('shaping_node', **kwargs)
        declare_parameter(self, 'control_period', 0.1)     # s, the agent's control period
        declare_parameter(self, 'gamma', GAMMA)            # used when discount_rate < 0
        declare_parameter(self, 'discount_rate', -1.0)     # lambda (1/s); >= 0: gamma from it
        declare_parameter(self, 'success_delta', 0.05)
        declare_parameter(self, 'terminate_on_success', True)
        declare_parameter(self, 'terminal_potential_zero', True)
        declare_parameter(self, 'max_steps', 0)            # 0: no time limit
        # s: no reward while the newest progress is older (5 periods of a 10 Hz grm_node)
        declare_parameter(self, 'progress_timeout', 0.5)
        # detector | operator | either | simulator (rl/outcomes.py); as on rl_agent_node
        declare_parameter(self, 'success', SUCCESS_DEFAULT)
        self.success = ShapingSuccess(self.get_parameter('success').value,
                                      self.get_parameter('use_sim_time').value)
        self.stepper = RewardStepper(*self._config(),
                                     progress_timeout=self.get_parameter('progress_timeout').value)
        self.pause_log = HoldLog('publishing no reward')
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.confidence = 1.0
        self.publisher = self.create_publisher(RewardStamped, 'reward', RELIABLE_DEPTH)
        self.create_subscription(ProgressStamped, 'progress', self._on_progress, RELIABLE_DEPTH)
        if self.success.needs_simulator:   # the privileged flag (use_sim_time checked above)
            self.create_subscription(Bool, 'sim_robot/success', self._on_sim_success,
                                     RELIABLE_DEPTH)
        self.timer = node_timer(self, self.get_parameter('control_period').value, self._on_tick)

    def _config(self, overrides=None):
        """Build (ShapingConfig, max_steps) from the parameters; raise ValueError if invalid."""
        values = {p: self.get_parameter(p).value for p in (
            'control_period', 'gamma', 'discount_rate', 'success_delta',
            'terminate_on_success', 'terminal_potential_zero', 'max_steps')}
        values.update({k: v for k, v in (overrides or {}).items() if k in values})
        max_steps = values.pop('max_steps')
        return ShapingConfig.from_settings(**values), max_steps

    def _on_set_parameters(self, parameters):
        try:
            config, max_steps = self._config({p.name: p.value for p in parameters})
            RewardStepper(config, max_steps)
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
        fixed = [p.name for p in parameters
                 if p.name in ('control_period', 'progress_timeout', 'success')]
        if fixed:
            return SetParametersResult(successful=False,
                                       reason=f'{fixed[0]} is fixed once the node runs')
        shaping = [p.name for p in parameters if p.name in SHAPING_PARAMETERS]
        if shaping and self.stepper.rewarding:
            return SetParametersResult(successful=False, reason=(
                f'{", ".join(shaping)} fixed while rewards are shaped (episode '
                f"{self.stepper.episode_id}): the learner's rewards would change meaning; "
                'restart shaping_node (and the agent) to change them'))
        for p in parameters:
            self.get_logger().info(f'parameter {p.name} set to {p.value!r}')
        self.stepper.config, self.stepper.max_steps = config, max_steps
        return SetParametersResult(successful=True)

    def _on_progress(self, msg):
        if msg.episode_id != self.stepper.episode_id:
            self.stepper.start_episode(msg.episode_id)
            self.success.start_episode()
        # the success of the setting (grm_node's detector, none, or the simulator's); arrival on
        # the monotonic clock (staleness)
        self.stepper.observe(msg.progress, self.success(msg.success), time.monotonic(),
                             msg.header.stamp)
        self.confidence = msg.confidence

    def _on_sim_success(self, msg):
        self.stepper.observe_success(self.success.observe_simulator(msg.data))

    def _on_tick(self):
        now = time.monotonic()
        for level, line in self.pause_log.update(self.stepper.paused(now), now):
            if level == 'info':   # rclpy: one severity per call site
                self.get_logger().info(line)
            else:
                self.get_logger().warn(line)
        result = self.stepper.tick(now)
        if result is not None:
            step, reward = result
            self.publisher.publish(reward_msg(reward, step, self.stepper.episode_id,
                                              self.get_clock().now().to_msg(),
                                              self.confidence, self.stepper.progress_stamp))


def main(args=None):
    run(ShapingNode, 'shaping_node', args)


if __name__ == '__main__':
    main()
