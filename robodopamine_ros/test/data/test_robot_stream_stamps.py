# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The robot's recorded streams get the cameras' stamp rules (issue 29, item 10).

Zero, frozen or other-clock header stamps on joint_states or the hand pose would give every
demonstration step the same state: such a stream is read by the bag's receive time, with a
warning naming the topic, or refused when neither clock overlaps the frames. demo-info shows
each stream's stamp range and clock.
"""

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data import bags
from robodopamine_ros.data.bag_writer import EpisodeBagWriter
from robodopamine_ros.data.bags import BagError
from robodopamine_ros.data.topics import VIEWS
from robodopamine_ros.data.triplets import robot_stream_stamps

T0 = 1_700_000_000 * 10 ** 9
PERIOD = 50_000_000
NAMES = tuple(f'fr3_joint{i + 1}' for i in range(7))
FRAMES = T0 + np.arange(10) * PERIOD


def test_usable_header_stamps_are_kept():
    stamps, clock, warning = robot_stream_stamps('/js', FRAMES + 1, FRAMES + 2, FRAMES, 'header')
    assert clock == 'header' and warning is None
    np.testing.assert_array_equal(stamps, FRAMES + 1)


@pytest.mark.parametrize('header,problem', [
    (np.zeros(10, np.int64), 'all zero'),
    (np.full(10, T0 + 7), 'all equal'),
    (np.arange(10) * PERIOD, 'another clock'),          # sim time from 0: before every frame
])
def test_unusable_header_stamps_fall_back_to_receive_time(header, problem):
    receive = FRAMES + 3_000_000
    stamps, clock, warning = robot_stream_stamps('/joint_states', header, receive, FRAMES,
                                                 'header', offset_ns=-1_000_000)
    assert clock == 'receive'
    np.testing.assert_array_equal(stamps, receive - 1_000_000)
    assert warning.startswith('/joint_states: header stamps unusable (') and problem in warning


def test_a_stream_overlapping_the_frames_on_no_clock_is_refused():
    with pytest.raises(ValueError, match=r'/joint_states: no usable stamps: the receive times '
                                         r'are \+10\.000\.\.\+10\.450 s of the first frame'):
        robot_stream_stamps('/joint_states', np.zeros(10), FRAMES + 10 ** 10, FRAMES, 'header')


def write_bag(path, joint_header=None, pose_header=None, positions=None):
    """Ten triplets; joint states and hand poses received 1 ms before each, stamped as given."""
    image = np.zeros((12, 16, 3), np.uint8)
    with EpisodeBagWriter(path, storage='mcap') as writer:
        for k, stamp in enumerate(FRAMES):
            writer.write_triplet(int(stamp), dict.fromkeys(VIEWS, image))
            values = np.full(7, 0.1 * k) if positions is None else positions[k]
            writer.write_joint_state(int(stamp) - 1_000_000, NAMES, values,
                                     header_stamp=None if joint_header is None
                                     else int(joint_header[k]))
            writer.write_ee_pose(int(stamp) - 1_000_000, [0.1 * k, 0, 0.3, 0, 0, 0, 1],
                                 header_stamp=None if pose_header is None
                                 else int(pose_header[k]))
    return path


@pytest.mark.parametrize('joint_header', [np.zeros(10), np.full(10, T0 + 5),
                                          np.arange(10) * PERIOD])
def test_every_step_gets_its_own_state_whatever_the_joint_stamps(tmp_path, joint_header):
    episode = bags.read_episode(write_bag(tmp_path / 'bag', joint_header=joint_header))
    joints = episode.stream_at_frames('joint_positions')[:, 0]
    np.testing.assert_allclose(joints, 0.1 * np.arange(10))
    assert any(w.startswith('/joint_states: header stamps unusable') for w in episode.warnings)
    assert episode.sync['streams']['joint_positions']['clock'] == 'receive'
    assert episode.sync['streams']['ee_pose']['clock'] == 'header'


def test_demo_info_shows_each_streams_stamp_range_and_clock(tmp_path, capsys):
    bag = write_bag(tmp_path / 'bag', pose_header=np.zeros(10))
    assert cli.main(['demo-info', str(bag)]) == 0
    out = capsys.readouterr().out
    assert 'stream joint_positions: 10 samples, stamps -0.001..+0.449 s of the first frame ' \
           '(/joint_states, header clock)' in out
    assert '(/robodopamine/ee_pose, receive clock)' in out
    assert 'warning: /robodopamine/ee_pose: header stamps unusable (all zero)' in out


def test_nan_joint_positions_are_named_when_reading(tmp_path, capsys):
    positions = np.tile(np.arange(7, dtype=float), (10, 1))
    positions[:, 5:] = np.nan
    positions[3, 0] = np.inf
    episode = bags.read_episode(write_bag(tmp_path / 'bag', positions=positions))
    assert "/joint_states: positions of ['fr3_joint1', 'fr3_joint6', 'fr3_joint7'] are not " \
           'finite (NaN or inf) in 10 of 10 messages' in episode.warnings


def test_a_bag_whose_robot_stream_fits_no_clock_is_refused(tmp_path):
    image = np.zeros((12, 16, 3), np.uint8)
    with EpisodeBagWriter(tmp_path / 'bag', storage='mcap') as writer:
        for stamp in FRAMES:
            writer.write_triplet(int(stamp), dict.fromkeys(VIEWS, image))
        for k in range(3):   # received a minute after the recording, stamped zero
            writer.write_joint_state(int(FRAMES[-1]) + 60 * 10 ** 9 + k, NAMES, np.zeros(7),
                                     header_stamp=0)
    with pytest.raises(BagError, match=r'bag: /joint_states: no usable stamps'):
        bags.read_episode(tmp_path / 'bag')
