# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import logging

import numpy as np
import pytest
from robodopamine_ros.data import bag_writer, bags
from robodopamine_ros.data.bag_writer import EpisodeBagWriter, write_episode
from robodopamine_ros.data.bags import BagError, read_episode, ReadOptions
from robodopamine_ros.data.keyframes import KeyframeError, Segment
from robodopamine_ros.data.topics import VIEWS

MS = 1_000_000


def progress_dict(stamp, tick, value):
    return {'stamp_ns': stamp, 'frame_id': 'front', 'episode_id': 3, 'tick': tick,
            'progress': value, 'progress_incremental': value, 'progress_forward': value,
            'progress_backward': value, 'hop': 0.25, 'confidence': 1.0, 'success': False,
            'inference_latency': 0.004, 'stalled': tick > 1}


def reward_dict(stamp, step, terminal):
    return {'stamp_ns': stamp, 'frame_id': '', 'episode_id': 3, 'step': step, 'reward': 0.5,
            'sparse_reward': 1.0 if terminal else 0.0, 'shaping': -0.5,
            'progress_before': 0.5, 'progress_after': 0.96, 'gamma': 0.98, 'confidence': 1.0,
            'terminal': terminal, 'truncated': False}


@pytest.mark.parametrize('storage', ['sqlite3', 'mcap'])
@pytest.mark.parametrize('image_format', ['raw', 'jpeg', 'png'])
def test_round_trip(tmp_path, make_episode, storage, image_format):
    episode = make_episode(num_frames=10, size=(32, 24))
    episode.keyframes = [Segment(0, 4, 'reach'), Segment(4, 9, 'insert')]
    episode.instructions = ('insert the peg', 'peg in hole')
    s0 = int(episode.stamps[0])
    episode.progress = [progress_dict(s0 + k * 100 * MS, k, 0.1 * k) for k in range(3)]
    episode.rewards = [reward_dict(s0 + k * 100 * MS, k, k == 2) for k in range(3)]
    path = write_episode(tmp_path / 'demo', episode, storage=storage, image_format=image_format,
                         version=8 if storage == 'sqlite3' else 9)
    back = read_episode(path)
    assert back.num_frames == 10 and back.sync['dropped'] == [0, 0, 0]
    np.testing.assert_array_equal(back.stamps, episode.stamps)
    for view in VIEWS:
        if image_format == 'jpeg':
            assert back.views[view].shape == episode.views[view].shape
        else:
            np.testing.assert_array_equal(back.views[view], episode.views[view])
    for name in ('joint_positions', 'ee_pose', 'action', 'intervention'):
        np.testing.assert_array_equal(back.streams[name].stamps, episode.streams[name].stamps)
        sent = episode.streams[name].values
        if name == 'action':
            sent = sent.astype(np.float32)  # ActionStamped.values is float32[]
        np.testing.assert_allclose(back.streams[name].values, sent, rtol=1e-6)
    assert back.joint_names == episode.joint_names
    assert back.progress == [pytest.approx(p) for p in episode.progress]
    assert back.rewards[2]['terminal'] and back.success is True
    assert back.keyframes == episode.keyframes
    assert back.instructions == episode.instructions
    counts, info = bags.bag_topics(path)
    assert info['storage'] == storage
    assert counts['/joint_states'] == ('sensor_msgs/msg/JointState', 10)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['demo']  # no temp folder left


def test_reader_handles_jitter_drops_out_of_order_and_gaps(tmp_path, make_episode, caplog):
    episode = make_episode(num_frames=60, streams=False)
    rng = np.random.default_rng(1)
    path = tmp_path / 'messy'
    with EpisodeBagWriter(path) as writer:
        writer_views = {}
        for view in VIEWS:
            writer_views[view] = []
            for k in range(60):
                if view == 'left_wrist' and k == 7:
                    continue  # a dropped frame
                if view == 'right_wrist' and 30 <= k < 50:
                    continue  # the camera was silent for a while
                jitter = int(rng.integers(-3, 4)) * MS
                writer_views[view].append((int(episode.stamps[k]) + jitter, view, k))
        # write in an order where one front message comes late (out of order)
        front = writer_views['front']
        front[20], front[21] = front[21], front[20]
        # recorded (arrival) order = list order: the swapped pair arrives out of stamp order
        for view in VIEWS:
            for position, (stamp, _, k) in enumerate(writer_views[view]):
                arrival = int(episode.stamps[0]) + position * 33 * MS + 5 * MS
                writer._write(writer.topics.camera(view), bags.IMAGE,
                              _image(writer, stamp, episode.views[view][k]), arrival)
    with caplog.at_level(logging.WARNING):
        back = read_episode(path, ReadOptions(slop=0.01))
    expected = [k for k in range(60) if k != 7 and not 30 <= k < 50]
    assert back.num_frames == len(expected)
    np.testing.assert_array_equal(back.views['front'], episode.views['front'][expected])
    np.testing.assert_array_equal(back.views['left_wrist'], episode.views['left_wrist'][expected])
    assert back.sync['dropped'] == [21, 20, 1]
    text = '\n'.join(back.warnings)
    assert '/cameras/front/image_raw: 1 messages with out-of-order header stamps' in text
    assert '/cameras/right_wrist/image_raw: no frames for 0.7' in text
    assert '/cameras/left_wrist/image_raw: 20 of 59 frames not synchronized' in text
    assert 'out-of-order' in caplog.text


