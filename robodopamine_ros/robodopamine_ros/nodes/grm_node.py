# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
grm_node: three cameras in, ProgressStamped out at the GRM rate.

Progress and its fusion: docs/method.md#three-perspectives-and-fusion.

Camera callbacks (sensor QoS) only decode and hand images to the ROS-free
grm.online.OnlineProgress; the model runs in a worker thread of its own, woken by the GRM-rate
timer, so camera callbacks never queue behind inference and a plain single-threaded executor
suffices (rclpy 7.1.6's MultiThreadedExecutor was seen spinning hot when a callback group was
busy). A tick that comes while the model still runs is merged into the next one. Services:
``~/start_episode`` (StartEpisode: the newest views become s_0) and ``~/capture_goal``
(std_srvs/Trigger: the newest views become the goal). Diagnostics on /diagnostics. The reward
contract's GRM half (docs/method.md#the-reward-contract: the model's content hash, the views'
cameras, the references, the detector's settings) and the GRM rate go out once on
``robodopamine/grm_contract`` (std_msgs/String, JSON; reliable, transient local: late subscribers
get it). "The robot is stuck": ``ProgressStamped.stalled`` when an episode's progress rose by
less than ``stall_min_gain`` over the last ``stall_window`` s of camera time (reward/stall.py;
also a WARN on /diagnostics while it lasts, and ``stalls`` counted there). A rig without all
three views: ``empty_views`` (views no camera fills; the others keep their topics) and ``fill``
(repeat:<view> or blank: data/view_slots.py), logged at start and in the diagnostics. Backend
``openai`` asks a Qwen-VL GRM behind an OpenAI-compatible server (vLLM, SGLang; grm/served.py:
``base_url``, ``model``, ``api_key_env``, ``timeout_s``): a server that does not answer at
start is one fatal line naming it; later, a query it does not answer in time is no answer
(``no_answers`` and ``answered_by`` in the diagnostics).
A GRM refresh (grm/refresh.py) swaps a new model into ``model_dir``: at the next
``~/start_episode`` grm_node loads it (``reload_model``, default true), says so in its log with
both content hashes, and publishes the new reward contract (a model it cannot take, of another
image size or that does not load, is named in a warning and the current one stays). With
``episodes_dir``, each episode is kept there as a bag (data/online_episodes.py: the scored
views, the published progress, the commanded actions from ``/robodopamine/action`` with their
takeovers) once rl_agent_node's ``episode_summary`` gives its outcome (grm/episode_keeper.py:
who said how it ended, with ``operator_labels``); a refresh reads them.

