# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The client side of rl_agent_node's ``~/mark_outcome``, shared by the nodes that label outcomes.

teleop_node (the joystick's success / failure buttons) and sim_operator_node (the scripted
operator in simulation) send a label the same way: never blocking, one log line when it is
sent, one with the agent's answer (a refusal as a warning), and a warning instead of a call
when the service is not available.
"""

from robodopamine_interfaces.srv import MarkOutcome


class OutcomeClient:
    """Send MarkOutcome labels from `node` to `service` (a name, resolved in the node's ns)."""

    def __init__(self, node, service, source):
        self.node, self.source = node, source
        self.client = node.create_client(MarkOutcome, service)

    def send(self, success, episode_id=0, what=''):
        """
        Ask the agent to label episode `episode_id` (0: the current one) a success or a failure.

        what: the start of the log lines (e.g. 'episode 3: '). Returns False when the service
        is not available (logged), True once the request is sent; the answer is logged.
        """
        outcome = 'success' if success else 'failure'
        log = self.node.get_logger()
        if not self.client.service_is_ready():
            log.warn(f'{what}{outcome} label not sent: {self.client.srv_name} is not available')
            return False
        log.info(f'{what}{outcome} label sent')
        request = MarkOutcome.Request(episode_id=episode_id, success=success,
                                      source=self.source)
        self.client.call_async(request).add_done_callback(self._answered)
        return True

    def _answered(self, future):
        response = future.result()
        if response is None:
            return
        if response.accepted:   # rclpy: one severity per call site
            self.node.get_logger().info(f'label: {response.message}')
        else:
            self.node.get_logger().warn(f'label refused: {response.message}')
