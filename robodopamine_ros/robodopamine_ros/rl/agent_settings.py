# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What the agent on a robot is told: one validated settings dataclass (rl_agent_node's parameters).

Every field is a ROS parameter of rl_agent_node with the same name, type and default (the node
declares them from this dataclass, nodes/parameters.py); defaults come from the config
dataclasses they feed (AgentConfig, ShapingConfig, TeleopExpiry, TrainConfig), so a default is
written once. ``RLAgentSettings(...)`` raises ValueError naming the parameter and what was
expected; the node does not start on one.
"""

from dataclasses import dataclass
import math
import re

import numpy as np
from robodopamine_ros.data.joints import check_trained_joints, JointOrder
from robodopamine_ros.data.stamps import FUTURE_TOLERANCE_S, JUMP_THRESHOLD_S
from robodopamine_ros.data.sync import CAMERA_JUMP_S, CAMERA_SLOP_S
from robodopamine_ros.data.topics import IMAGE_SIZE, VIEWS
from robodopamine_ros.data.view_slots import ViewSlots
from robodopamine_ros.reward.shaping import GAMMA, ShapingConfig
from robodopamine_ros.rl.acting import Learner
from robodopamine_ros.rl.agent_loop import (HOME_TIMEOUT_S, Mode, MODES, REWARD_LOSS_S,
                                            TeleopExpiry)
from robodopamine_ros.rl.agents import AgentConfig
from robodopamine_ros.rl.observations import (describe_rig, IMAGE_ENCODERS,
                                              robot_observation_problem, ROBOT_OBSERVATIONS,
                                              TrainedObservation, tuned_encoder_start)
from robodopamine_ros.rl.outcomes import LABEL_WINDOW_S, OutcomeLabels, SUCCESS_DEFAULT
from robodopamine_ros.rl.remote_actor import RemoteConfig
from robodopamine_ros.robot.controller_adapters import ADAPTERS
from robodopamine_ros.robot.safety import SafetyConfig
from robodopamine_ros.robot.state import state_size
from robodopamine_ros.sim.metaworld_sim import JOINT_NAMES
from robodopamine_ros.sim.peg_insertion import WORKSPACE


LEARNERS = ('local', 'remote')


@dataclass(frozen=True)
class RLAgentSettings:
    """rl_agent_node's parameters; units in the comments, lists as tuples."""

    mode: Mode = Mode.TRAIN                   # train | eval | collect (a str from ROS)
    algorithm: str = AgentConfig.algorithm
    control_rate: float = 10.0                # Hz
    max_steps: int = 200                      # control steps per episode
    joints: int = 9                           # joint_states positions (7 arm + 2 fingers)
    objects: int = 0                          # tracked object poses (robodopamine/object_poses)
    # what the policy observes: 'robot' (joints, hand pose, `objects` tracked poses) or
    # 'cameras' (the three camera views + joints and hand pose; a checkpoint trained with it)
    observation: str = 'robot'
    # cameras without a checkpoint (train from scratch): the policy's view size, px (width,
    # height; (0, 0): IMAGE_SIZE) and encoder ('': 'grm', the frozen features of the GRM in
    # grm_dir; 'grm-tuned', that GRM's encoder trained on; or 'cnn'); with a checkpoint its
    # record wins (a differing value is refused)
    image_size: tuple = (0, 0)
    image_encoder: str = ''
    grm_dir: str = ''                         # cameras, GRM encoder: its folder here
    # cameras: the rig's views no camera fills and their rule, as grm_node's parameters
    # (data/view_slots.py: repeat:<view> | blank); recorded with the policy, which runs only
    # on the rig it was trained with
    empty_views: tuple = ('',)
    fill: str = ''
    slop: float = CAMERA_SLOP_S               # s, camera synchronization (as grm_node's)
    camera_jump_threshold: float = CAMERA_JUMP_S  # s: camera stamps jumping back re-sync
    gamma: float = GAMMA                      # must equal shaping_node's
    batch_size: int = AgentConfig.batch_size
    checkpoint_dir: str = ''
    checkpoint_every: int = 5                 # episodes
    log_dir: str = ''                         # episodes.csv + TensorBoard; '' = none
    adapter: str = 'twist'                    # robot.controller_adapters.ADAPTERS
    adapter_topic: str = 'servo_node/delta_twist_cmds'
    gripper_topic: str = 'gripper/command'
    base_frame: str = 'base'
    # joint_states names, in the state's (and the Jacobian's) order: positions are mapped by
    # name (data/joints.py); the simulator's by default (a real arm sets its own)
    joint_names: tuple = JOINT_NAMES
    jacobian: tuple = (0.0,)                  # 3 x joints, row-major (joint_trajectory only)
    meters_per_unit: float = SafetyConfig.meters_per_unit
    max_velocity: tuple = SafetyConfig.max_velocity              # m/s per axis
    workspace_low: tuple = WORKSPACE[0]       # m; the simulator's box (a real arm sets its own)
    workspace_high: tuple = WORKSPACE[1]
    observation_timeout: float = 0.5          # s: joint_states, hand pose, object poses, cameras
    reward_timeout: float = 0.5               # s
    # s: rewards whose progress stamp does not change for longer hold the arm (frozen GRM)
    progress_timeout: float = 0.5
    reward_loss_timeout: float = REWARD_LOSS_S  # s without fresh rewards: the episode ends
    eval_episodes: int = 20                   # eval: episodes, then the success rate and exit
    jump_threshold: float = JUMP_THRESHOLD_S  # s: stamps stepping further re-base a stream
    future_tolerance: float = FUTURE_TOLERANCE_S  # s: stamps further ahead are refused
    teleop_timeout: float = TeleopExpiry.timeout_s               # s: a teleop action expires
    teleop_max_travel: float = TeleopExpiry.max_travel_m         # m on one teleop message
    teleop_on_timeout: str = TeleopExpiry.on_timeout             # stop | policy
    success_delta: float = ShapingConfig.success_delta           # success at Phi >= 1 - delta
    pretrain_updates: int = 1000              # train: imitation on the demo buffer first ...
    offline_updates: int = 1000               # ... then offline RL on it (stage I)
    # train: learner updates per control step taken (the ROS-free run's rule, so a run through
    # the graph learns as it does); 0: as many as the learner thread manages (a real robot)
    updates_per_step: int = 0
    home_position: tuple = (0.0,)             # x, y, z of move-to-home; (0.0,): no homing
    home_tolerance: float = 0.005             # m
    home_timeout: float = HOME_TIMEOUT_S      # s of homing; not home by then: an e-stop
    reset_service: str = 'sim_robot_node/reset'
    start_episode_service: str = 'grm_node/start_episode'
    demo_bags: tuple = ('',)                  # train: bags recorded in mode collect
    # where an episode's success comes from: detector | operator | either | simulator
    # (rl/outcomes.py; as on shaping_node); 'operator' / 'either' take ~/mark_outcome labels
    success: str = SUCCESS_DEFAULT
    label_window: float = LABEL_WINDOW_S      # s an unlabelled end waits for a label
    # where the learner runs: 'local' (a thread beside the control loop) or 'remote'
    # (learner_node, e.g. on the GPU box; this node is then an actor: rl/remote_actor.py)
    learner: str = 'local'
    device: str = 'cpu'                       # the local learner's torch device: cpu | cuda[:N]
    learner_node: str = '/learner_node'       # remote: the learner's node name (its services)
    robot_id: str = ''                        # remote: '' = this node's namespace, else 'robot'
    outbox_dir: str = ''                      # remote: '' = <log_dir or checkpoint_dir>/outbox
    outbox_capacity: int = RemoteConfig.capacity             # episodes unacknowledged
    # before the learner's first weights: act (on the initial ones) | hold | auto (hold
    # unless a checkpoint was resumed: an untrained policy never drives the arm)
    remote_wait: str = 'auto'
    max_weights_lag: int = RemoteConfig.max_lag              # learner updates behind: a warning
    send_timeout: float = RemoteConfig.send_timeout_s        # s for the learner to answer

    def __post_init__(self):
        for name in ('joint_names', 'jacobian', 'max_velocity', 'workspace_low',
                     'workspace_high', 'home_position', 'demo_bags', 'image_size',
                     'empty_views'):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.mode not in MODES:
            raise ValueError(f'parameter mode must be one of {MODES}, got {self.mode!r}')
        object.__setattr__(self, 'mode', Mode(self.mode))
        if self.adapter not in ADAPTERS:
            raise ValueError(f'parameter adapter must be one of {ADAPTERS}, got '
                             f'{self.adapter!r}')
        if len(self.home_position) not in (1, 3):
            raise ValueError('parameter home_position must be [x, y, z] (or [0.0]: no homing), '
                             f'got {list(self.home_position)}')
        if not self.control_rate > 0:
            raise ValueError(f'parameter control_rate must be > 0 Hz, got {self.control_rate}')
        if self.objects < 0 or self.updates_per_step < 0:
            raise ValueError(f'parameters objects and updates_per_step must be >= 0, got '
                             f'{self.objects} and {self.updates_per_step}')
        for name in ('reward_loss_timeout', 'home_timeout'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f'parameter {name} must be a number of seconds > 0, got '
                                 f'{value}')
        if self.observation not in ROBOT_OBSERVATIONS:
            raise ValueError(f'parameter observation must be one of {ROBOT_OBSERVATIONS}, got '
                             f'{self.observation!r}')
        if self.observation == 'cameras' and self.objects:
            raise ValueError(f"parameter objects must be 0 with observation 'cameras' (the "
                             f'camera policy sees no object poses), got {self.objects}')
        if len(self.image_size) != 2 or any(int(v) != v or v < 0 for v in self.image_size) \
                or (0 in self.image_size and self.image_size != (0, 0)):
            raise ValueError(f'parameter image_size must be [width, height] in pixels > 0 (or '
                             f'[0, 0]: {list(IMAGE_SIZE)}), got {list(self.image_size)}')
        if self.image_encoder not in ('',) + IMAGE_ENCODERS:
            raise ValueError(f'parameter image_encoder must be one of {IMAGE_ENCODERS} (or '
                             f"'': grm), got {self.image_encoder!r}")
        self.view_slots()   # validates empty_views and fill
        if not (math.isfinite(self.slop) and self.slop > 0):
            raise ValueError(f'parameter slop must be a number of seconds > 0, got {self.slop}')
        if not (math.isfinite(self.camera_jump_threshold)
                and self.camera_jump_threshold > self.slop):
            raise ValueError(f'parameter camera_jump_threshold must be a number of seconds > '
                             f'slop ({self.slop}), got {self.camera_jump_threshold}')
        if self.eval_episodes < 1:
            raise ValueError(f'parameter eval_episodes must be >= 1, got {self.eval_episodes}')
        if self.checkpoint_every < 1:
            raise ValueError(f'parameter checkpoint_every must be >= 1 episode, got '
                             f'{self.checkpoint_every}')
        for name in ('jump_threshold', 'future_tolerance'):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f'parameter {name} must be a number of seconds >= 0, got '
                                 f'{getattr(self, name)}')
        if len(self.jacobian) > 1 and len(self.jacobian) != 3 * self.joints:
            raise ValueError(f'parameter jacobian must hold 3 x joints = {3 * self.joints} '
                             f'values (row-major), got {len(self.jacobian)}')
        if len(self.joint_order()) != self.joints:  # also refuses empty or repeated names
            raise ValueError(f'parameter joint_names names {len(self.joint_names)} joints '
                             f'{list(self.joint_names)}, parameter joints says {self.joints}')
        self.agent_config()   # validates algorithm, gamma, batch size
        self.safety_config()  # ... velocity limits and the box
        self.teleop_expiry()  # ... the teleop timeout
        OutcomeLabels(self.success, self.label_window)   # ... success and label_window
        if not (self.device == 'cpu' or re.fullmatch(r'cuda(:\d+)?', self.device)):
            raise ValueError(f"parameter device must be 'cpu' or 'cuda[:N]', got "
                             f'{self.device!r}')
        if self.learner not in LEARNERS:
            raise ValueError(f'parameter learner must be one of {LEARNERS}, got '
                             f'{self.learner!r}')
        if self.remote:
            if self.mode != Mode.TRAIN:
                raise ValueError(f"parameter learner 'remote' is for mode train (the episodes "
                                 f'go to learner_node), got mode {self.mode.value}')
            if not self.outbox_folder():
                raise ValueError("parameter learner 'remote' keeps unsent episodes on disk: "
                                 'set outbox_dir (or log_dir or checkpoint_dir)')
            self.remote_config('robot', False)   # ... the outbox, wait, lag and timeout

    def view_slots(self, topics=None):
        """
        Return the rig's data.view_slots.ViewSlots: views -> camera topics, less empty_views.

        topics: view -> the camera's topic (None: the view names). Raises ValueError naming
        parameter empty_views or fill.
        """
        try:
            return ViewSlots.without(topics or {view: view for view in VIEWS},
                                     self.empty_views, self.fill)
        except ValueError as error:
            raise ValueError(f'parameters empty_views / fill: {error}') from None

    @property
    def rig(self):
        """Return (empty views, fill rule) of the rig, as a TrainedObservation records it."""
        slots = self.view_slots()
        return slots.missing, slots.fill

    @property
    def resumes_checkpoint(self):
        """Whether the learner resumes from checkpoint_dir: train and eval, never collect."""
        return bool(self.checkpoint_dir) and self.mode != Mode.COLLECT

    @property
    def watches_cameras(self):
        """
        Whether the node subscribes to the cameras: observation 'cameras', modes train and eval.

        In collect the policy never acts (teleop drives; recorder_node records the cameras):
        the node observes the joints and hand pose only.
        """
        return self.observation == 'cameras' and self.mode != Mode.COLLECT

    @property
    def remote(self):
        """Whether the learner is learner_node elsewhere (this node an actor)."""
        return self.learner == 'remote'

    def outbox_folder(self):
        """Return the remote actor's outbox folder ('' when none can be named)."""
        from pathlib import Path

        base = self.log_dir or self.checkpoint_dir
        return self.outbox_dir or (str(Path(base) / 'outbox') if base else '')

    def remote_config(self, namespace, resumed):
        """
        Return the actor's rl.remote_actor.RemoteConfig.

        namespace: the node's ('/arm1'); resumed: whether its initial weights are a
        checkpoint's (remote_wait 'auto' acts on them then, and holds an untrained policy).
        """
        wait = self.remote_wait if self.remote_wait != 'auto' else 'act' if resumed else 'hold'
        return RemoteConfig(robot_id=self.robot_id or namespace.strip('/') or 'robot',
                            wait=wait, capacity=self.outbox_capacity,
                            send_timeout_s=self.send_timeout, max_lag=self.max_weights_lag)

    @property
    def saves_checkpoints(self):
        """
        Whether episodes write checkpoints: train only, the learner local (else learner_node's).

        A collect run's buffer holds the recorded episodes with zero rewards (no GRM runs); a
        checkpoint of it would make the next train run resume it and skip the demonstration
        bags (rl_agent_node loads them into an empty demo buffer only). Eval does not learn.
        """
        return bool(self.checkpoint_dir) and self.mode == Mode.TRAIN and not self.remote

    @property
    def period(self):
        """Control period, s."""
        return 1.0 / self.control_rate

    def agent_config(self, grm_config=None):
        """Return the learner's AgentConfig; grm_config: the 'grm-tuned' encoder's GRM's."""
        return AgentConfig(algorithm=self.algorithm, gamma=self.gamma,
                           batch_size=self.batch_size, grm_config=grm_config)

    def new_learner(self, trained, shapes):
        """
        Return a new Learner for a policy observing `trained` (no checkpoint to resume).

        image_encoder 'grm-tuned': its camera encoder starts from the GRM in encoder_dir (the
        folder read once: architecture and weights).
        """
        if trained.image_encoder != 'grm-tuned' or trained.observation != 'cameras':
            return Learner(self.agent_config(), shapes, device=self.device)
        grm_config, net = tuned_encoder_start(trained.encoder_dir)
        learner = Learner(self.agent_config(grm_config), shapes, device=self.device)
        learner.agent.load_grm_encoder(net)
        return learner

    def safety_config(self):
        return SafetyConfig(max_velocity=self.max_velocity, workspace_low=self.workspace_low,
                            workspace_high=self.workspace_high, control_period=self.period,
                            meters_per_unit=self.meters_per_unit)

    def shaping_config(self, gamma):
        """Return the loop's shaping, with the critic's gamma (a resumed learner keeps its)."""
        return ShapingConfig(gamma, self.success_delta)

    def teleop_expiry(self):
        return TeleopExpiry(self.teleop_timeout, self.teleop_max_travel, self.teleop_on_timeout)

    def watchdog_timeouts(self):
        """
        Return stream -> timeout (s); collect runs without the GRM: no reward to wait for.

        The hand pose is watched as the joints are: the workspace box and the policy read it.
        """
        timeouts = {'observation': self.observation_timeout, 'ee_pose': self.observation_timeout}
        if self.objects:
            timeouts['objects'] = self.observation_timeout
        if self.watches_cameras:   # synchronized camera triplets
            timeouts['cameras'] = self.observation_timeout
        if self.mode != Mode.COLLECT:
            timeouts['reward'] = self.reward_timeout
            timeouts['progress'] = self.progress_timeout
        return timeouts

    def home(self):
        """Return the home position (3,) in m, or None: no move-to-home between episodes."""
        return list(self.home_position) if len(self.home_position) == 3 else None

    def checkpoint_extra(self, trained=None):
        """
        Return what a checkpoint keeps of these settings: the joint names it learns.

        trained: the TrainedObservation the node runs (policy_input), kept beside them.
        """
        return dict({'joint_names': list(self.joint_names)},
                    **(trained.as_extra() if trained is not None else {}))

    def policy_input(self, extra):
        """
        Return the TrainedObservation this node runs, checked against the checkpoint.

        extra: the checkpoint's ``extra`` (None: no checkpoint resumed). Without a checkpoint,
        'cameras' in train is a new policy of parameters image_size, image_encoder and grm_dir
        (its camera_size UNKNOWN: the demonstrations' or the first live image's sets it).
        Raises ValueError naming checkpoint_dir and both observations when the checkpoint's
        policy observes something else than parameter observation (a simulator-only 'state'
        always); naming the parameter and both values when image_size or image_encoder is set
        and differs from the checkpoint's record (the record wins: the network's shapes are
        its); for 'cameras' in eval without a checkpoint, and for image_encoder 'grm' or
        'grm-tuned' without grm_dir.
        """
        if not self.watches_cameras and extra is None:
            return TrainedObservation('robot')
        if extra is None:
            if self.mode != Mode.TRAIN:
                raise ValueError(f"parameter observation 'cameras' in mode {self.mode.value} "
                                 f'runs a trained policy: checkpoint_dir '
                                 f'{self.checkpoint_dir!r} holds no checkpoint')
            encoder = self.image_encoder or 'grm'
            if encoder in ('grm', 'grm-tuned') and not self.grm_dir:
                default = '' if self.image_encoder else ' (the default)'
                raise ValueError(f'parameter image_encoder {encoder!r}{default} encodes the '
                                 'views with a GRM: set parameter grm_dir to the GRM adapted '
                                 "on the task's demonstration (the launch passes model_dir), "
                                 "or set image_encoder to 'cnn'")
            return TrainedObservation('cameras', self.policy_image_size(), encoder,
                                      self.grm_dir if encoder != 'cnn' else '',
                                      TrainedObservation.UNKNOWN, '', *self.rig)
        trained = TrainedObservation.from_extra(extra)
        problem = robot_observation_problem(trained, self.observation, self.checkpoint_dir)
        if problem:
            raise ValueError(problem)
        if self.watches_cameras:
            for name, given, recorded in (
                    ('image_size', list(self.image_size), list(trained.image_size)),
                    ('image_encoder', self.image_encoder, trained.image_encoder)):
                if given not in ([0, 0], '', recorded):
                    raise ValueError(f'parameter {name} is {given!r}, the checkpoint in '
                                     f'{self.checkpoint_dir} was trained with {recorded!r}: '
                                     f'leave {name} unset (the checkpoint decides) or use '
                                     'another checkpoint_dir')
            if (trained.empty_views, trained.fill) != self.rig:
                raise ValueError(
                    f'parameters empty_views / fill: this rig has '
                    f'{describe_rig(*self.rig)}, the policy in {self.checkpoint_dir} was '
                    f'trained with {trained.rig()}: a policy runs only on the camera rig it '
                    'was trained with (set empty_views and fill to its rig, or train one on '
                    'this rig)')
        return trained or TrainedObservation('robot')

    def policy_image_size(self):
        """Return parameter image_size as (width, height) px; (0, 0): IMAGE_SIZE."""
        return tuple(int(v) for v in self.image_size) if self.image_size != (0, 0) \
            else IMAGE_SIZE

    def observation_shapes(self, trained, features=None):
        """Return the policy's observation shapes: state_shape(), or the cameras' record's."""
        if not self.watches_cameras:
            return self.state_shape()
        return trained.shapes(self.joints, features)

    def check_checkpoint(self, extra):
        """
        Compare a resumed checkpoint's ``extra`` (checkpoint_extra) with these settings.

        Returns a warning for a checkpoint that does not name its joints; raises ValueError
        naming checkpoint_dir and both lists when its joint names differ from joint_names.
        """
        return check_trained_joints((extra or {}).get('joint_names'), self.joint_names,
                                    f'{self.checkpoint_dir}')

    def joint_order(self):
        """Return the data.joints.JointOrder of joint_names (the state's joint order)."""
        return JointOrder(self.joint_names)

    def jacobian_matrix(self):
        """Return the 3 x joints Jacobian, or None when not given."""
        return np.asarray(self.jacobian, dtype=float).reshape(3, -1) \
            if len(self.jacobian) > 1 else None

    def state_shape(self):
        """Observation shapes: joint positions, the hand pose, object poses (robot/state.py)."""
        return {'state': (state_size(self.joints, self.objects),)}