Cameras are synchronized with message_filters.ApproximateTimeSynchronizer where it is importable
(every ROS installation), else with the ROS-free robodopamine_ros.data.sync; the startup log and
the diagnostics (``synchronizer``) say which. Camera stamps that jump back by more than
``jump_threshold`` seconds (a simulator reset, a bag played in a loop, a restarted driver)
reset the synchronizer; a camera whose clock stays that far from the others' is synchronized
by arrival time. Both are logged, counted in the diagnostics (sync_resets, last_sync_reset)
and shown as a warning for 10 s (a re-based camera: as long as it lasts).
"""


from functools import partial
import threading

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import ActionStamped, EpisodeSummary, ProgressStamped
from robodopamine_interfaces.srv import StartEpisode
from robodopamine_ros.data.bags import TopicConfig
from robodopamine_ros.data.images import decode_image
from robodopamine_ros.data.online_episodes import write_online_episode
from robodopamine_ros.data.sync import CAMERA_JUMP_S, CAMERA_SLOP_S
from robodopamine_ros.data.topics import CAMERA_TOPICS
from robodopamine_ros.data.view_slots import ViewSlots
from robodopamine_ros.grm.episode_keeper import EpisodeKeeper
from robodopamine_ros.grm.online import OnlineProgress
from robodopamine_ros.nodes.conversions import LATCHED, ns_from_time, progress_msg, \
    time_from_ns
from robodopamine_ros.nodes.message_filters_sync import camera_synchronizer
from robodopamine_ros.nodes.parameters import declare_parameter, refuse_parameter_changes
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.reward.contract import publish_terms
from robodopamine_ros.reward.progress import ProgressConfig
from robodopamine_ros.reward.stall import STALL_MIN_GAIN, STALL_WINDOW_S, StallConfig
from robodopamine_ros.reward.success import DEFAULT_HOLD_S, ticks_for_hold
from sensor_msgs.msg import Image
from std_msgs.msg import String
from std_srvs.srv import Trigger


class GRMNode(Node):

    def __init__(self, **kwargs):
        super().__init__('grm_node', **kwargs)
        declare = partial(declare_parameter, self)   # an int for a float is taken
        declare('backend', 'compact')       # compact | vlm | pixel-baseline | openai
        declare('base_url', '')              # openai: the server's API root (.../v1)
        declare('model', '')                 # openai: the name it serves the GRM under
        declare('api_key_env', '')           # openai: the variable holding its API key
        declare('timeout_s', 5.0)            # openai: s a query may take (then no answer)
        declare('model_dir', '')
        declare('task', '')                  # empty: the task stored with the model
        declare('goal_image', '')            # empty: the model's reference END image
        declare('rate', 10.0)                # Hz
        declare('slop', CAMERA_SLOP_S)       # s
        declare('jump_threshold', CAMERA_JUMP_S)  # s, camera stamps jumping back reset sync
        declare('fusion', 'mean')
        declare('alpha', 20.0)
        declare('eps', 1e-3)
        declare('success_delta', ProgressConfig.success_delta)   # success: progress >= 1 - delta
        declare('success_hold_s', DEFAULT_HOLD_S)   # ... held this long (s; ticks at rate)
        declare('success_hold', 0)   # ticks, until 2026-12-07: refused when set (below)
        declare('stall_window', STALL_WINDOW_S)     # s of camera time without ...
        declare('stall_min_gain', STALL_MIN_GAIN)   # ... this progress gain: stalled
        declare('empty_views', [''])     # views no camera fills (a rig without all three)
        declare('fill', '')              # their rule: repeat:<view> | blank (data/view_slots.py)
        declare('device', 'cpu')
        declare('frame_id', 'front_camera')
        declare('reload_model', True)    # a model folder swapped in (a refresh) is loaded
        #                                  at the next episode's start
        declare('episodes_dir', '')      # each episode kept there as a bag with its outcome
        declare('operator_labels', True)  # an operator labels outcomes (success 'either' or
        #                                   'operator'): who said how an episode ended
        p = {name: self.get_parameter(name).value for name in (
            'backend', 'model_dir', 'task', 'goal_image', 'rate', 'slop', 'jump_threshold',
            'fusion', 'alpha', 'eps', 'success_delta', 'success_hold_s', 'device', 'frame_id',
            'stall_window', 'stall_min_gain', 'empty_views', 'fill')}
        if not p['rate'] > 0:
            raise ValueError(f'rate must be > 0 Hz, got {p["rate"]}')
        if self.get_parameter('success_hold').value:   # a params file of before: not ignored
            raise ValueError('parameter success_hold (GRM ticks) was replaced by success_hold_s '
                             f'(seconds, turned into ticks at rate): set success_hold_s: '
                             f'{self.get_parameter("success_hold").value / p["rate"]:g} for '
                             'the same hold')
        synchronizer, self.synchronizer_name = camera_synchronizer()
        self.online = OnlineProgress.from_settings(
            p['backend'], p['model_dir'], p['task'], p['goal_image'], p['device'],
            ProgressConfig(fusion=p['fusion'], alpha=p['alpha'], eps=p['eps'],
                           success_delta=p['success_delta'],
                           success_hold=ticks_for_hold(p['rate'], p['success_hold_s'])),
            p['slop'],
            p['jump_threshold'], synchronizer=synchronizer,
            server={k: self.get_parameter(k).value for k in (
                'base_url', 'model', 'api_key_env', 'timeout_s')},
            stall=StallConfig(p['stall_window'], p['stall_min_gain']),
            slots=ViewSlots.without({view: self.resolve_topic_name(topic) for view, topic in
                                     CAMERA_TOPICS.items()}, p['empty_views'], p['fill']))
        self.get_logger().info(f'camera synchronization: {self.synchronizer_name}')
        self.frame_id = p['frame_id']
        self.reload_model = bool(self.get_parameter('reload_model').value)
        self.episodes_dir = self.get_parameter('episodes_dir').value
        self.keeper, self._writers = None, []
        if self.episodes_dir:
            self.keeper = EpisodeKeeper(self.get_parameter('operator_labels').value,
                                        self.online.terms['grm'], self.get_namespace(),
                                        log=self.get_logger().warning)
            self.create_subscription(EpisodeSummary, 'episode_summary', self._on_summary, 10)
            self.create_subscription(ActionStamped, TopicConfig().action, self._on_action, 100)
            self.get_logger().info(f'keeping each episode as a bag in {self.episodes_dir}')
        self._resets_logged = 0
        refuse_parameter_changes(self)

        for view in self.online.cameras:   # the views a camera fills
            self.create_subscription(Image, CAMERA_TOPICS[view], self._camera_callback(view),
                                     qos_profile_sensor_data)
        if self.online.slots.missing:
            self.get_logger().info(self.online.slots.fill_note())
        self.publisher = self.create_publisher(ProgressStamped, 'progress', 10)
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.contract_publisher = self.create_publisher(String, 'robodopamine/grm_contract',
                                                        LATCHED)
        self.rate = p['rate']
        self._publish_contract()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._worker = threading.Thread(target=self._inference_loop, name='grm_inference',
                                        daemon=True)
        self._worker.start()
        node_timer(self, 1.0 / p['rate'], self._wake.set)
        node_timer(self, 1.0, self._publish_diagnostics)
        self.create_service(StartEpisode, '~/start_episode', self._on_start_episode)
        self.create_service(Trigger, '~/capture_goal', self._on_capture_goal)

    def _camera_callback(self, view):
        def callback(msg):
            try:
                image = decode_image(msg, where=f'{CAMERA_TOPICS[view]}')
            except ValueError as error:
                self.get_logger().error(str(error), throttle_duration_sec=5.0)
                return
            self.online.add_image(view, ns_from_time(msg.header.stamp), image)
        return callback

    def _inference_loop(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return
            result = self.online.tick()
            if result is not None:
                stamp, tick, episode_id, stalled = result
                if self.keeper is not None:
                    self.keeper.tick(episode_id, stamp, self.online.scored[1], tick.estimate)
                try:
                    self.publisher.publish(progress_msg(tick.estimate, episode_id,
                                                        time_from_ns(stamp), self.frame_id,
                                                        tick.latency_s, stalled))
                except Exception:
                    if self.context.ok():
                        raise
                    return  # SIGINT shut the context down while the model ran: stop quietly

    def destroy_node(self):
        self._stop.set()
        self._wake.set()
        self._worker.join(timeout=5.0)
        for writer in self._writers:
            writer.join(timeout=10.0)
        super().destroy_node()

    def _on_start_episode(self, request, response):
        change = self.online.reload_if_swapped() if self.reload_model else None
        if change is not None:   # a refreshed GRM (grm/refresh.py) scores from now on
            taken, line = change
            (self.get_logger().info if taken else self.get_logger().warning)(line)
            if taken:
                self._publish_contract()
        if request.task:
            self.online.task = request.task
        response.success = self.online.start_episode(request.episode_id)
        response.episode_id = self.online.episode_id
        if not response.success:
            response.message = 'no synchronized camera triplet received yet'
        else:
            self.publisher.publish(progress_msg(
                self.online.estimator.tracker.estimate, self.online.episode_id,
                self.get_clock().now().to_msg(), self.frame_id, 0.0))
            if self.keeper is not None:
                self.keeper.grm = self.online.terms['grm']
                self.keeper.start(self.online.episode_id, *self.online.scored,
                                  self.online.estimator.tracker.estimate)
        return response

    def _on_action(self, msg):
        if self.keeper is not None:
            self.keeper.action(ns_from_time(msg.header.stamp), msg.values, msg.intervention)

    def _on_summary(self, msg):
        kept = self.keeper.finish(msg.episode_id, msg.success)
        if kept is None:
            return
        # written beside the executor: a bag of PNG views takes a fraction of a second
        writer = threading.Thread(target=self._write_episode, args=kept, daemon=False,
                                  name=f'episode_{msg.episode_id}_bag')
        self._writers = [w for w in self._writers if w.is_alive()] + [writer]
        writer.start()

    def _write_episode(self, outcome, stamps, views, fields, actions):
        try:
            path = write_online_episode(self.episodes_dir, outcome, stamps, views, fields,
                                        actions)
            self.get_logger().info(f'episode {outcome.episode_id} kept in {path} '
                                   f'({outcome.how}, {len(stamps)} ticks)')
        except (OSError, ValueError) as error:
            self.get_logger().error(f'episode {outcome.episode_id}: not kept in '
                                    f'{self.episodes_dir}: {error}')

    def _on_capture_goal(self, request, response):
        response.success = self.online.capture_goal()
        if response.success:   # another goal, another reward contract
            self._publish_contract()
        response.message = 'goal captured' if response.success else \
            'no synchronized camera triplet received yet'
        return response

    def _publish_contract(self):
        self.contract_publisher.publish(String(data=publish_terms(self.online.terms, self.rate)))

    def _publish_diagnostics(self):
        values, silent = self.online.diagnostics()
        if values['sync_resets'] != self._resets_logged:
            self._resets_logged = values['sync_resets']
            self.get_logger().warning(f'camera clocks: {values["last_sync_reset"]} (reset '
                                      f'{values["sync_resets"]} of the synchronizer)')
        warnings = ([f'no images from {", ".join(silent)}'] if silent else []) \
            + self.online.clock_warnings() + self.online.stall_warnings()
        status = DiagnosticStatus(name='grm_node: progress', hardware_id='grm')
        status.level = DiagnosticStatus.WARN if warnings else DiagnosticStatus.OK
        status.message = '; '.join(warnings) if warnings else 'scoring'
        values['synchronizer'] = self.synchronizer_name
        status.values = [KeyValue(key=k, value=str(v)) for k, v in values.items()]
        array = DiagnosticArray(status=[status])
        array.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array)


def main(args=None):
    run(GRMNode, 'grm_node', args)


if __name__ == '__main__':
    main()
