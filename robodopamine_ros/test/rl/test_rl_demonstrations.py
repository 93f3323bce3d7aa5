# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""Recorded demonstrations (bags of mode collect) as demo-buffer episodes (rl.demonstrations)."""

import numpy as np
import pytest
from robodopamine_ros.data import bags
from robodopamine_ros.data.episode import Stream
from robodopamine_ros.data.keyframes import Segment
from robodopamine_ros.reward.shaping import ShapingConfig
from robodopamine_ros.rl.demonstrations import DemonstrationError, episode_from_recording
from robodopamine_ros.rl.replay import ReplayBuffer, ReturnRule, store_episode

SHAPING = ShapingConfig(gamma=0.98)


def recorded(tmp_path, make_episode, keyframes=True, frames=12):
    """Write a synthetic recording as a real rosbag2 and read it back (bags.read_episode)."""
    episode = make_episode(num_frames=frames)
    if keyframes:
        episode.keyframes = [Segment(0, 5, 'reach'), Segment(5, frames - 1, 'insert')]
    bags.write_episode(tmp_path / 'demo', episode, storage='mcap')
    return episode, bags.read_episode(tmp_path / 'demo')


def test_only_the_operators_actions_become_transitions_in_order(tmp_path, make_episode):
    original, recording = recorded(tmp_path, make_episode)
    episode = episode_from_recording(recording, joints=7, shaping=SHAPING, source='demo')
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
    episode = episode_from_recording(recording, joints=7, shaping=SHAPING)
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
    episode = episode_from_recording(recording, joints=7, shaping=SHAPING)
    assert [t['progress_after'] for t in episode.transitions] == \
        pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_a_recording_that_cannot_be_a_demonstration_is_named(tmp_path, make_episode):
    _, recording = recorded(tmp_path, make_episode)
    with pytest.raises(DemonstrationError, match='demo7: joint_states has 7 positions, the '
                                                 'agent observes 9'):
        episode_from_recording(recording, joints=9, shaping=SHAPING, source='demo7')
    del recording.streams['action']
    with pytest.raises(DemonstrationError, match='demo7: no action recorded.*mode:=collect'):
        episode_from_recording(recording, joints=7, shaping=SHAPING, source='demo7')
    _, recording = recorded(tmp_path / 'b', make_episode)
    stamps = recording.streams['action'].stamps
    recording.streams['intervention'] = Stream(stamps, np.zeros(len(stamps), dtype=bool))
    with pytest.raises(DemonstrationError, match='0 operator actions.*deadman'):
        episode_from_recording(recording, joints=7, shaping=SHAPING, source='demo7')


def test_bags_load_in_order_with_their_paths(tmp_path, make_episode):
    from robodopamine_ros.rl.demonstrations import load_demonstrations

    recorded(tmp_path, make_episode)
    loaded = load_demonstrations(['', str(tmp_path / 'demo')], joints=7, shaping=SHAPING)
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
    bags.write_episode(tmp_path / 'demo', episode, storage='mcap')
    recording = bags.read_episode(tmp_path / 'demo')
    np.testing.assert_allclose(recording.streams['object_poses'].values, poses)
    demo = episode_from_recording(recording, joints=7, shaping=SHAPING, objects=2)
    first = demo.transitions[0]['obs']['state']
    assert first.shape == (7 + 7 + 2 * 7,)
    frame = int(np.flatnonzero(episode.streams['intervention'].values[:, 0])[0])
    np.testing.assert_allclose(first[14:], poses[frame], atol=1e-6)
    with pytest.raises(DemonstrationError, match='holds 2 poses, the agent observes 3'):
        episode_from_recording(recording, joints=7, shaping=SHAPING, objects=3, source='demo')
    _, plain = recorded(tmp_path / 'other', make_episode)
    with pytest.raises(DemonstrationError, match='no object_poses recorded.*parameter objects'):
        episode_from_recording(plain, joints=7, shaping=SHAPING, objects=2, source='demo')
