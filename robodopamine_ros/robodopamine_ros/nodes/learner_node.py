# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
learner_node: the learner on the GPU box, fed by the arms (docs/architecture.md).

It holds the replay buffers, the Cal-QL / ConRFT learner with its offline stage on the
demonstration bags (``demo_bags``), and the checkpoints, on ``device`` (cpu, cuda). Its
parameters are rl_agent_node's (rl/learner_settings.py: the policy's ones build the same
policy as the actors'; one YAML serves both) plus ``weights_rate`` (Hz) and ``journal_dir``.
Everything it does is rl/remote_learner.py's RemoteLearner; this node moves bytes:

- ``~/submit_episode`` (SubmitEpisode): an actor's episode. Answered 'stored' once journaled
  and handed to the learner, 'duplicate' when stored before (delivery is idempotent by uid),
  'refused' for one that does not fit (a wrong shape, a non-finite value: logged with the
  robot id, never stored).
- ``~/policy_weights`` (PolicyWeights; reliable, transient local): the acting weights when
  they change, at most ``weights_rate`` times a second, with their version and spec.
- ``~/status`` (LearnerStatus) and ``/diagnostics``, once a second.

A learner killed with kill -9 restarts from its checkpoint (``checkpoint_dir``, every
``checkpoint_every`` stored episodes, and at a clean shutdown) and its journal of the
episodes acknowledged since. Actors (rl_agent_node, parameter ``learner`` 'remote') name it by
parameter ``learner_node`` ('/learner_node'). learner.launch.py starts it.
"""

import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.node import Node
from robodopamine_interfaces.msg import LearnerStatus, PolicyWeights
from robodopamine_interfaces.srv import SubmitEpisode
from robodopamine_ros.data.topics import CAMERA_TOPICS
from robodopamine_ros.nodes.conversions import diagnostic_status, LATCHED, weights_msg
from robodopamine_ros.nodes.parameters import declare_settings, refuse_parameter_changes
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.rl.delivery import Inbox
from robodopamine_ros.rl.learner_settings import LearnerSettings
from robodopamine_ros.rl.learner_thread import LearnerThread
from robodopamine_ros.rl.policy_setup import fill_demos, policy_setup
from robodopamine_ros.rl.remote_learner import learner_ledger, RemoteLearner


class LearnerNode(Node):

    def __init__(self, **kwargs):
        super().__init__('learner_node', **kwargs)
        self.settings = s = declare_settings(self, LearnerSettings)
        setup = policy_setup(s)
        if setup.warning:
            self.get_logger().warn(setup.warning)
        slots = s.view_slots({view: self.resolve_topic_name(topic)
                              for view, topic in CAMERA_TOPICS.items()})
        for level, line in fill_demos(setup, s, slots):
            if level == 'warn':   # rclpy: one severity per call site
                self.get_logger().warn(line)
            else:
                self.get_logger().info(line)
        thread = LearnerThread(setup.learner, offline_updates=s.offline_updates,
                               pretrain_updates=s.pretrain_updates,
                               updates_per_step=s.updates_per_step, log=self.get_logger().info)
        self.remote = RemoteLearner(thread, Inbox(s.journal_folder(), learner_ledger(setup.extra)),
                                    s.checkpoint_dir, setup.spec(s),
                                    checkpoint_every=s.checkpoint_every,
                                    weights_period_s=1.0 / s.weights_rate,
                                    log=self.get_logger().info,
                                    extra=s.checkpoint_extra(setup.trained))
        self.remote.start()
        self.get_logger().info(f'learning on {s.device}: {thread.describe()}; episodes on '
                               f'{self.resolve_service_name("~/submit_episode")}')
        self.create_service(SubmitEpisode, '~/submit_episode', self._on_episode)
        self.weights = self.create_publisher(PolicyWeights, '~/policy_weights', LATCHED)
        self.status = self.create_publisher(LearnerStatus, '~/status', 10)
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        refuse_parameter_changes(self)
        node_timer(self, 0.05, self._publish_weights)
        node_timer(self, 1.0, self._publish_status)

    def _on_episode(self, request, response):
        receipt = self.remote.receive(bytes(request.data))
        response.status, response.message = receipt.status, receipt.message
        response.learner_updates = self.remote.thread.total_updates
        if receipt.status == 'refused':
            self.get_logger().error(f'episode from {request.robot_id or receipt.robot_id} '
                                    f'refused: {receipt.message}')
        elif receipt.status == 'stored':
            self.get_logger().info(f'episode {receipt.uid} of {receipt.robot_id} stored: '
                                   f'{receipt.message}', throttle_duration_sec=10.0)
        return response

    def _publish_weights(self):
        newest = self.remote.weights(time.monotonic())
        if newest is not None:
            self.weights.publish(weights_msg(PolicyWeights(), *newest,
                                             self.get_clock().now().to_msg()))

    def _publish_status(self):
        status = self.remote.status()
        stamp = self.get_clock().now().to_msg()
        msg = LearnerStatus(**status)
        msg.header.stamp = stamp
        self.status.publish(msg)
        level, message, values = self.remote.diagnostics()
        diagnostics = DiagnosticArray(status=[diagnostic_status(
            f'{self.get_fully_qualified_name()}: learner', level, message, values,
            hardware_id='learner')])
        diagnostics.header.stamp = stamp
        self.diagnostics.publish(diagnostics)

    def destroy_node(self):
        """Write a last checkpoint (the journal holds the rest anyway), stop learning."""
        try:
            path = self.remote.checkpoint()
            if path is not None:
                self.get_logger().info(f'shutdown: checkpoint written: {path}')
        except (OSError, RuntimeError) as error:   # the journal keeps what was acknowledged
            self.get_logger().warn(f'shutdown: no checkpoint ({error}); the journal in '
                                   f'{self.settings.journal_folder()} keeps the episodes')
        self.remote.stop()
        super().destroy_node()


def main(args=None):
    run(LearnerNode, 'learner_node', args)


if __name__ == '__main__':
    main()
