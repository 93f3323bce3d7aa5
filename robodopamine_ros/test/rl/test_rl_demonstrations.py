# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Recorded demonstrations (bags of mode collect) as demo-buffer episodes (rl.demonstrations)."""

from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.data import bag_writer, bags
from robodopamine_ros.data.episode import Stream
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.demonstrations import DemonstrationError, episode_from_recording
from robodopamine_ros.rl.replay import ReplayBuffer, ReturnRule, store_episode

SHAPING = ShapingConfig(gamma=0.98)
ARM = tuple(f'fr3_joint{i + 1}' for i in range(7))   # conftest's make_episode


def recorded(tmp_path, make_episode, keyframes=True, frames=12):
    """Write a synthetic recording as a real rosbag2 and read it back (bags.read_episode)."""
    episode = make_episode(num_frames=frames)
    if keyframes:
        episode.keyframes = [Segment(0, 5, 'reach'), Segment(5, frames - 1, 'insert')]
    bag_writer.write_episode(tmp_path / 'demo', episode, storage='mcap')
    return episode, bags.read_episode(tmp_path / 'demo')


def test_only_the_operators_actions_become_transitions_in_order(tmp_path, make_episode):
    original, recording = recorded(tmp_path, make_episode)
    episode = episode_from_recording(recording, joint_names=ARM, shaping=SHAPING, source='demo')
    kept = np.flatnonzero(original.streams['intervention'].values[:, 0])   # frames 0, 3, 6, 9
    assert len(episode.transitions) == len(kept) == 4
    for t, frame in zip(episode.transitions, kept):
        assert np.allclose(t['action'], original.streams['action'].values[frame], atol=1e-6)
        assert np.allclose(t['obs']['state'][:7],
                           original.streams['joint_positions'].values[frame], atol=1e-6)
        assert t['obs']['state'].shape == (14,) and t['intervention'] and t['demo']
    # each next state is the state at the next kept action
    for a, b in zip(episode.transitions, episode.transitions[1:]):
        assert np.array_equal(a['next_obs']['state'], b['obs']['state'])


def test_rewards_are_shaped_from_keyframe_progress_and_end_in_success(tmp_path, make_episode):
    _, recording = recorded(tmp_path, make_episode)
    episode = episode_from_recording(recording, joint_names=ARM, shaping=SHAPING)
    progress = [t['progress_before'] for t in episode.transitions] + \
        [episode.transitions[-1]['progress_after']]
    assert progress[0] == 0.0 and progress[-1] == 1.0 and np.all(np.diff(progress) > 0)
    last = episode.transitions[-1]
    assert last['terminal'] and last['success'] and last['sparse_reward'] == 1.0
    assert not any(t['terminal'] for t in episode.transitions[:-1])
    # shaping telescopes: the return is the success reward minus Phi(s0) (0), discounted sums aside
    undiscounted = sum(t['reward'] - t['sparse_reward'] for t in episode.transitions)
    assert undiscounted == pytest.approx(-sum((1 - SHAPING.gamma) * p for p in progress[1:-1]),
                                         abs=1e-9)
    online, demo = ReplayBuffer(100, {'state': (14,)}, 4), ReplayBuffer(100, {'state': (14,)}, 4)
    store_episode(episode, ReturnRule(gamma=0.98), online, demo)
    assert len(demo) == 4 and len(online) == 0


