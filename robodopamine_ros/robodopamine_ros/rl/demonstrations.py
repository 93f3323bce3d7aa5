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
from robodopamine_ros.reward.labels import equalized_states
from robodopamine_ros.reward.shaping import shape_episode
from robodopamine_ros.rl.replay import Episode
from robodopamine_ros.robot.state import POSE_SIZE


class DemonstrationError(ValueError):
    """A recording cannot serve as a demonstration; the message names it and why."""


def demonstration_progress(recording, stamps):
    """
    Progress Phi in [0, 1] at the given stamps (ns) of a recorded demonstration.

    Keyframe progress when the recording has keyframes, else the fraction of the stamps'
    range elapsed. The last stamp always has progress 1 (the demonstration succeeded).
    """
    stamps = np.asarray(stamps, dtype=np.int64)
    if recording.keyframes:
        frames = np.searchsorted(recording.stamps, stamps, side='right') - 1
        progress = equalized_states(recording.keyframes).dense_progress(np.clip(frames, 0, None))
    else:
        progress = np.arange(len(stamps)) / max(len(stamps) - 1, 1)
    progress = np.clip(progress, 0.0, 1.0)
    progress[-1] = 1.0
    return progress


def episode_from_recording(recording, joint_names, shaping, episode_id=-1, source='recording',
                           objects=0):
    """
    Return the replay Episode (demo=True) of a recorded demonstration.

    recording: an episode.Episode read from a bag (bags.read_episode) with the streams
    'joint_positions', 'ee_pose', 'action' and 'intervention', and its joint_names; joint_names:
    the joints the agent observes, in its state's order (parameter joint_names); objects: the
    tracked objects in its state (robot/state.py, parameter objects; their poses must be
    recorded); shaping: the agent's ShapingConfig (gamma
    equal to the critic's). Raises DemonstrationError naming `source` when a stream is missing,
    a configured joint is not recorded or a recorded one is not configured (both lists named),
    the object count differs, or fewer than 2 actions were taken.
    """
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
    progress = demonstration_progress(recording, np.append(stamps, after[-1]))
    rewards = shape_episode(list(progress), shaping, truncated_at_end=False)
    episode = Episode(episode_id, demo=True)
    for k, step in enumerate(rewards):
        episode.add({'state': before_states[k]}, np.clip(actions[k], -1.0, 1.0),
                    {'state': after_states[k]}, step.reward, terminal=step.terminal,
                    truncated=step.truncated, success=step.sparse_reward > 0,
                    intervention=True, progress_before=step.progress_before,
                    progress_after=step.progress_after, sparse_reward=step.sparse_reward)
    return episode


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


def load_demonstrations(paths, joint_names, shaping, objects=0):
    """
    Read recorded demonstration bags; return [(path, demo-buffer Episode)], in order.

    paths: bag folders (empty entries are skipped); joint_names: the agent's (its state's
    order); episode ids are -1, -2, ... Raises
    DemonstrationError (or bags.BagError) naming the bag that cannot serve.
    """
    from robodopamine_ros.data.bags import read_episode

    paths = [str(p) for p in paths if p]
    # the state holds no image: none is decoded (memory: the robot's streams, whatever the
    # cameras' resolution)
    return [(path, episode_from_recording(read_episode(path, images=False), joint_names,
                                          shaping, episode_id=-1 - k, source=path,
                                          objects=objects))
            for k, path in enumerate(paths)]


def fill_demo_buffer(learner, paths, joint_names, shaping, objects=0, checkpoint=None):
    """
    Fill an empty demo buffer from demonstration bags; return [(level, line)] saying whence.

    learner: rl.acting.Learner; checkpoint: the checkpoint file the learner was resumed from
    (None: a new learner). A buffer that already holds demonstrations (a resumed checkpoint)
    keeps them and the bags are not read: a warning says they were ignored. level is 'info' or
    'warn'. Raises what load_demonstrations raises.
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
    lines = []
    for path, episode in load_demonstrations(paths, joint_names, shaping, objects):
        learner.add_episode(episode)
        lines.append(('info', f'demonstration {path}: {len(episode.transitions)} transitions '
                              'in the demo buffer'))
    lines.append(('info', f'demo buffer: {len(learner.demo)} transitions from {len(paths)} '
                          f'demos:= bag{"s" if len(paths) > 1 else ""}'))
    return lines
