# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The policy and its learner as a node's settings make them, written once for both nodes.

rl_agent_node (the actor, with its learner beside it or not) and learner_node (the learner on
the GPU box) must build the same policy from the same parameters (rl/agent_settings.py), or
the weights one sends would not fit the other: ``policy_setup`` resumes the checkpoint in
checkpoint_dir (its observation checked against the parameters) or makes a new learner, and
``fill_demos`` fills an empty demo buffer from the demonstration bags.
"""

from dataclasses import dataclass, replace
from pathlib import Path

from robodopamine_ros.data.bags import ReadOptions
from robodopamine_ros.rl.acting import CHECKPOINT_FILE, Learner
from robodopamine_ros.rl.demonstrations import fill_demo_buffer
from robodopamine_ros.rl.live_cameras import LiveViews
from robodopamine_ros.rl.observations import read_checkpoint_extra
from robodopamine_ros.rl.wire import weights_spec


@dataclass
class PolicySetup:
    """What a node runs: the policy's observation record, its encoder and shapes, the learner."""

    trained: object          # rl.observations.TrainedObservation (encoder folder recorded)
    features: object         # the frozen GRM encoder of 'cameras' + 'grm', else None
    shapes: dict             # observation name -> shape
    views: object            # rl.live_cameras.LiveViews for 'cameras', else None
    learner: Learner
    extra: dict              # the resumed checkpoint's extra (None: a new learner)
    checkpoint: Path         # the resumed checkpoint file (None: a new learner)
    warning: str = None      # about the resumed checkpoint (no joint names recorded)

    def spec(self, settings):
        """Return the rl.wire.weights_spec the policy's weights fit."""
        return weights_spec(self.learner.config.algorithm, settings.observation, self.shapes,
                            self.learner.agent.action_dim)


def policy_setup(settings):
    """
    Return the PolicySetup of an rl.agent_settings.RLAgentSettings.

    Raises ValueError (RLAgentSettings.policy_input, check_checkpoint: a checkpoint of another
    observation or other joints, named) and what loading the GRM encoder raises.
    """
    s = settings
    trained = s.policy_input(read_checkpoint_extra(s.checkpoint_dir)
                             if s.resumes_checkpoint else None)
    features = trained.encoder(s.grm_dir) if s.watches_cameras else None
    if features is not None:   # the folder used (its GRM checked) is recorded
        trained = replace(trained, encoder_dir=features.grm_dir, encoder_digest=features.digest)
    shapes = s.observation_shapes(trained, features)
    # camera images -> the policy's views (the demonstrations' resize rule); the camera size
    # the training came from (None: the demonstrations' or first live image's)
    views = LiveViews(trained.image_size, trained.recorded_camera_sizes) \
        if s.watches_cameras else None
    learner, extra = Learner.resume(s.checkpoint_dir, shapes, algorithm=s.algorithm,
                                    device=s.device) if s.resumes_checkpoint else (None, None)
    checkpoint, warning = None, None
    if learner is not None:   # trained on other joints (or in another order): refused
        checkpoint = Path(s.checkpoint_dir) / CHECKPOINT_FILE
        warning = s.check_checkpoint(extra)
    learner = learner or s.new_learner(trained, shapes)
    return PolicySetup(trained, features, shapes, views, learner, extra, checkpoint, warning)


def fill_demos(setup, settings, slots):
    """
    Fill an empty demo buffer from settings.demo_bags; return [(level, line)] saying whence.

    slots: the rig's data.view_slots.ViewSlots (camera policies read the bags' views by it).
    Raises what rl.demonstrations.fill_demo_buffer raises.
    """
    s = settings
    cameras = {'observation': 'cameras', 'image_size': setup.trained.image_size,
               'features': setup.features, 'camera': setup.views,
               'options': ReadOptions(slots=slots)} if s.watches_cameras else {}
    shaping = s.shaping_config(setup.learner.config.gamma)
    return fill_demo_buffer(setup.learner, s.demo_bags, s.joint_names, shaping, s.objects,
                            setup.checkpoint, **cameras)