def test_without_keyframes_progress_is_the_fraction_done(tmp_path, make_episode):
    _, recording = recorded(tmp_path, make_episode, keyframes=False)
    episode = episode_from_recording(recording, joint_names=ARM, shaping=SHAPING)
    assert [t['progress_after'] for t in episode.transitions] == \
        pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_a_recording_that_cannot_be_a_demonstration_is_named(tmp_path, make_episode):
    _, recording = recorded(tmp_path, make_episode)
    nine = ARM + ('fr3_finger_joint1', 'fr3_finger_joint2')
    with pytest.raises(DemonstrationError, match=r"demo7: joint_states lacks \['fr3_finger_"
                                                 r"joint1', 'fr3_finger_joint2'\]: it names "
                                                 r"\['fr3_joint1'.*parameter joint_names is"):
        episode_from_recording(recording, joint_names=nine, shaping=SHAPING, source='demo7')
    del recording.streams['action']
    with pytest.raises(DemonstrationError, match='demo7: no action recorded.*mode:=collect'):
        episode_from_recording(recording, joint_names=ARM, shaping=SHAPING, source='demo7')
    _, recording = recorded(tmp_path / 'b', make_episode)
    stamps = recording.streams['action'].stamps
    recording.streams['intervention'] = Stream(stamps, np.zeros(len(stamps), dtype=bool))
    with pytest.raises(DemonstrationError, match='0 operator actions.*deadman'):
        episode_from_recording(recording, joint_names=ARM, shaping=SHAPING, source='demo7')


def test_bags_load_in_order_with_their_paths(tmp_path, make_episode):
    from robodopamine_ros.rl.demonstrations import load_demonstrations

    recorded(tmp_path, make_episode)
    loaded = load_demonstrations(['', str(tmp_path / 'demo')], joint_names=ARM, shaping=SHAPING)
    assert [path for path, _ in loaded] == [str(tmp_path / 'demo')]
    assert loaded[0][1].episode_id == -1 and len(loaded[0][1].transitions) == 4


def test_tracked_object_poses_round_trip_through_the_bag_into_the_state(tmp_path, make_episode):
    """With objects > 0 the state is robot/state.py's: joints, hand pose, then each object."""
    episode = make_episode(num_frames=12)
    stamps = episode.streams['joint_positions'].stamps
    poses = np.stack([np.concatenate([[0.1 * k, 0.6, 0.02, 0, 0, 0, 1],
                                      [-0.3, 0.5 + 0.01 * k, 0.13, 0, 0, 0, 1]])
                      for k in range(len(stamps))])
    episode.streams['object_poses'] = Stream(stamps, poses)
    bag_writer.write_episode(tmp_path / 'demo', episode, storage='mcap')
    recording = bags.read_episode(tmp_path / 'demo')
    np.testing.assert_allclose(recording.streams['object_poses'].values, poses)
    demo = episode_from_recording(recording, joint_names=ARM, shaping=SHAPING, objects=2)
    first = demo.transitions[0]['obs']['state']
    assert first.shape == (7 + 7 + 2 * 7,)
    frame = int(np.flatnonzero(episode.streams['intervention'].values[:, 0])[0])
    np.testing.assert_allclose(first[14:], poses[frame], atol=1e-6)
    with pytest.raises(DemonstrationError, match='holds 2 poses, the agent observes 3'):
        episode_from_recording(recording, joint_names=ARM, shaping=SHAPING, objects=3,
                               source='demo')
    _, plain = recorded(tmp_path / 'other', make_episode)
    with pytest.raises(DemonstrationError, match='no object_poses recorded.*parameter objects'):
        episode_from_recording(plain, joint_names=ARM, shaping=SHAPING, objects=2, source='demo')


# field case 13 (joint-states-order, round 2): one arm configuration, two joint orders ----
JOINT_ORDER = Path(__file__).resolve().parents[4] / 'shared' / 'field_cases' \
    / 'joint-states-order'


