# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
rl_agent_node: the Dopamine-RL agent driving the arm at a fixed control rate (issue 9).

Observations (parameter ``observation``): 'robot' (the default): ``joint_states`` +
``robodopamine/ee_pose`` (state = joint positions and the pose), and with parameter ``objects``
> 0 the tracked objects' poses (PoseArray on ``robodopamine/object_poses``; robot/state.py gives
the layout). 'cameras' (modes train and eval): the three camera topics (``cameras/<view>/
image_raw``, sensor-data QoS, as grm_node: synchronized with message_filters or data/sync.py,
parameters ``slop`` and ``camera_jump_threshold``) + the joints and the hand pose, built by
rl.live_cameras (robot_camera_observation: the simulator training's policy_observation). The
policy is a checkpoint's (trained in the simulator, ``robodopamine train --observation
cameras``, or by this node), or in train without one a new policy of parameters
``image_size`` (the views' width, height; [0, 0]: data/topics.py IMAGE_SIZE, 64x48) and
``image_encoder`` ('': 'grm', the frozen features of the GRM in ``grm_dir``, the launch's
model_dir; 'grm-tuned', that GRM's encoder trained on by the critic; or 'cnn'); with a
checkpoint its record wins and a differing explicit value does not
start the node (both named). Views are decoded to RGB (bgr8 and the other encodings of
data/images.py) and resized to the policy's image_size by the rule the demonstrations follow
(rl.observations.policy_view: area interpolation); each camera must publish the size its view's
training data came from (the checkpoint's camera_size, per view; a simulator checkpoint's is its
image_size; training from scratch: the demo_bags' recorded sizes, else each view's first live
image's): another size is refused (logged, naming the topic and both sizes; the arm stops).
Checkpoints
written here record image_size, image_encoder, the GRM folder and camera_size. With the frozen
GRM encoder the views are encoded by the GRM of parameter ``grm_dir`` (the launch: model_dir),
else the folder the checkpoint names (missing, or another GRM than the one the checkpoint's
fingerprint records: the node does not start). No fresh
triplet for ``observation_timeout`` (watched stream 'cameras') -> a stop until triplets return.
A checkpoint trained with another observation (a simulator-only 'state' always) does not start
the node: the error names both. Joint positions are taken by
name in parameter ``joint_names``' order (data/joints.py): a message lacking one or naming
another is refused, and a checkpoint trained on other joint names does not start the node.
Timers run on a steady clock unless ``use_sim_time`` (nodes/timers.py). Rewards: ``reward`` from
shaping_node: its progress and end flags; the stored reward of each executed step is shaped
from them by the control loop (ControlLoop). Every tick publishes the
agent's command as ActionStamped on ``command`` (what sim_robot_node executes and bags record)
and, through the selected ros2_control adapter, on ``adapter_topic``; the gripper on
``gripper_topic``. The control loop, learner thread, safety layer, watchdog and adapters are
the ROS-free core (rl.agent_loop: ControlLoop; rl.learner_thread: LearnerThread;
rl.episode_cycle; robot.safety, robot.watchdog, robot.controller_adapters); the parameters are
rl.agent_settings.RLAgentSettings
and the messages are built in nodes.conversions. This node owns timers, topics, services and
parameters.

Modes: ``train`` and ``eval`` start each episode through grm_node's StartEpisode service and
need its rewards; ``collect`` (recording demonstrations) runs without the GRM: episodes are
numbered here, only observations are watched, and the arm moves only while teleop holds the
deadman (the policy never acts). ``demo_bags`` (train): recorded demonstrations
(rl.demonstrations) that fill an empty demo buffer before the offline stage. The policy holds
while the hand is outside the workspace box, and says why. ``eval`` (rl.eval_run) runs
``eval_episodes`` episodes, logs them in LOG_DIR/eval_<UTC time>/episodes.csv (never the
training log) with the simulator's ground truth (``sim_robot/success``, when it comes) beside
the detector's verdict, logs the success rate and exits.
Holds: an episode's end (shaping_node's flags, or no fresh reward for reward_loss_timeout)
counts while the arm is held; the reset, homing and next episode wait for the hold to end. A
hold is logged when it starts and ends, and at most every few seconds between.

Services: ``~/set_intervention`` (SetIntervention: teleop takes over / hands back),
``~/estop`` and ``~/clear_estop`` (Trigger; the stop latches; clearing needs the teleop
deadman held, and the policy resumes at the next episode), ``~/save_checkpoint`` (answered
in a thread of its own, beside the control tick: nodes.side_service; a failed save, a full disk,
answers false with why, is logged once, keeps the previous checkpoint, and the node goes on;
rl.saving). Periodic checkpoints are written in a thread of their own; a clean shutdown
(Ctrl-C) writes a last one, bounded in time (rl.saving, save_at_exit), and says so. A resume
numbers its episodes on from the checkpoint's and drops the log rows written after it
(rl.episode_cycle.episodes_done); ``updates`` in the log is the learner's total. The log says
where the demo buffer came from (rl.demonstrations.fill_demo_buffer), a resume, each stage of
the learner and each checkpoint written. Learner updates skipped
for a non-finite loss are counted in the log (``skipped_updates``) and warned about per
episode. Parameters
are read at start: ``ros2 param set`` is refused with that reason.
Reward contract (docs/method.md#the-reward-contract): grm_node's half on
``robodopamine/grm_contract`` plus this node's shaping and success source
(reward.contract.ContractKeeper) is published on ``robodopamine/reward_contract``
(std_msgs/String, JSON; reliable, transient local), named in each episodes.csv row (its digest;
reward_contracts.json beside) and kept in checkpoints; a resume under another contract than
the checkpoint's is warned about, naming the fields that differ.
Outcome labels: ``~/mark_outcome`` (MarkOutcome: the operator's label, from teleop_node's
success / failure buttons). Parameter ``success`` (as on shaping_node): with 'operator' or
'either' a label ends the running episode as a success or a failure, an episode that ended
without one waits ``label_window`` s for one (the arm still, no reset) before it goes to the
learner, and a late or unknown label is refused naming the episode (rl.outcomes.OutcomeLabels;
``labels`` and ``rejected`` per episode in episodes.csv); with 'detector' (default) or
'simulator' labels are refused; 'simulator' needs ``use_sim_time``.
Faults: stale joints, hand pose, object poses, camera triplets or rewards -> zero motion,
gripper held, until they return (each stream's stamps by data/stamps.py: reordered or future
stamps refused, clock jumps re-based and logged once); a hand pose not in ``base_frame`` or not
finite, joint positions that are not finite (NaN or inf, the joints named) or not named as
configured, or a camera image that does not decode or is at another camera size -> the same at
once; e-stop -> the same until cleared; a malformed ``teleop/action`` -> refused
(logged); an exception in the control tick -> a stop, logged, and the node goes on; a bad
parameter -> the node does not start.
"""

from dataclasses import replace
import time
import traceback

from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray, PoseStamped
import numpy as np
from rclpy.node import Node
from rclpy.qos import qos_profile_sensor_data
from robodopamine_interfaces.msg import (ActionStamped, EpisodeSummary, LearnerStatus,
                                         PolicyWeights, RewardStamped)
from robodopamine_interfaces.srv import (MarkOutcome, SetIntervention, StartEpisode,
                                         SubmitEpisode)
from robodopamine_ros.data.action_source import ActionSource
from robodopamine_ros.data.images import decode_image
from robodopamine_ros.data.topics import CAMERA_TOPICS, VIEWS
from robodopamine_ros.nodes.conversions import (action_msg, adapter_msg, ADAPTER_TYPES,
                                                diagnostic_status, episode_request, LATCHED,
                                                ns_from_time,
                                                pose_array_values, pose_values, reward_values,
                                                seconds_from_header, summary_msg)
from robodopamine_ros.nodes.message_filters_sync import camera_synchronizer
from robodopamine_ros.nodes.parameters import declare_settings, refuse_parameter_changes
from robodopamine_ros.nodes.side_service import SideService
from robodopamine_ros.nodes.spin import run
from robodopamine_ros.nodes.timers import node_timer
from robodopamine_ros.reward.contract import ContractError, ContractKeeper
from robodopamine_ros.rl.acting import PolicyActor
from robodopamine_ros.rl.agent_loop import ControlLoop, NOT_HELD
from robodopamine_ros.rl.agent_settings import RLAgentSettings
from robodopamine_ros.rl.delivery import Outbox
from robodopamine_ros.rl.episode_cycle import EpisodeCycle, episodes_done
from robodopamine_ros.rl.eval_run import eval_folder, EvalRun
from robodopamine_ros.rl.learner_thread import LearnerThread
from robodopamine_ros.rl.live_cameras import CameraTriplets, robot_camera_observation
from robodopamine_ros.rl.logs import TrainingLog
from robodopamine_ros.rl.outcomes import check_success_source
from robodopamine_ros.rl.policy_setup import fill_demos, policy_setup
from robodopamine_ros.rl.remote_actor import RemoteActor
from robodopamine_ros.rl.saving import CheckpointSaver, EXIT_CLEANUP_S, EXIT_SAVE_S
from robodopamine_ros.robot.controller_adapters import to_command
from robodopamine_ros.robot.hold_log import HoldLog
from robodopamine_ros.robot.state import finite_object_poses, hand_pose, robot_state
from robodopamine_ros.robot.watchdog import Watchdog
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, Float64, String
from std_srvs.srv import Trigger

# the watchdog's streams and their topics (for the log)
WATCHED = {'observation': 'joint_states', 'ee_pose': 'robodopamine/ee_pose',
           'objects': 'robodopamine/object_poses', 'reward': 'reward', 'progress': 'reward'}


class RLAgentNode(Node):

    def __init__(self, **kwargs):
        super().__init__('rl_agent_node', **kwargs)
        self.settings = s = declare_settings(self, RLAgentSettings)
        check_success_source(s.success, self.get_parameter('use_sim_time').value)  # simulator
        # what the checkpoint's policy observes, checked before its buffers are loaded
        setup = policy_setup(s)
        self.trained, self.features, self.views = setup.trained, setup.features, setup.views
        self.shapes = shapes = setup.shapes
        learner, extra, checkpoint = setup.learner, setup.extra, setup.checkpoint
        if setup.warning:
            self.get_logger().warn(setup.warning)
        self.actor = PolicyActor(learner.config, shapes, s.safety_config())
        self.actor.load(learner.actor_state())
        shaping = s.shaping_config(learner.config.gamma)
        self.learner = self._remote_actor(setup) if s.remote else \
            LearnerThread(learner, offline_updates=s.offline_updates,
                          pretrain_updates=s.pretrain_updates,
                          updates_per_step=s.updates_per_step, log=self.get_logger().info)
        if checkpoint is not None:
            self.get_logger().info(f'resumed from {checkpoint}: {self.learner.describe()}' + (
                '; the offline stage is not run again' if s.mode == 'train' and not s.remote
                else ''))
        # the rig: which camera fills which view (parameters empty_views, fill)
        self.slots = s.view_slots({view: self.resolve_topic_name(topic)
                                   for view, topic in CAMERA_TOPICS.items()})
        if s.mode == 'train' and not s.remote:   # where the demo buffer comes from, said once
            self._log_lines(fill_demos(setup, s, self.slots))
        if s.mode == 'train':
            self.learner.start()
        self.saver = CheckpointSaver(self.learner)   # never in the tick's thread, never fatal
        self.skipped_logged = 0   # learner updates skipped (non-finite loss) already logged
        camera_topics = [self.slots.cameras[view] for view in self.slots.present]
        self.watchdog = Watchdog(s.watchdog_timeouts(), jump_threshold=s.jump_threshold,
                                 future_tolerance=s.future_tolerance, names=dict(
                                     {k: self.resolve_topic_name(v) for k, v in WATCHED.items()},
                                     cameras='camera triplets (' + ', '.join(camera_topics)
                                     + ')'))
        self.loop = ControlLoop(self.actor, s.mode, s.max_steps, self.watchdog,
                                on_episode=self.learner.add_episode, home=s.home(),
                                home_tolerance=s.home_tolerance, shaping=shaping,
                                teleop=s.teleop_expiry(), on_step=self.learner.grant,
                                reward_loss_s=s.reward_loss_timeout,
                                policy_ready=(self.learner.ready if s.remote
                                              else lambda: self.learner.online)
                                if s.mode == 'train' else None,
                                success=s.success, label_window=s.label_window,
                                home_timeout=s.home_timeout)
        done = episodes_done(learner.counters, extra)   # a resume continues its numbering
        self.cycle = EpisodeCycle(done, s.checkpoint_every,
                                  checkpoints=s.saves_checkpoints,
                                  home=self.loop.home is not None)
        self.jacobian = s.jacobian_matrix()
        self.evaluation = EvalRun(s.eval_episodes) if s.mode == 'eval' else None
        if self.evaluation is not None:
            self.create_subscription(Bool, 'sim_robot/success', self._on_ground_truth, 10)
        self.log = None if not s.log_dir else TrainingLog(s.log_dir) if self.evaluation is None \
            else TrainingLog(eval_folder(s.log_dir), tensorboard=False)
        if self.log is not None and self.evaluation is None and checkpoint is not None:
            self.log.truncate_after(done)   # the episodes after the checkpoint run again
        self.contracts = ContractKeeper(shaping, s.success, s.period, saved=(
            extra or {}).get('reward_contract'))
        self.joints, self.pose, self.objects = None, None, None
        self.joint_order = s.joint_order()
        self.hold_log = HoldLog('holding the arm')
        self.tick_error = None   # the last exception of a control tick (logged once in full)

        self.create_subscription(JointState, 'joint_states', self._on_joints, 10)
        self.create_subscription(PoseStamped, 'robodopamine/ee_pose', self._on_pose, 10)
        if s.objects:
            self.create_subscription(PoseArray, 'robodopamine/object_poses', self._on_objects,
                                     10)
        self.cameras = None
        if s.watches_cameras:
            self._subscribe_cameras(camera_topics)
        self.create_subscription(RewardStamped, 'reward', self._on_reward, 10)
        self.create_subscription(String, 'robodopamine/grm_contract', self._on_grm_contract,
                                 LATCHED)
        self.contract_publisher = self.create_publisher(
            String, 'robodopamine/reward_contract', LATCHED)
        self.create_subscription(ActionStamped, 'teleop/action', self._on_teleop, 10)
        self.command = self.create_publisher(ActionStamped, 'command', 10)
        self.adapter = self.create_publisher(ADAPTER_TYPES[s.adapter], s.adapter_topic, 10)
        self.gripper = self.create_publisher(Float64, s.gripper_topic, 10)
        self.summary = self.create_publisher(EpisodeSummary, 'episode_summary', 10)
        self.create_service(SetIntervention, '~/set_intervention', self._on_set_intervention)
        self.create_service(Trigger, '~/estop', self._on_estop)
        self.create_service(Trigger, '~/clear_estop', self._on_clear_estop)
        self.create_service(MarkOutcome, '~/mark_outcome', self._on_mark_outcome)
        # answered in a thread of its own: a save (seconds for a full buffer) runs beside the
        # control tick, never in its way
        self.save_service = SideService(self, Trigger, '~/save_checkpoint', self._on_save,
                                        'save_checkpoint')
        refuse_parameter_changes(self)
        self.reset_client = self.create_client(Trigger, s.reset_service) \
            if s.reset_service else None
        self.start_client = self.create_client(StartEpisode, s.start_episode_service) \
            if s.mode != 'collect' and s.start_episode_service else None
        node_timer(self, s.period, self._on_tick)

    # the learner elsewhere (learner 'remote') ------------------------------------------------
    def _remote_actor(self, setup):
        """Return the RemoteActor of learner 'remote', wired to learner_node's graph names."""
        s = self.settings
        config = s.remote_config(self.get_namespace(), setup.checkpoint is not None)
        actor = RemoteActor(Outbox(s.outbox_folder(), config.capacity), setup.spec(s), config)
        learner = s.learner_node.rstrip('/')
        self.submit = self.create_client(SubmitEpisode, f'{learner}/submit_episode')
        self.create_subscription(PolicyWeights, f'{learner}/policy_weights', self._on_weights,
                                 LATCHED)
        self.create_subscription(LearnerStatus, f'{learner}/status', self._on_learner_status,
                                 10)
        self.diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        node_timer(self, 0.1, self._deliver)
        node_timer(self, 1.0, self._remote_diagnostics)
        self.get_logger().info(f'learner remote: {learner}; episodes go as robot '
                               f'{config.robot_id}, kept in {actor.outbox.folder} until '
                               f'acknowledged ({len(actor.outbox)} waiting)')
        return actor

    def _deliver(self):
        """Send the oldest unacknowledged episode when the learner answers (one at a time)."""
        now = self._now()
        late = self.learner.overdue(now)
        if late is not None:
            self.learner.send_failed(late, now)
            self.get_logger().warn(f'episode {late}: no answer from the learner in '
                                   f'{self.settings.send_timeout} s: sent again later',
                                   throttle_duration_sec=5.0)
        if not self.submit.service_is_ready():
            return
        item = self.learner.next_send(now)
        if item is None:
            return
        uid, data = item
        request = episode_request(SubmitEpisode.Request(), self.learner.config.robot_id, uid,
                                  data)
        self.submit.call_async(request).add_done_callback(
            lambda future: self._submitted(uid, future))

    def _submitted(self, uid, future):
        now = self._now()
        try:
            answer = future.result()
        except Exception as error:   # noqa: B902  the call failed: sent again later
            answer, why = None, f'{type(error).__name__}: {error}'
        else:
            why = 'no answer'
        if answer is None:
            self.learner.send_failed(uid, now)
            self.get_logger().warn(f'episode {uid}: {why}: sent again later',
                                   throttle_duration_sec=5.0)
            return
        line = self.learner.answered(uid, answer.status, answer.message,
                                     answer.learner_updates, now)
        if line is not None:
            self.get_logger().error(line)

    def _on_weights(self, msg):
        try:
            version = self.learner.receive_weights(bytes(msg.data), self._now())
        except ValueError as error:   # another spec (named), damaged: the weights held stay
            self.get_logger().error(f'{self.resolve_topic_name(self.settings.learner_node)}'
                                    f'/policy_weights: {error}', throttle_duration_sec=5.0)
            return
        if version is not None:
            self.get_logger().info(f'weights of learner update {version} received',
                                   throttle_duration_sec=30.0)

    def _on_learner_status(self, msg):
        self.learner.learner_status(msg.updates, self._now())

    def _remote_diagnostics(self):
        level, message, values = self.learner.status(self._now())
        array_msg = DiagnosticArray(status=[diagnostic_status(
            f'{self.get_fully_qualified_name()}: remote learner', level, message, values,
            hardware_id=self.learner.config.robot_id)])
        array_msg.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics.publish(array_msg)

    # inputs ------------------------------------------------------------------------------------
    @staticmethod
    def _now():
        """Monotonic seconds: every staleness check uses it, never the (steppable) ROS clock."""
        return time.monotonic()

    def _feed(self, stream, msg=None, stamp=None):
        """
        Feed the watchdog one message (or a stamp, s); return whether it counts (logged).

        The stamp rule: data/stamps.py.
        """
        stamp = seconds_from_header(msg) if msg is not None else stamp
        verdict = self.watchdog.feed(stream, self._now(), stamp,
                                     self.get_clock().now().nanoseconds * 1e-9)
        if verdict.refused == 'future':
            self.get_logger().error(verdict.note, throttle_duration_sec=5.0)
        elif verdict.note:  # a jump: once per jump
            self.get_logger().warn(verdict.note)
        return bool(verdict)

    def _on_joints(self, msg):
        try:  # by name, in parameter joint_names' order (data/joints.py), never by index
            joints = self.joint_order.positions(msg.name, msg.position,
                                                self.resolve_topic_name('joint_states'),
                                                finite=True)
        except ValueError as error:  # refused (names, NaN): a stop at once, until a good one
            self.watchdog.refuse('observation', str(error))
            self.get_logger().error(f'{error}: message refused', throttle_duration_sec=5.0)
            return
        if self._feed('observation', msg):
            self.joints = joints.astype(np.float32)

    def _on_pose(self, msg):
        try:
            pose = hand_pose(pose_values(msg), msg.header.frame_id, self.settings.base_frame,
                             self.resolve_topic_name('robodopamine/ee_pose'))
        except ValueError as error:  # a stop at once, until a good pose arrives
            self.watchdog.refuse('ee_pose', str(error))
            self.get_logger().error(str(error), throttle_duration_sec=5.0)
            return
        if self._feed('ee_pose', msg):
            self.pose = pose

    def _on_objects(self, msg):
        try:
            poses = finite_object_poses(pose_array_values(msg),
                                        self.resolve_topic_name('robodopamine/object_poses'))
        except ValueError as error:  # a stop at once, until finite poses arrive
            self.watchdog.refuse('objects', str(error))
            self.get_logger().error(str(error), throttle_duration_sec=5.0)
            return
        if self._feed('objects', msg):
            self.objects = poses

    def _subscribe_cameras(self, topics):
        synchronizer, name = camera_synchronizer()
        self.cameras = CameraTriplets(self.settings.slop, self.settings.camera_jump_threshold,
                                      names=[self.slots.cameras[view] or view for view in VIEWS],
                                      synchronizer=synchronizer, slots=self.slots)
        self.sync_resets = 0
        for view, topic in zip(self.slots.present, topics):
            self.create_subscription(Image, CAMERA_TOPICS[view],
                                     self._camera_callback(view, topic),
                                     qos_profile_sensor_data)
        width, height = self.trained.image_size
        encoder = f'the frozen GRM of {self.features.grm_dir}' if self.features is not None \
            else "the policy's fine-tuned GRM encoder" \
            if self.trained.image_encoder == 'grm-tuned' else "the policy's CNN"
        sizes = dict(zip(VIEWS, self.views.camera_sizes))
        cameras = ', '.join(f'{topic} at ' + (f'{sizes[view][0]}x{sizes[view][1]}'
                                              if sizes[view] else "its first image's size")
                            for view, topic in zip(self.slots.present, topics))
        if self.slots.missing:
            cameras += '; ' + self.slots.fill_note()
        self.get_logger().info(f'observation cameras: {cameras} (synchronized by {name}), '
                               f'seen as {width}x{height} views (area resize), encoded by '
                               f'{encoder}, + joints and hand pose')

    def _camera_callback(self, view, topic):
        def callback(msg):
            try:   # RGB whatever the encoding; the view's training camera size, resized
                image, first = self.views.view(view, decode_image(msg, where=topic), topic)
            except ValueError as error:   # a stop at once, until good triplets return
                self.watchdog.refuse('cameras', str(error))
                self.get_logger().error(str(error), throttle_duration_sec=5.0)
                return
            if first:   # training from scratch without demonstrations: said once per view
                width, height = image.shape[1], image.shape[0]
                size = self.views.camera_sizes[VIEWS.index(view)]
                self.get_logger().info(f'{topic}: the policy trains on {size[0]}x{size[1]} '
                                       f'camera images (the first one seen; {width}x{height} '
                                       'views): this camera must keep that size')
            for triplet in self.cameras.add(view, ns_from_time(msg.header.stamp), image,
                                            time.monotonic_ns()):
                if self._feed('cameras', stamp=triplet[0] * 1e-9):   # else never acted on
                    self.cameras.accept(triplet)
            resets, reason = self.cameras.resets
            if resets != self.sync_resets:   # a camera clock jumped: logged once per reset
                self.sync_resets = resets
                self.get_logger().warn(f'camera clocks: {reason} (synchronizer reset)')
        return callback

    def _on_reward(self, msg):
        if msg.episode_id != self.loop.episode_id:
            return  # a reward of another episode (before a start took effect)
        if self._feed('reward', msg):
            self.loop.observe_reward(reward_values(msg), self._now())

    def _log_lines(self, lines):
        """Log the core's (level, line) pairs, 'warn' or 'info'."""
        for level, line in lines:
            if level == 'warn':   # rclpy: one severity per call site
                self.get_logger().warn(line)
            else:
                self.get_logger().info(line)

    def _on_grm_contract(self, msg):
        try:
            contract, lines = self.contracts.update(msg.data)
        except ContractError as error:
            self.get_logger().error(f'{error}: ignored', throttle_duration_sec=5.0)
            return
        except Exception as error:   # untrusted input is refused, never fatal
            self.get_logger().error(f'robodopamine/grm_contract: not a contract '
                                    f'({type(error).__name__}: {error}): ignored',
                                    throttle_duration_sec=5.0)
            return
        self._log_lines(lines)
        if contract is None:
            return
        self.contract_publisher.publish(String(data=contract.to_json()))
        try:   # a full disk or a damaged contracts file costs the file, never the run
            if self.log is not None:
                self.log.set_contract(contract)
        except (OSError, ValueError) as error:
            self.get_logger().error(f'{self.settings.log_dir}: reward contract not written '
                                    f'({error})')

    def _on_teleop(self, msg):
        try:
            self.loop.set_teleop_action(msg.values, self._now())
        except ValueError as error:
            self.get_logger().error(f'{self.resolve_topic_name("teleop/action")}: {error}',
                                    throttle_duration_sec=5.0)

    # control -----------------------------------------------------------------------------------
    def _observation(self):
        s = self.settings
        if self.joints is None or self.pose is None or (s.objects and self.objects is None):
            return None
        if self.cameras is not None:
            if self.cameras.newest is None:
                return None
            try:
                return robot_camera_observation(self.cameras.newest[1], self.joints,
                                                self.pose, self.shapes, self.features)
            except ValueError as error:
                self.get_logger().error(f'{error}: holding still', throttle_duration_sec=5.0)
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
        """Run one control tick; an exception in it commands a stop, is logged, and we go on."""
        try:
            self._control_tick()
        except Exception as error:  # noqa: B902 - whatever broke, the arm must stop
            if not self.context.ok():
                raise  # shutting down: spin.run ends quietly
            self.loop.previous = None  # no transition across the failed tick
            why = f'{type(error).__name__}: {error}'
            if why != self.tick_error:  # the traceback once per distinct error
                self.get_logger().error(f'control tick failed: {why}: stop commanded\n'
                                        f'{traceback.format_exc()}')
            else:
                self.get_logger().error(f'control tick failed: {why}: stop commanded',
                                        throttle_duration_sec=5.0)
            self.tick_error = why
            try:
                self._publish(self.loop.stop_action(), ActionSource.STOP)
            except Exception as stop_error:  # noqa: B902
                self.get_logger().error(f'could not command the stop: {stop_error!r}',
                                        throttle_duration_sec=5.0)

    def _control_tick(self):
        weights = self.learner.take_weights()
        if weights is not None:
            self.actor.load(*weights)
        if self.learner.error is not None:  # e.g. mode train without demonstrations
            self.get_logger().error(f'learner: {self.learner.error}', once=True)
        obs, now = self._observation(), self._now()
        hold = self.loop.hold_reason(now)  # no reset, homing or start while one is on
        expired = self.cycle.expired(now)
        if expired is not None:
            self.get_logger().warn(f'between episodes: {expired}')
        token = self.cycle.reset_now(hold, now)
        if token:
            self.reset_client.call_async(Trigger.Request()).add_done_callback(
                lambda _: self.cycle.answered(token))
        if obs is not None and self.cycle.may_start(self.loop, hold):
            self._start_next_episode()
        if obs is None:
            self._publish(self.loop.stop_action(), ActionSource.STOP)
            summary = self.loop.release_held(now)   # a label's wait ends on time regardless
            if summary is not None:
                self._finish_episode(summary)
            return
        if self.cycle.homing:  # between episodes, on a robot without a reset service
            result, at_home = self.loop.home_step(now, self.pose[:3])
            self.cycle.homing = not at_home
        else:
            result = self.loop.tick(now, obs, self.pose[:3])
        held = None if result.stop_reason in NOT_HELD else result.stop_reason
        for level, line in self.hold_log.update(held, now):  # once, at its end, rarely between
            if level == 'info':   # rclpy: one severity per call site
                self.get_logger().info(line)
            else:
                self.get_logger().warn(line)
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
                                 jacobian=self.jacobian, joint_names=s.joint_names)
        except ValueError as error:  # no pose / joints yet: nothing to hold, send nothing
            self.get_logger().warn(f'{s.adapter} adapter: {error}', throttle_duration_sec=5.0)
            return
        self.adapter.publish(adapter_msg(command, stamp, s.base_frame))

    # episodes ----------------------------------------------------------------------------------
    def _start_next_episode(self):
        if self.start_client is None:  # collect: no GRM to tell
            self.loop.start_episode(self.cycle.next_episode_id())
            return
        if not self.start_client.service_is_ready():
            return
        token = self.cycle.sent(self._now())

        def started(future):
            response = future.result()
            if not self.cycle.answered(token):
                return   # the answer to an abandoned request: a newer one is in flight
            if response is not None and response.success:
                self.loop.start_episode(response.episode_id)
                if self.evaluation is not None:
                    self.evaluation.start_episode()
        request = StartEpisode.Request(episode_id=self.cycle.next_episode_id())
        self.start_client.call_async(request).add_done_callback(started)

    def _finish_episode(self, summary):
        self.summary.publish(summary_msg(summary, self.get_clock().now().to_msg()))
        if self.evaluation is not None:
            self._finish_eval_episode(summary)
            return
        skipped = self._log_episode(summary)
        if skipped > self.skipped_logged:
            self.get_logger().warn(
                f'learner: {skipped - self.skipped_logged} updates skipped since the last '
                f'episode, {skipped} in all: their loss was not finite (NaN or inf in the '
                'observations, rewards or weights); the weights stayed as they were')
            self.skipped_logged = skipped
        reset = self.reset_client is not None and self.reset_client.service_is_ready()
        if self.cycle.finished(reset):  # the reset itself waits for the end of a hold
            self.saver.save_later(self.settings.checkpoint_dir, self._checkpoint_extra(),
                                  done=self._saved)

    def _log_episode(self, summary):
        """Write a training episode's log row and line; return the learner's skipped updates."""
        skipped = self.learner.skipped
        ended = summary.pop('ended', None)   # why it ended without a step (a hold): text
        try:   # a full disk or a removed log folder costs the row, never the episode
            if self.log is not None:
                self.log.episode(dict(summary, episode=summary['episode_id'],
                                      updates=self.learner.total_updates,
                                      learner_backlog=self.learner.backlog,
                                      **dict(self.learner.last_stats, skipped_updates=skipped)))
        except (OSError, ValueError) as error:
            self.get_logger().error(f'{self.settings.log_dir}: episode {summary["episode_id"]} '
                                    f'not logged ({type(error).__name__}: {error}); it counts '
                                    'and learning goes on', throttle_duration_sec=5.0)
        self.get_logger().info(f'episode {summary["episode_id"]}: success {summary["success"]}, '
                               f'return {summary["return"]:.3f}, intervention rate '
                               f'{summary["intervention_rate"]:.2f}, learner updates '
                               f'{self.learner.total_updates} ({skipped} skipped)'
                               + (f' (ended: {ended})' if ended else ''))
        return skipped

    def _checkpoint_extra(self):
        """
        Return what a checkpoint keeps beside the learner: joint names, episodes ended.

        With cameras, the policy's record with the camera sizes in force (None: not seen yet).
        """
        trained = self.trained if self.views is None else replace(
            self.trained, camera_size=tuple(self.views.camera_sizes))
        extra = self.settings.checkpoint_extra(trained)
        if self.contracts.current is not None:
            extra['reward_contract'] = self.contracts.current.to_dict()
        return self.cycle.checkpoint_extra(extra)

    def _saved(self, result):
        """Log a periodic checkpoint (called in the saving thread)."""
        if not result.ok:
            self.get_logger().error(result.message)
        else:
            self.get_logger().info(f'checkpoint written: {result.message} (after episode '
                                   f'{self.cycle.episodes_done}; {self.learner.describe()})')

    def _on_ground_truth(self, msg):
        if self.loop.episode is not None:
            self.evaluation.observe_ground_truth(msg.data)

    def _finish_eval_episode(self, summary):
        row = self.evaluation.finished(summary)
        if self.log is not None:
            self.log.episode(row)
        truth = '' if row['ground_truth'] is None else \
            f', simulator {"success" if row["ground_truth"] else "failure"}'
        if row['aborted']:
            self.get_logger().warn(f'eval episode {row["episode"]} took no step (the arm was '
                                   'held throughout): not counted, it runs again')
        else:
            self.get_logger().info(
                f'eval episode {row["episode"]} of {self.evaluation.episodes}: '
                f'detector {"success" if row["success"] else "failure"}{truth}')
        reset = self.reset_client is not None and self.reset_client.service_is_ready()
        self.cycle.finished(reset)
        if self.evaluation.done:   # the result, then the node exits (and the launch with it)
            where = f' (log {self.log.csv_path})' if self.log is not None else ''
            self.get_logger().info(self.evaluation.report() + where)
            self.context.try_shutdown()

    # services ----------------------------------------------------------------------------------
    def _on_set_intervention(self, request, response):
        self.loop.set_intervention(request.active, now=self._now())
        response.accepted = True
        response.message = f'intervention {"on" if request.active else "off"} ' \
            f'({request.source or "unknown source"})'
        return response

    def _on_estop(self, request, response):
        self.watchdog.estop('~/estop called')
        self.get_logger().warn('e-stop latched (~/estop): holding the arm')
        response.success, response.message = True, \
            'stopped; hold the teleop deadman and call ~/clear_estop to resume'
        return response

    def _on_clear_estop(self, request, response):
        """
        Clear the e-stop only while a person holds the teleop deadman; resume held.

        Any process on the ROS domain can call this service: the deadman (a fresh takeover,
        ControlLoop.operator_present) is what shows a person is at the robot. The running
        episode ends (truncated); the policy acts again at the next episode, after the reset or
        the move home.
        """
        if self.watchdog.estop_reason is None:
            response.success, response.message = True, 'no e-stop latched'
            return response
        if not self.loop.operator_present(self._now()):
            response.success, response.message = False, (
                'refused: hold the teleop deadman (a person at the robot) while clearing the '
                'e-stop')
            self.get_logger().warn(f'~/clear_estop {response.message}')
            return response
        self.watchdog.clear_estop()
        self.get_logger().info('e-stop cleared (the deadman is held): the policy resumes at '
                               'the next episode')
        summary = self.loop.abort_episode()
        if summary is not None:
            self._finish_episode(summary)
        response.success, response.message = True, \
            'e-stop cleared; the policy resumes at the next episode'
        return response

    def _on_save(self, request, response):
        """Save now; a failure (a full disk) answers false with why, logged; the node goes on."""
        result = self.saver.save(self.settings.checkpoint_dir, self._checkpoint_extra())
        if not result.ok:
            self.get_logger().error(f'~/save_checkpoint: {result.message}')
        else:
            self.get_logger().info(f'~/save_checkpoint: checkpoint written: {result.message}')
        response.success, response.message = result.ok, result.message
        return response

    def _on_mark_outcome(self, request, response):
        """Take the operator's outcome label (rl.outcomes.OutcomeLabels); log one line."""
        answer = self.loop.mark_outcome(request.episode_id, request.success, request.source,
                                        self._now())
        response.accepted, response.episode_id, response.message = \
            answer.accepted, answer.episode_id, answer.message
        if answer.accepted:   # rclpy: one severity per call site
            self.get_logger().info(f'~/mark_outcome: {answer.message}')
        else:
            self.get_logger().warn(f'~/mark_outcome: {answer.message}')
        return response

    # s: the shutdown's cleanup may take this long (nodes/spin.py): the last checkpoint
    cleanup_s = EXIT_CLEANUP_S

    def destroy_node(self):
        """Stop learning, write the last checkpoint (train; bounded: rl.saving), close the logs."""
        self.save_service.destroy()
        self.learner.stop()
        held = self.loop.release_held()   # waiting for a label: as labelled so far
        if held is not None and self.evaluation is not None:
            self.get_logger().info(f'shutdown: eval episode {held["episode_id"]} was waiting '
                                   "for the operator's label: not counted")
        elif held is not None:   # stored (the learner thread is stopped): logged and counted
            self.get_logger().info(f'shutdown: episode {held["episode_id"]} was waiting for '
                                   "the operator's label: kept as it is")
            self._log_episode(held)
            self.cycle.finished(False)   # the exit checkpoint numbers the next one after it
        if self.settings.saves_checkpoints:   # Ctrl-C keeps what was learned since the last
            self.get_logger().info(f'shutdown: saving a checkpoint (at most {EXIT_SAVE_S} s)')
            result = self.saver.save_at_exit(self.settings.checkpoint_dir,
                                             self._checkpoint_extra())
            if result.ok:
                self.get_logger().info(f'shutdown: checkpoint written: {result.message} '
                                       f'({self.learner.describe()})')
            else:
                self.get_logger().warn(f'shutdown: {result.message}')
        if self.log is not None:
            self.log.close()
        super().destroy_node()


def main(args=None):
    run(RLAgentNode, 'rl_agent_node', args)


if __name__ == '__main__':
    main()
