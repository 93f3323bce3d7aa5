# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
What the policy observes, built the same way wherever it is built.

Observations (``TrainConfig.observation``, ``robodopamine train --observation``):
- 'cameras' (the product's): the three camera views (front, left wrist, right wrist) at the
  policy's resolution, uint8 V x H x W x 3, plus proprioception: the arm's joint positions,
  fingers included, and the hand pose (robot/state.py with no objects: 9 + 7 = 16 values on
  the simulated arm). Nothing a real arm lacks: no object pose, no simulator state.
- 'robot': proprioception plus the peg's and the hole's poses (a pose tracker on a robot; the
  simulator's state here): privileged in simulation, an upper bound.
- 'state': Meta-World's 39-d state (object positions included): an upper bound.
- 'images': the three views alone; 'both': the 39-d state and the views.

With ``image_encoder='grm'`` the views of 'cameras' are encoded by a frozen GRM image encoder
(FrozenViewEncoder) when the observation is made, and the policy gets 'image_features'
instead of 'images' (the features are computed once per control step, not per update). With
'grm-tuned' the policy gets the views, and the same GRM network, started from the GRM's weights
(tuned_encoder_start), is trained by the critic (networks.GRMViewEncoder).

On a robot (rl_agent_node, parameter ``observation``) the same policy_observation builds the
observation of 'cameras' from the newest synchronized camera triplet and the joint states and
hand pose (rl.live_cameras). The resize rule, one for demonstrations and live views: a camera
image becomes a view at the policy's ``image_size`` by policy_view (data.images.resize, area
interpolation); each camera must publish the size the policy's training data came from for its
view (``camera_size``, per view; rl.live_cameras.LiveViews refuses another, naming the topic and
both sizes). What a checkpoint's policy observes is its TrainedObservation (recorded at
training in the checkpoint's ``extra``), and robot_observation_problem says whether a robot
can run it.
"""

from dataclasses import dataclass
import hashlib
from pathlib import Path

import numpy as np
from robodopamine_ros.data.images import resize
from robodopamine_ros.data.topics import IMAGE_SIZE, VIEWS
from robodopamine_ros.robot.state import state_size
import torch

OBSERVATIONS = ('cameras', 'robot', 'state', 'images', 'both')
PRIVILEGED = ('robot', 'state', 'both')  # hold object positions: upper bounds in simulation
# the camera encoders: 'cnn' (DrQ / SERL's, trained by the critic), 'grm' (a GRM's encoder and
# fusion, frozen: features computed when the step is observed), 'grm-tuned' (the same network,
# started from the GRM and trained by the critic: the views are stored, as for 'cnn')
IMAGE_ENCODERS = ('cnn', 'grm', 'grm-tuned')
SIM_JOINTS = 9  # the simulated arm's seven joints and two fingers (sim.metaworld_sim)
ROBOT_OBSERVATIONS = ('robot', 'cameras')  # what a robot can observe (rl_agent_node)
# what a simulator-only observation is, for the refusal on a robot
SIM_ONLY = {'state': "Meta-World's 39-d simulator state",
            'both': "Meta-World's 39-d simulator state and the views",
            'images': 'the three views without the joints and hand pose'}


def obs_shapes(observation, image_size, joints=SIM_JOINTS, objects=2, image_features=None):
    """
    Return the policy's observation shapes {'state': (D,), 'images': (V, H, W, 3), ...}.

    image_size: (width, height) of each view at the policy's resolution. objects: tracked
    objects of 'robot'. image_features: the size of a frozen encoder's features (None: the
    views themselves). Raises ValueError for an unknown observation.
    """
    if observation not in OBSERVATIONS:
        raise ValueError(f'observation must be one of {OBSERVATIONS}, got {observation!r}')
    width, height = image_size
    shapes = {}
    if observation in ('state', 'both'):
        shapes['state'] = (39,)
    if observation == 'robot':
        shapes['state'] = (state_size(joints, objects),)
    if observation == 'cameras':
        shapes['state'] = (state_size(joints, 0),)
    if observation in ('images', 'both', 'cameras'):
        if image_features and observation == 'cameras':
            shapes['image_features'] = (int(image_features),)
        else:
            shapes['images'] = (len(VIEWS), height, width, 3)
    return shapes


def policy_observation(obs, shapes, observation, features=None):
    """
    Return the policy's view of a simulator observation (a dict of numpy arrays).

    obs: the simulator's observation ('state', 'robot_state', 'proprioception' and the views);
    shapes: obs_shapes' result; features: the FrozenViewEncoder of 'image_features'.
    """
    out = {}
    if 'state' in shapes:
        key = {'robot': 'robot_state', 'cameras': 'proprioception'}.get(observation, 'state')
        out['state'] = np.asarray(obs[key], dtype=np.float32)
    views = tuple(obs[view] for view in VIEWS) if set(VIEWS) <= set(obs) else None
    if 'images' in shapes:  # the views, or an environment's ready-stacked 'images'
        out['images'] = np.stack(views) if views is not None else obs['images']
    if 'image_features' in shapes:
        out['image_features'] = features(views)
    return out


class FrozenViewEncoder:
    """
    A GRM's image encoder and state fusion, frozen, as the policy's camera features.

    Features of one triplet: the three view encodings and their fused state, concatenated
    ((3 + 1) x dim float32; dim = 128 for the compact GRM). ``grm_dir``: a compact GRM folder
    (the shipped pre-trained model, or one ``robodopamine adapt`` wrote on the task's
    demonstration). The views are resized to the GRM's image size. ``digest``: a sha256 of what
    the features depend on (the image encoder, view embeddings and fusion weights, the image
    size): the same for a copy of the folder, another for another GRM. The last triplet's
    features are kept: a robot's control tick that acts again on the same triplet (cameras
    slower than the tick, or silent) does not encode it again.
    """

    FEATURE_PARTS = ('encoder.', 'view_embedding', 'fuse.')   # net's state_dict keys used

    def __init__(self, grm_dir):
        from robodopamine_ros.grm.loading import load_grm

        self.model, _ = load_grm(str(grm_dir))
        net = getattr(self.model, 'net', None)
        if net is None or not hasattr(net, 'state'):
            raise ValueError(f'{grm_dir}: image_encoder grm needs a compact GRM folder')
        self.net, self.grm_dir = net.eval(), str(grm_dir)
        self.size = 4 * int(self.model.config['dim'])
        digest = hashlib.sha256(repr(tuple(self.model.config['image_size'])).encode())
        for key, value in sorted(net.state_dict().items()):
            if key.startswith(self.FEATURE_PARTS):
                digest.update(key.encode())
                digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        self.digest = digest.hexdigest()
        self._last = (None, None)   # (the views last encoded, their features)

    @torch.no_grad()
    def __call__(self, views):
        """Return the (size,) float32 features of a (front, left, right) views tuple."""
        last = self._last[0]   # the same triplet's images (the same objects): known features
        if last is not None and len(last) == len(views) and all(
                a is b for a, b in zip(last, views)):
            return self._last[1]
        self._last = (views, self._encode(views))
        return self._last[1]

    def _encode(self, views):
        from robodopamine_ros.grm.compact import to_tensor

        encoded = self.net.encode(to_tensor(views, self.model.config['image_size']))
        fused = self.net.state(encoded[0:1], encoded[1:2], encoded[2:3])
        return torch.cat([encoded.reshape(1, -1), fused], dim=1)[0].numpy().astype(np.float32)


def tuned_encoder_start(grm_dir):
    """
    Return (grm_config, net) for image_encoder 'grm-tuned' from a compact GRM folder.

    grm_config: the architecture AgentConfig.grm_config records (grm.compact's config keys);
    net: the CompactGRMNet whose encoder and fusion weights the fine-tuning starts from
    (Agent.load_grm_encoder). Raises what CompactGRM.load raises for a missing or damaged
    folder (naming it), and ValueError for a folder of another GRM backend.
    """
    from robodopamine_ros.grm.compact import CompactGRM, DEFAULT_CONFIG

    if not (Path(grm_dir) / 'model.safetensors').is_file():
        raise ValueError(f'{grm_dir}: image_encoder grm-tuned starts from a compact GRM folder '
                         '(config.json and model.safetensors)')
    model = CompactGRM.load(grm_dir)
    return {k: model.config[k] for k in DEFAULT_CONFIG}, model.net


@dataclass(frozen=True)
class TrainedObservation:
    """
    What a checkpoint's policy observes: its observation, view size and camera encoder.

    observation: OBSERVATIONS; image_size: (width, height) px of each view; image_encoder:
    IMAGE_ENCODERS ('grm' and 'grm-tuned' only with 'cameras'); encoder_dir: the GRM folder
    of 'grm' (frozen) or 'grm-tuned' (its start; a path on the machine that trained it);
    camera_size: per view (VIEWS order) the (width, height) px of the camera images its
    training data came from (resized to image_size by policy_view), None for a view not seen
    yet (UNKNOWN: none seen, a node's training from scratch: the first image of each view sets
    it); None when not recorded (a simulated training's or an older checkpoint's: image_size,
    the rendered size). Cameras of one rig
    may differ (two wrist cameras of one model, a third-person camera of another).
    encoder_digest: the FrozenViewEncoder.digest of 'grm' ('': not recorded, not checked).
    empty_views, fill: the camera rig of 'cameras' (data/view_slots.py): the views no camera
    filled and their rule; () and '' (all three views) when not recorded.
    """

    observation: str
    image_size: tuple = IMAGE_SIZE
    image_encoder: str = 'cnn'
    encoder_dir: str = ''
    camera_size: tuple = None
    encoder_digest: str = ''
    empty_views: tuple = ()
    fill: str = ''

    UNKNOWN = (None,) * len(VIEWS)   # camera_size of a training that saw no camera image

    KEY = 'policy_observation'   # its key in a checkpoint's extra

    @classmethod
    def from_extra(cls, extra):
        """
        Return the record of a checkpoint's ``extra``, or None when it has none.

        Read from extra['policy_observation'] (rl_agent_node writes it), else from the
        simulated training's ``train_config`` (observation, image_size, image_encoder,
        encoder_dir or grm_dir). None: a checkpoint rl_agent_node wrote before it recorded its
        observation (the robot's state; its shapes are still checked on resume).
        """
        extra = extra or {}
        record = extra.get(cls.KEY)
        if isinstance(record, dict) and 'observation' in record:
            return cls(str(record['observation']),
                       tuple(int(v) for v in record.get('image_size', IMAGE_SIZE)),
                       str(record.get('image_encoder', 'cnn')),
                       str(record.get('encoder_dir', '')),
                       cls._camera_sizes(record),
                       str(record.get('encoder_digest', '')),
                       *cls._rig(record))
        config = extra.get('train_config')
        if not isinstance(config, dict) or 'observation' not in config:
            return None
        observation = str(config['observation'])
        encoder = str(config.get('image_encoder', 'cnn')) if observation == 'cameras' else 'cnn'
        folder = str(config.get('encoder_dir') or config.get('grm_dir') or '') \
            if encoder == 'grm' else ''
        return cls(observation, tuple(int(v) for v in config.get('image_size', IMAGE_SIZE)),
                   encoder, folder, encoder_digest=str(extra.get('encoder_digest') or ''))

    @classmethod
    def _rig(cls, record):
        """Read a record's (empty_views, fill): a list of view names and a rule string."""
        empty, fill = record.get('empty_views', []), record.get('fill', '')
        if not (isinstance(empty, list) and all(view in VIEWS for view in empty)
                and isinstance(fill, str)):
            raise ValueError(f'{cls.KEY}.empty_views must be a list of views of {VIEWS} and '
                             f'fill a string, got {empty!r} and {fill!r}')
        return tuple(empty), fill

    @classmethod
    def _camera_sizes(cls, record):
        """
        Read a record's camera_size: a list of one [width, height] or null per view.

        Older records: absent (None: not recorded), null (UNKNOWN), one [width, height] for
        every view.
        """
        if 'camera_size' not in record:
            return None
        camera = record['camera_size']
        if camera is None:
            return cls.UNKNOWN

        def size(value):
            return isinstance(value, (list, tuple)) and len(value) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        if size(camera):
            return (tuple(camera),) * len(VIEWS)
        if not (isinstance(camera, (list, tuple)) and len(camera) == len(VIEWS)
                and all(v is None or size(v) for v in camera)):
            raise ValueError(f'{cls.KEY}.camera_size must be one [width, height] (positive '
                             f'integers) or null per view ({", ".join(VIEWS)}), got '
                             f'{camera!r}')
        return tuple(None if v is None else tuple(v) for v in camera)

    def as_extra(self):
        """
        Return {'policy_observation': {...}} for a checkpoint's extra (plain values).

        camera_size is written when set: per view, [width, height] or null (not seen yet).
        """
        record = {'observation': self.observation, 'image_size': list(self.image_size),
                  'image_encoder': self.image_encoder, 'encoder_dir': self.encoder_dir,
                  'encoder_digest': self.encoder_digest}
        if self.empty_views:
            record.update(empty_views=list(self.empty_views), fill=self.fill)
        if self.camera_size is not None:
            record['camera_size'] = [None if size is None else list(size)
                                     for size in self.camera_size]
        return {self.KEY: record}

    def rig(self):
        """Return the rig as said in a refusal: 'all three views' or 'no <views> (fill <rule>)'."""
        return describe_rig(self.empty_views, self.fill)

    @property
    def recorded_camera_sizes(self):
        """
        Return per view the (width, height) of the training's camera images (None: not seen).

        A record without camera_size (simulated training, older checkpoints) is image_size.
        """
        if self.camera_size is None:
            return (tuple(self.image_size),) * len(VIEWS)
        return tuple(self.camera_size)

    def encoder(self, grm_dir=''):
        """
        Return the FrozenViewEncoder of image_encoder 'grm' (None for the policy's CNN).

        grm_dir: a folder overriding encoder_dir (the same GRM copied to this machine). Raises
        ValueError naming the folder and the parameter to set when it is missing, and naming
        both folders when it holds another GRM than the recorded encoder_digest's.
        """
        if self.observation != 'cameras' or self.image_encoder != 'grm':
            return None
        folder = grm_dir or self.encoder_dir
        if not folder or not Path(folder).is_dir():
            where = 'parameter grm_dir' if grm_dir else 'the checkpoint'
            raise ValueError(
                f'the policy was trained on views encoded by the frozen GRM of '
                f'{self.encoder_dir or "(not recorded)"!r}; {where} names {folder!r}, which is '
                'not a folder here: set parameter grm_dir to that GRM folder (copied to this '
                'machine)')
        encoder = FrozenViewEncoder(folder)
        if self.encoder_digest and encoder.digest != self.encoder_digest:
            raise ValueError(
                f'{folder} (parameter grm_dir, or the recorded folder) holds another GRM than '
                f'the frozen one the policy was trained on ({self.encoder_dir!r}): its '
                'features would differ; set grm_dir to that GRM folder (copied to this '
                'machine), or train a new policy (another checkpoint_dir)')
        return encoder

    def shapes(self, joints, features=None):
        """Return the observation shapes of 'cameras' on a robot with `joints` positions."""
        return obs_shapes(self.observation, self.image_size, joints=joints, objects=0,
                          image_features=features.size if features is not None else None)


def describe_rig(empty_views, fill):
    """Return a camera rig (its empty views, their fill rule) in words."""
    return f'no {", ".join(empty_views)} camera (fill {fill})' if empty_views \
        else 'all three views'


def robot_observation_problem(trained, observation, where):
    """
    Return why a checkpoint cannot run on a robot that observes `observation`, or None.

    trained: the checkpoint's TrainedObservation (None: a robot checkpoint from before it was
    recorded: 'robot'); observation: ROBOT_OBSERVATIONS (rl_agent_node's parameter);
    where: the checkpoint (named in the text).
    """
    found = trained.observation if trained is not None else 'robot'
    if found in SIM_ONLY:
        return (f'{where}: the policy was trained with observation {found!r} '
                f'({SIM_ONLY[found]}), which no robot observes; the observation of '
                f'rl_agent_node is {observation!r}: train with observation cameras (or robot '
                'with a pose tracker)')
    if found != observation:
        return (f'{where}: the policy was trained with observation {found!r}, the '
                f'parameter observation of rl_agent_node is {observation!r}: set observation to '
                f'{found!r}, or use a checkpoint trained with {observation!r}')
    return None


def policy_view(image, image_size):
    """
    Return a camera image as the policy's view: THE resize rule (demonstrations, live views).

    image: H x W x 3 uint8 RGB at the camera's size; image_size: (width, height) px of the
    policy's views. data.images.resize with area interpolation (the identity at image_size),
    the rule the GRM reads bags with (bags.read_episode(image_size=...) applies it per frame).
    """
    return resize(image, tuple(int(v) for v in image_size))


def read_checkpoint_extra(folder):
    """
    Return a checkpoint's ``extra`` without loading its buffers; None when folder has none.

    The file is memory-mapped (tensors are not read). A file that does not read that way is
    read whole by rl.acting.Learner.read, which raises its ValueError (damaged, other format).
    """
    from robodopamine_ros.rl.acting import CHECKPOINT_FILE, CHECKPOINT_FORMAT, Learner

    path = Path(folder) / CHECKPOINT_FILE
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location='cpu', weights_only=True, mmap=True)
        if isinstance(state, dict) and state.get('format') == CHECKPOINT_FORMAT:
            return dict(state.get('extra') or {})
    except Exception:  # noqa: B902 - torch raises several types; Learner.read says which
        pass
    return dict(Learner.read(folder)['extra'] or {})