@pytest.mark.skipif(not JOINT_ORDER.is_dir(), reason=f'field cases not found at {JOINT_ORDER}')
def test_demonstrations_in_two_joint_orders_give_the_same_states():
    from robodopamine_ros.rl.demonstrations import load_demonstrations

    urdf, resorted = JOINT_ORDER / 'demo_urdf_order', JOINT_ORDER / 'demo_resorted_order'
    assert bags.read_episode(resorted).joint_names[:3] == ('joint2', 'joint3', 'joint1')
    names = tuple(f'joint{i + 1}' for i in range(7))
    (_, a), (_, b) = load_demonstrations([urdf, resorted], names, SHAPING)
    assert len(a.transitions) == len(b.transitions) > 0
    for x, y in zip(a.transitions, b.transitions):
        np.testing.assert_array_equal(x['obs']['state'], y['obs']['state'])
    np.testing.assert_allclose(a.transitions[0]['obs']['state'][:7],
                               [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], atol=1e-6)
    # the agent's own order decides the layout, and a joint the bag lacks refuses it
    (_, c), = load_demonstrations([resorted], names[::-1], SHAPING)
    np.testing.assert_array_equal(c.transitions[0]['obs']['state'][:7],
                                  a.transitions[0]['obs']['state'][:7][::-1])
    with pytest.raises(DemonstrationError, match=r'demo_resorted_order: joint_states lacks '
                                                 r"\['finger'\]: it names \['joint2', "
                                                 r"'joint3', 'joint1'.*parameter joint_names "
                                                 r"is \['joint1'"):
        load_demonstrations([resorted], names + ('finger',), SHAPING)


NAN_FINGERS = Path(__file__).resolve().parents[4] / 'shared' / 'field_cases' \
    / 'joint-states-nan' / 'demo_nan_fingers'


@pytest.mark.skipif(not NAN_FINGERS.is_dir(), reason=f'field case not found at {NAN_FINGERS}')
def test_nan_joint_positions_are_named_and_never_stored(caplog):
    """Issue 29, item 11: both finger joints NaN in every joint_states message."""
    from robodopamine_ros.rl.demonstrations import load_demonstrations

    recording = bags.read_episode(NAN_FINGERS, images=False)
    assert "/joint_states: positions of ['fr3_finger_joint1', 'fr3_finger_joint2'] are not " \
           'finite (NaN or inf) in 20 of 20 messages' in recording.warnings
    with pytest.raises(DemonstrationError, match=r'demo_nan_fingers: not finite \(NaN or inf\): '
                                                 r'joint_states positions of \[.fr3_finger_joint1.'
                                                 r', .fr3_finger_joint2.\] in 40 of 40 states'):
        load_demonstrations([NAN_FINGERS], recording.joint_names, SHAPING)


def test_a_non_finite_hand_pose_or_action_is_refused(tmp_path, make_episode):
    episode = make_episode(num_frames=8)
    episode.streams['ee_pose'].values[3, 0] = np.nan
    bag_writer.write_episode(tmp_path / 'pose', episode, storage='mcap')
    with pytest.raises(DemonstrationError, match=r'not finite .*the hand pose '
                                                 r'\(robodopamine/ee_pose\) in \d+ of \d+ states'):
        episode_from_recording(bags.read_episode(tmp_path / 'pose'), ARM, SHAPING)
    episode = make_episode(num_frames=8)
    episode.streams['action'].values[0, 1] = np.inf
    episode.streams['intervention'].values[:] = True
    bag_writer.write_episode(tmp_path / 'action', episode, storage='mcap')
    with pytest.raises(DemonstrationError, match=r'not finite .*the actions \(1 of 8\)'):
        episode_from_recording(bags.read_episode(tmp_path / 'action'), ARM, SHAPING)


def test_bags_fill_an_empty_demo_buffer_and_say_so(tmp_path, make_episode):
    from robodopamine_ros.rl.acting import Learner
    from robodopamine_ros.rl.agents import AgentConfig
    from robodopamine_ros.rl.demonstrations import fill_demo_buffer
    from robodopamine_ros.robot.state import POSE_SIZE

    recorded(tmp_path, make_episode)
    learner = Learner(AgentConfig(hidden=(16, 16), batch_size=8, gamma=SHAPING.gamma),
                      {'state': (len(ARM) + POSE_SIZE,)}, capacity=100)
    lines = fill_demo_buffer(learner, [str(tmp_path / 'demo')], ARM, SHAPING)
    assert lines == [('info', f'demonstration {tmp_path / "demo"}: 4 transitions in the demo '
                              'buffer'),
                     ('info', 'demo buffer: 4 transitions from 1 demos:= bag')]
    assert len(learner.demo) == 4