def _image(writer, stamp, rgb):
    height, width, encoding, bigendian, step, data = bags.images.encode_image(rgb)
    return writer._types(bags.IMAGE)(header=writer._header(stamp, 'cam'), height=height,
                                     width=width, encoding=encoding, is_bigendian=bigendian,
                                     step=step, data=np.frombuffer(data, np.uint8))


def test_missing_camera_topic(tmp_path, make_episode):
    episode = make_episode(streams=False)
    path = write_episode(tmp_path / 'b', episode)
    topics = bags.TopicConfig(left_wrist='/wrist_cam/image')
    with pytest.raises(BagError, match=r'b: camera topic /wrist_cam/image not found .* topics in '
                                       r'the bag: /cameras/front/image_raw'):
        read_episode(path, ReadOptions(topics=topics))


def test_unknown_encoding_names_topic_and_stamp(tmp_path, make_episode):
    episode = make_episode(num_frames=3, streams=False)
    path = tmp_path / 'b'
    with EpisodeBagWriter(path) as writer:
        for k, stamp in enumerate(episode.stamps):
            for view in VIEWS:
                msg = _image(writer, int(stamp), episode.views[view][k])
                if view == 'left_wrist' and k == 1:
                    msg.encoding = 'bayer_rggb8'
                writer._write(writer.topics.camera(view), bags.IMAGE, msg, int(stamp))
    with pytest.raises(ValueError, match=f'/cameras/left_wrist/image_raw at stamp '
                                         f'{episode.stamps[1]} ns: unknown encoding'):
        read_episode(path)


def test_mismatched_sizes_within_a_stream(tmp_path, make_episode):
    small = make_episode(num_frames=2, size=(16, 12), streams=False)
    large = make_episode(num_frames=2, size=(20, 12), streams=False)
    path = tmp_path / 'b'
    with EpisodeBagWriter(path) as writer:
        for k in range(4):
            source = small if k < 2 else large
            stamp = int(small.stamps[0]) + k * 33 * MS
            writer.write_triplet(stamp, {v: source.views[v][k % 2] for v in VIEWS})
    with pytest.raises(BagError, match=r'/cameras/front/image_raw at stamp \d+ ns: image is '
                                       r'20 x 12, but the stream started at 16 x 12'):
        read_episode(path)


@pytest.mark.parametrize('storage', ['sqlite3', 'mcap'])
def test_truncated_or_corrupt_bag(tmp_path, make_episode, storage):
    path = write_episode(tmp_path / 'b', make_episode(num_frames=30), storage=storage)
    data_file = next(p for p in path.iterdir() if p.suffix in ('.db3', '.mcap'))
    raw = data_file.read_bytes()
    data_file.write_bytes(raw[:len(raw) // 2])
    with pytest.raises(BagError, match=str(path)):
        read_episode(path)
    data_file.write_bytes(b'\0' * 4096)
    with pytest.raises(BagError, match=str(path)):
        read_episode(path)


def test_failed_write_leaves_nothing_and_existing_bags_are_kept(tmp_path, make_episode):
    episode = make_episode(num_frames=4)
    with pytest.raises(RuntimeError):
        with EpisodeBagWriter(tmp_path / 'b') as writer:
            writer.write_triplet(int(episode.stamps[0]), {v: episode.views[v][0] for v in VIEWS})
            raise RuntimeError('camera unplugged')
    assert list(tmp_path.iterdir()) == []
    write_episode(tmp_path / 'b', episode)
    with pytest.raises(FileExistsError, match='already exists'):
        write_episode(tmp_path / 'b', episode)
    assert read_episode(tmp_path / 'b').num_frames == 4


def test_keyframe_past_the_end_is_rejected(tmp_path, make_episode):
    path = write_episode(tmp_path / 'b', make_episode(num_frames=5))
    (path / 'annotated_keyframes.json').write_text(
        '[{"anotation": "x", "start_frame_id": 0, "end_frame_id": 9}]')
    with pytest.raises(KeyframeError, match='end_frame_id 9 is past the last frame 4'):
        read_episode(path)


def test_bad_writer_arguments(tmp_path):
    with pytest.raises(ValueError, match='storage'):
        EpisodeBagWriter(tmp_path / 'x', storage='rosbag1')
    with pytest.raises(ValueError, match='bag version'):
        EpisodeBagWriter(tmp_path / 'x', version=5)
    with pytest.raises(ValueError, match='unknown topic keys'):
        bags.TopicConfig.from_dict({'front_cam': '/x'})


def test_object_pose_messages_of_changing_length_are_named(tmp_path, make_episode):
    episode = make_episode(num_frames=3, streams=False)
    path = tmp_path / 'b'
    with EpisodeBagWriter(path) as writer:
        for k, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][k] for v in VIEWS})
            writer.write_object_poses(int(stamp), np.zeros((2 if k < 2 else 1, 7)))
    with pytest.raises(BagError, match=f'/robodopamine/object_poses at stamp '
                                       f'{episode.stamps[2]} ns holds 1 poses, earlier '
                                       'messages 2'):
        read_episode(path)


def test_a_progress_dict_from_before_the_stall_flag_writes_not_stalled(tmp_path, make_episode):
    episode = make_episode(num_frames=4)
    old = progress_dict(int(episode.stamps[1]), 1, 0.2)
    del old['stalled']   # read from a recording made before ProgressStamped.stalled
    episode.progress = [old]
    back = read_episode(bag_writer.write_episode(tmp_path / 'bag', episode))
    assert back.progress[0]['stalled'] is False and back.progress[0]['tick'] == 1
