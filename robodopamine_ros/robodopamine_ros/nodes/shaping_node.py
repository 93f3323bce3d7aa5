# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
shaping_node: GRM progress in, one policy-invariant reward per control step out.

The shaping: docs/method.md#shaping.

Subscribes ``progress`` (ProgressStamped), publishes ``reward`` (RewardStamped) at the control
rate. The step alignment lives in shaping.RewardStepper; this node owns the timer, the QoS and
the parameters. A ProgressStamped with a new episode_id starts a new episode.
"""

from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from robodopamine_interfaces.msg import ProgressStamped, RewardStamped
from robodopamine_ros.nodes.conversions import reward_msg
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.reward.shaping import GAMMA, RewardStepper, ShapingConfig

RELIABLE_DEPTH = 10


class ShapingNode(Node):

    def __init__(self, **kwargs):
        super().__init__('shaping_node', **kwargs)
        self.declare_parameter('control_period', 0.1)     # s, the agent's control period
        self.declare_parameter('gamma', GAMMA)            # used when discount_rate < 0
        self.declare_parameter('discount_rate', -1.0)     # lambda (1/s); >= 0: gamma from it
        self.declare_parameter('success_delta', 0.05)
        self.declare_parameter('terminate_on_success', True)
        self.declare_parameter('terminal_potential_zero', True)
        self.declare_parameter('max_steps', 0)            # 0: no time limit
        self.stepper = RewardStepper(*self._config())
        self.add_on_set_parameters_callback(self._on_set_parameters)
        self.confidence = 1.0
        self.publisher = self.create_publisher(RewardStamped, 'reward', RELIABLE_DEPTH)
        self.create_subscription(ProgressStamped, 'progress', self._on_progress, RELIABLE_DEPTH)
        self.timer = self.create_timer(self.get_parameter('control_period').value, self._on_tick)

    def _config(self, overrides=None):
        """Build (ShapingConfig, max_steps) from the parameters; raise ValueError if invalid."""
        values = {p: self.get_parameter(p).value for p in (
            'control_period', 'gamma', 'discount_rate', 'success_delta',
            'terminate_on_success', 'terminal_potential_zero', 'max_steps')}
        values.update(overrides or {})
        max_steps = values.pop('max_steps')
        return ShapingConfig.from_settings(**values), max_steps

    def _on_set_parameters(self, parameters):
        try:
            config, max_steps = self._config({p.name: p.value for p in parameters})
            RewardStepper(config, max_steps)
        except ValueError as error:
            return SetParametersResult(successful=False, reason=str(error))
        if any(p.name == 'control_period' for p in parameters):
            return SetParametersResult(successful=False,
                                       reason='control_period is fixed once the node runs')
        self.stepper.config, self.stepper.max_steps = config, max_steps
        return SetParametersResult(successful=True)

    def _on_progress(self, msg):
        if msg.episode_id != self.stepper.episode_id:
            self.stepper.start_episode(msg.episode_id)
        self.stepper.observe(msg.progress, msg.success)   # grm_node's detected success
        self.confidence = msg.confidence

    def _on_tick(self):
        result = self.stepper.tick()
        if result is not None:
            step, reward = result
            self.publisher.publish(reward_msg(reward, step, self.stepper.episode_id,
                                              self.get_clock().now().to_msg(),
                                              self.confidence))


def main(args=None):
    run(ShapingNode, 'shaping_node', args)


if __name__ == '__main__':
    main()
