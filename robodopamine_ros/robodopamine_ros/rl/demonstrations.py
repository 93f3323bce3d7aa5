# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Recorded demonstrations (bags of ``mode:=collect``) as demo-buffer episodes for the agent.

A demonstration recorded on the robot holds the camera triplets, ``joint_states``,
``robodopamine/ee_pose``, the tracked objects' poses when there are any
(``robodopamine/object_poses``, PoseArray) and the executed actions (``robodopamine/action``,
ActionStamped). Each action message the operator (or the simulator's autopilot) chose, i.e. with
``intervention`` true, becomes one transition at the control rate:

    obs_k      = the state (robot/state.py: joint positions, pose, object poses) in effect at
                 the k-th action's stamp
    action_k   = that action (normalized end-effector delta + gripper, as the agent's)
    next_obs_k = the state at the next kept action's stamp (for the last: the last sample)

With ``observation='cameras'`` (the product's policy, rl/observations.py) obs_k is instead the
three camera views and proprioception (joints, fingers included, and the hand pose; no object):

    views_k    = the synchronized triplet in effect at the k-th action's stamp: the latest one
                 at or before it (the first before the first), the rule every recorded stream
                 follows (episode.Stream.at) and the one keyframe progress is read with. The
                 triplets are the GRM's: bags.read_episode plans them (data/triplets.py: clock,
                 stretches, approximate sync within the slop) on the clock the robot streams
                 are read on, so views and state of a step come from one timeline.
    resolution = the policy's image_size, each view decoded and resized by the one resize
                 rule (rl.observations.policy_view: data.images.resize, area interpolation),
                 as the GRM reads a bag (read_episode(image_size=...)) and rl_agent_node
                 takes its live views; views arrive in RGB whatever the topic's encoding
                 (bgr8, compressed, ...). A bag recorded at the policy's resolution is read
                 as it is (the resize is the identity). With ``camera`` (rl.live_cameras.
                 LiveViews, rl_agent_node's) each bag's recorded camera sizes must be the
                 policy's, view by view (the first bag sets a view's when none is known).

and next_obs_k holds the views at the next kept action's stamp: the same array as obs_{k+1}'s,
so the replay buffer stores each step's views once (rl/replay.py's frame ring). With a frozen
encoder (FrozenViewEncoder) the views become 'image_features', computed once per triplet. A
bag lacking a camera the policy observes is refused, naming the view and the bag.

Stops between takeovers (intervention false: the arm held) are not demonstrations and are
left out. Joint positions are mapped by name (data/joints.py) to the agent's ``joint_names``:
two recordings whose drivers listed the joints in other orders give the same state layout, and
one that lacks a configured joint or names an unknown one is refused naming both lists.
Rewards are shaped (``shaping.shape_episode``, the rule the live agent applies)
from the keyframe progress of the demonstration (piecewise-linear between the equalized
states, the GRM's own training target) when the bag holds keyframes, else from the fraction
of the demonstration done (k / N); a demonstration ends in success by definition (the
operator stopped recording when the task was done), so it ends terminal at progress 1.
"""

import numpy as np
from robodopamine_ros.data.episode import Stream
from robodopamine_ros.data.joints import JointOrder, non_finite_joints
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.reward.labels import equalized_states
from robodopamine_ros.reward.shaping import shape_episode
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.robot.state import POSE_SIZE

# what a demonstration read from a bag can be observed as: robot/state.py's vector (joints, hand
# pose, tracked objects), or the policy's camera views and proprioception (rl/observations.py)
DEMO_OBSERVATIONS = ('robot', 'cameras')


class DemonstrationError(ValueError):
    """A recording cannot serve as a demonstration; the message names it and why."""


def check_demo_observation(observation, image_size=None, objects=0):
    """
    Raise ValueError naming the argument when a demonstration cannot be observed so.

    observation: one of DEMO_OBSERVATIONS; with 'cameras', image_size must be (width, height)
    in pixels (> 0) and objects 0 (the camera policy observes no object pose).
    """
    if observation not in DEMO_OBSERVATIONS:
        raise ValueError(f'observation of a demonstration must be one of {DEMO_OBSERVATIONS}, '
                         f'got {observation!r}')
    if observation != 'cameras':
        return
    try:
        ok = len(image_size) == 2 and all(int(v) == v and v > 0 for v in image_size)
    except TypeError:
        ok = False
    if not ok:
        raise ValueError('observation cameras needs image_size (width, height) in pixels > 0, '
                         f'got {image_size!r}')
    if objects:
        raise ValueError(f'observation cameras holds no object pose, but objects is {objects} '
                         '(parameter objects must be 0)')


def frames_at(recording, stamps):
    """
    Return the index (int64) of the triplet in effect at each stamp (ns) of a recording.

    The latest triplet at or before the stamp, the first one before the first: episode.Stream.at,
    the rule by which every recorded stream is sampled.
    """
    return Stream(recording.stamps, np.arange(recording.num_frames)).at(stamps)[:, 0]


def demonstration_progress(recording, stamps):
    """
    Progress Phi in [0, 1] at the given stamps (ns) of a recorded demonstration.

    Keyframe progress when the recording has keyframes, else the fraction of the stamps'
    range elapsed. The last stamp always has progress 1 (the demonstration succeeded).
    """
    stamps = np.asarray(stamps, dtype=np.int64)
    if recording.keyframes:
        progress = equalized_states(recording.keyframes).dense_progress(
            frames_at(recording, stamps))
    else:
        progress = np.arange(len(stamps)) / max(len(stamps) - 1, 1)
    progress = np.clip(progress, 0.0, 1.0)
    progress[-1] = 1.0
    return progress


def episode_from_recording(recording, joint_names, shaping, episode_id=-1, source='recording',
                           objects=0, *, observation='robot', image_size=None, features=None):
    """
    Return the replay Episode (demo=True) of a recorded demonstration.

    recording: an episode.Episode read from a bag (bags.read_episode) with the streams
    'joint_positions', 'ee_pose', 'action' and 'intervention', and its joint_names; joint_names:
    the joints the agent observes, in its state's order (parameter joint_names); objects: the
    tracked objects in its state (robot/state.py, parameter objects; their poses must be
    recorded); shaping: the agent's ShapingConfig (gamma
    equal to the critic's). observation: 'robot' (obs {'state': (joints + 7 (1 + objects),)})
    or 'cameras' (obs {'state': (joints + 7,), 'images': (3, height, width, 3) uint8}, or
    'image_features': (F,) float32 with features; the recording's views decoded);
    image_size: (width, height) of the policy's views ('cameras'); features: the frozen
    encoder of 'image_features' (rl.observations.FrozenViewEncoder: a callable of the three
    views with its feature count ``size``) or None.
    Raises ValueError for a bad observation, image_size or objects (check_demo_observation);
    DemonstrationError naming `source` when a stream is missing or the views were not decoded,
    a configured joint is not recorded or a recorded one is not configured (both lists named),
    the object count differs, or fewer than 2 actions were taken.
    """
    check_demo_observation(observation, image_size, objects)
    cameras = observation == 'cameras'
    if cameras and 0 in recording.views[VIEWS[0]].shape[1:3]:
        raise DemonstrationError(f'{source}: the camera views were not decoded (observation '
                                 'cameras: read the bag with images)')
    needed = ('joint_positions', 'ee_pose', 'action') + (('object_poses',) if objects else ())
    missing = [s for s in needed if s not in recording.streams]
    if missing:
        raise DemonstrationError(
            f'{source}: no {", ".join(missing)} recorded; a demonstration needs joint_states, '
            'robodopamine/ee_pose and robodopamine/action (record it with mode:=collect)'
            + (f', and robodopamine/object_poses for the {objects} tracked objects (parameter '
               'objects)' if objects else ''))
    streams = recording.streams
    chosen = streams['intervention'].values[:, 0].astype(bool) if 'intervention' in streams \
        else np.ones(len(streams['action']), dtype=bool)
    stamps = streams['action'].stamps[chosen]
    actions = streams['action'].values[chosen].astype(np.float32)
    if len(stamps) < 2:
        raise DemonstrationError(f'{source}: {len(stamps)} operator actions recorded (at least '
                                 '2 are needed: was the deadman held?)')
    if actions.shape[1] != 4:
        raise DemonstrationError(f'{source}: actions have {actions.shape[1]} values, expected 4 '
                                 '(end-effector delta x, y, z and the gripper)')
    try:  # by name, in the agent's order (a recording keeps its driver's order)
        columns = JointOrder(joint_names).permutation(recording.joint_names,
                                                      f'{source}: joint_states')
    except ValueError as error:
        raise DemonstrationError(str(error)) from error
    recorded = streams['joint_positions']
    if recorded.values.shape[1] != len(recording.joint_names):
        raise DemonstrationError(f'{source}: joint_states has {recorded.values.shape[1]} '
                                 f'positions for the names {list(recording.joint_names)}')
    streams = dict(streams, joint_positions=Stream(recorded.stamps, recorded.values[:, columns]))
    parts = ['joint_positions', 'ee_pose'] + (['object_poses'] if objects else [])
    if objects and streams['object_poses'].values.shape[1] != POSE_SIZE * objects:
        raise DemonstrationError(f'{source}: robodopamine/object_poses holds '
                                 f'{streams["object_poses"].values.shape[1] // POSE_SIZE} '
                                 f'poses, the agent observes {objects} (parameter objects)')
    after = np.append(stamps[1:], max([streams[p].stamps[-1] for p in parts] + [stamps[-1]]))

    def state(at):  # robot/state.py's layout: joints, hand pose, object poses
        return np.concatenate([streams[p].at(at) for p in parts], axis=1).astype(np.float32)

    before_states, after_states = state(stamps), state(after)
    _refuse_non_finite(np.concatenate([before_states, after_states]), actions, joint_names,
                       source)
    observed = np.append(stamps, after[-1])   # obs_k at stamps[k]; next_obs_k = obs_{k+1}
    if cameras:
        observations = _camera_observations(
            recording, observed, np.concatenate([before_states, after_states[-1:]]),
            image_size, features)
    else:
        observations = [{'state': s} for s in before_states]
    progress = demonstration_progress(recording, observed)
    rewards = shape_episode(list(progress), shaping, truncated_at_end=False)
    episode = Episode(episode_id, demo=True)
    for k, step in enumerate(rewards):
        next_obs = observations[k + 1] if cameras else {'state': after_states[k]}
        episode.add(observations[k], np.clip(actions[k], -1.0, 1.0),
                    next_obs, step.reward, terminal=step.terminal,
                    truncated=step.truncated, success=step.sparse_reward > 0,
                    intervention=True, progress_before=step.progress_before,
                    progress_after=step.progress_after, sparse_reward=step.sparse_reward)
    return episode


def _camera_observations(recording, stamps, states, image_size, features):
    """
    Return the 'cameras' observation at each stamp: its triplet (frames_at) and its state.

    Built by rl.observations.policy_observation from the simulator's keys (the views by name,
    'proprioception' = robot/state.py with no object), as the simulated training and the
    robot build it; views not yet at image_size are resized by rl.observations.policy_view
    (the rule read_episode and the robot's live views follow). Views (or their features) are
    made once per triplet; every step observing that triplet holds the same array, which the
    replay buffer's frame ring then stores once.
    """
    from robodopamine_ros.rl.observations import obs_shapes, policy_observation, policy_view

    shapes = obs_shapes('cameras', image_size, joints=states.shape[1] - POSE_SIZE, objects=0,
                        image_features=features.size if features is not None else None)
    size = tuple(int(v) for v in image_size)
    made = {}
    observations = []
    for frame, state in zip(frames_at(recording, stamps), states):
        frame = int(frame)
        if frame not in made:
            views = tuple(policy_view(view, size) for view in recording.triplet(frame))
            made[frame] = policy_observation(dict(zip(VIEWS, views), proprioception=state),
                                             shapes, 'cameras', features)
            observations.append(made[frame])
        else:
            observations.append(dict(made[frame], state=state.astype(np.float32)))
    return observations


def _refuse_non_finite(states, actions, joint_names, source):
    """
    Raise DemonstrationError when a state or an action holds NaN or inf (never stored).

    The message names the joints (or the hand pose, the object poses, the actions) and in how
    many of the states; a learner update on such a batch would be skipped, every one of them.
    """
    joints = len(joint_names)
    problems = []
    bad = non_finite_joints(joint_names, states[:, :joints])
    if bad:
        problems.append(f'joint_states positions of {bad}')
    if not np.isfinite(states[:, joints:joints + POSE_SIZE]).all():
        problems.append('the hand pose (robodopamine/ee_pose)')
    if not np.isfinite(states[:, joints + POSE_SIZE:]).all():
        problems.append('the object poses (robodopamine/object_poses)')
    if problems:
        rows = int((~np.isfinite(states)).any(axis=1).sum())
        problems[-1] += f' in {rows} of {len(states)} states'
    if not np.isfinite(actions).all():
        problems.append(f'the actions ({int((~np.isfinite(actions)).any(axis=1).sum())} of '
                        f'{len(actions)})')
    if problems:
        raise DemonstrationError(f'{source}: not finite (NaN or inf): {"; ".join(problems)}; '
                                 'such a demonstration is never stored (a driver that lost '
                                 'those joints: fix it and record again)')


def load_demonstrations(paths, joint_names, shaping, objects=0, *, observation='robot',
                        image_size=None, features=None, options=None, camera=None):
    """
    Read recorded demonstration bags; return [(path, demo-buffer Episode)], in order.

    paths: bag folders (empty entries are skipped); joint_names: the agent's (its state's
    order); observation, image_size, features: as episode_from_recording's; options: the
    bags.ReadOptions the bags are read with (camera topics, slop, stamps; None: the defaults,
    the topics mode:=collect records); camera: the rl.live_cameras.LiveViews whose camera_sizes
    each bag's recorded views must have (None: not checked; a view's size None: the first
    bag read sets it). Episode ids are -1, -2, ... Raises ValueError for a bad observation,
    image_size or objects; DemonstrationError (or bags.BagError) naming the bag that cannot
    serve: with 'cameras', a bag without a view's camera topic (raw or compressed) is refused
    naming the view, and one recorded at another camera size naming the view and both sizes.
    """
    from robodopamine_ros.data.bags import MissingCameraError, read_episode

    check_demo_observation(observation, image_size, objects)
    cameras = observation == 'cameras'
    paths = [str(p) for p in paths if p]
    loaded = []
    for k, path in enumerate(paths):
        try:
            # 'robot' holds no image: none is decoded (memory: the robot's streams, whatever
            # the cameras' resolution); 'cameras' decodes every triplet straight to image_size
            recording = read_episode(path, options, image_size=image_size if cameras else None,
                                     images=cameras)
        except MissingCameraError as error:
            if not cameras:
                raise
            raise DemonstrationError(
                f'{path}: no {error.view} view: the policy observes the views '
                f'{", ".join(VIEWS)} (observation cameras), and this demonstration lacks '
                f'{error.view} ({error})') from error
        for view, size in recording.sync.get('camera_sizes', {}).items() \
                if cameras and camera is not None else ():
            try:
                camera.expect(view, size, f'{path}: {view} camera')
            except ValueError as error:
                raise DemonstrationError(str(error)) from error
        loaded.append((path, episode_from_recording(
            recording, joint_names, shaping, episode_id=-1 - k, source=path, objects=objects,
            observation=observation, image_size=image_size, features=features)))
    return loaded


def _check_buffer_shapes(learner, path, episode):
    """Raise ValueError when a demonstration's observations do not fit the learner's buffers."""
    expected = learner.demo.obs_shapes
    got = {key: np.shape(value) for key, value in episode.transitions[0]['obs'].items()}
    if got != expected:
        raise ValueError(f'demonstration {path}: its observations are {got}, the learner '
                         f'stores {expected} (observation, image_size, joint_names, objects '
                         "and the image encoder must be the same as the policy's)")


def fill_demo_buffer(learner, paths, joint_names, shaping, objects=0, checkpoint=None, *,
                     observation='robot', image_size=None, features=None, options=None,
                     camera=None):
    """
    Fill an empty demo buffer from demonstration bags; return [(level, line)] saying whence.

    learner: rl.acting.Learner; checkpoint: the checkpoint file the learner was resumed from
    (None: a new learner). observation ('robot' or 'cameras'), image_size ((width, height) of
    the policy's views), features (the frozen encoder of 'image_features', or None), options
    (bags.ReadOptions, None: the defaults) and camera (rl.live_cameras.LiveViews: the camera
    sizes the bags must have, or that the first sets): as load_demonstrations'. A buffer that
    already holds demonstrations (a resumed checkpoint) keeps them and the bags are not read:
    a warning says they were ignored. level is 'info' or 'warn'. Raises what load_demonstrations
    raises, and ValueError when the observations do not fit the learner's buffers (both
    shapes named).
    """
    paths = [str(p) for p in paths if p]
    if len(learner.demo):
        lines = [('info', f'demo buffer: {len(learner.demo)} transitions from the checkpoint '
                          f'{checkpoint}')]
        if paths:
            lines.append(('warn', f'demos ignored ({", ".join(paths)}): the demo buffer comes '
                                  f'from the checkpoint {checkpoint}; to start from these bags, '
                                  'use another checkpoint_dir'))
        return lines
    if not paths:
        return [('info', 'demo buffer: empty (no demos:= bags' + (
            ' and none in the checkpoint)' if checkpoint else ')'))]
    loaded = load_demonstrations(paths, joint_names, shaping, objects, observation=observation,
                                 image_size=image_size, features=features, options=options,
                                 camera=camera)
    for path, episode in loaded:
        _check_buffer_shapes(learner, path, episode)
    lines = []
    for path, episode in loaded:
        learner.add_episode(episode)
        lines.append(('info', f'demonstration {path}: {len(episode.transitions)} transitions '
                              'in the demo buffer'))
    lines.append(('info', f'demo buffer: {len(learner.demo)} transitions from {len(paths)} '
                          f'demos:= bag{"s" if len(paths) > 1 else ""}'))
    return lines
