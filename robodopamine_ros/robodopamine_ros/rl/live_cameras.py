# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The 'cameras' observation on a robot: live camera images to what the policy observes.

CameraTriplets synchronizes the three camera streams as grm_node does (data/sync.py); LiveViews
checks each image against the camera size its view was trained on (per view: a rig's cameras
may differ) and resizes it by rl.observations.policy_view, the demonstrations' rule;
robot_camera_observation builds the observation with rl.observations.policy_observation, the
simulator training's builder. rl_agent_node calls them (logic here, wiring there).
"""

from robodopamine_ros.data.sync import LiveSynchronizer
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.data.view_slots import ViewSlots
from robodopamine_ros.rl.observations import policy_observation, policy_view
from robodopamine_ros.robot.state import POSE_SIZE, robot_state


def robot_camera_observation(views, joint_positions, ee_pose, shapes, features=None):
    """
    Return the policy's 'cameras' observation on a robot: what the simulator's training builds.

    views: (front, left wrist, right wrist) uint8 H x W x 3 RGB at the policy's resolution
    (LiveViews.view);
    joint_positions: (joints,), fingers included; ee_pose: (7,) hand pose in the base frame;
    shapes: the policy's obs_shapes; features: the FrozenViewEncoder of 'image_features'.
    Built by policy_observation from the simulator's keys (the views by name and
    'proprioception' = robot/state.py with no objects). Raises ValueError for wrong counts.
    """
    joints = shapes['state'][0] - POSE_SIZE   # no object pose
    obs = dict(zip(VIEWS, views), proprioception=robot_state(joint_positions, ee_pose,
                                                             joints=joints, objects=0))
    return policy_observation(obs, shapes, 'cameras', features)


def check_camera_size(size, camera_size, image_size, topic):
    """
    Refuse a camera image not at the size the policy's training data came from.

    size: (width, height) px of the camera image; camera_size: (width, height) px of the
    training's camera images of that view; image_size: the policy's views' (named in the
    text). Raises ValueError naming the topic (or demonstration) and both sizes (W x H).
    """
    width, height = size
    if (width, height) != tuple(camera_size):
        raise ValueError(
            f'{topic}: {width}x{height} image, the policy was trained on '
            f'{camera_size[0]}x{camera_size[1]} camera images (seen as {image_size[0]}x'
            f'{image_size[1]} views): refused (set the camera to {camera_size[0]}x'
            f'{camera_size[1]}, or train a policy on this size)')


class LiveViews:
    """
    Camera images to the policy's views: the camera-size check, then policy_view's resize.

    image_size: (width, height) of the policy's views; camera_sizes: per view (VIEWS order) the
    (width, height) of the camera images the policy was trained on, None for a view whose
    first image (a demonstration's, then a live one's) sets it; None: every view's
    (a node's training from scratch). ``camera_sizes`` are the sizes in force. Not
    thread-safe: the caller serializes calls.
    """

    def __init__(self, image_size, camera_sizes=None):
        self.image_size = tuple(int(v) for v in image_size)
        self.camera_sizes = [None if size is None else (int(size[0]), int(size[1]))
                             for size in (camera_sizes or (None,) * len(VIEWS))]
        if len(self.camera_sizes) != len(VIEWS):
            raise ValueError(f'camera_sizes: one per view ({", ".join(VIEWS)}), got '
                             f'{camera_sizes!r}')

    def expect(self, view, size, where):
        """
        Check (or, first, set) a view's camera size by an image's (width, height).

        view: a VIEWS name; where: the topic or demonstration named by the ValueError.
        Returns whether this image set the size (its view's first).
        """
        index, size = VIEWS.index(view), (int(size[0]), int(size[1]))
        first = self.camera_sizes[index] is None
        if first:
            self.camera_sizes[index] = size
        check_camera_size(size, self.camera_sizes[index], self.image_size, where)
        return first

    def view(self, view, image, where):
        """
        Return (the policy's view of a camera image, whether it set its view's size).

        image: H x W x 3; raises ValueError (expect).
        """
        first = self.expect(view, (image.shape[1], image.shape[0]), where)
        return policy_view(image, self.image_size), first


class CameraTriplets:
    """
    The newest synchronized (front, left wrist, right wrist) triplet the policy acts on.

    Synchronized as grm_node does (data/sync.py, LiveSynchronizer: slop, jump_threshold in s;
    synchronizer: the approximate-time synchronizer underneath, None: data/sync.py's). names:
    per view (VIEWS order) the camera's name in messages (its topic). slots: the rig
    (data/view_slots.py ViewSlots; None: all three views): only the views a camera fills are
    synchronized, the empty ones are filled by the rig's rule, as grm_node fills the GRM's.
    ``add`` returns the triplets it completed, (stamp_ns, views); the caller hands the ones its
    stamp rule accepts (the watchdog) to ``accept``, and ``newest`` is the newest accepted
    (stamp_ns, views) or None: a triplet with a refused stamp is never acted on. Not
    thread-safe: the caller serializes add(), accept() and reads.
    """

    def __init__(self, slop, jump_threshold, names=VIEWS, synchronizer=None, queue_size=10,
                 slots=None):
        self.slots = slots or ViewSlots()
        self.present = self.slots.present
        self._sync = LiveSynchronizer(len(self.present), slop, queue_size, jump_threshold,
                                      names=[names[VIEWS.index(view)] for view in self.present],
                                      on_reset=self._on_reset,
                                      **({'synchronizer': synchronizer} if synchronizer
                                         else {}))
        self.newest = None
        self.triplets = 0

    @property
    def resets(self):
        """Return how often the synchronizer was reset (clock jumps) and the last reason."""
        return self._sync.resets, self._sync.last_reset

    def add(self, view, stamp_ns, image, arrival_ns):
        """
        Add one view's image with its stamp and arrival (ns); return the completed triplets.

        view: a VIEWS name a camera fills (ValueError for an empty slot's). A triplet's stamp
        is its first present view's.
        """
        if view not in self.present:
            raise ValueError(f'{view}: no camera fills this view on this rig '
                             f'({self.slots.as_dict()})')
        completed = self._sync.add(self.present.index(view), stamp_ns, image, arrival_ns)
        return [(items[0][0], self.slots.complete(
            {slot: image for slot, (_, image) in zip(self.present, items)}))
            for items in completed]

    def accept(self, triplet):
        """Take a completed (stamp_ns, views) whose stamp was accepted: the policy acts on it."""
        self.newest = triplet
        self.triplets += 1

    def _on_reset(self, reason):
        self.newest = None   # views from before a clock jump are not acted on
