# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""The one demo-reading path on synthetic recordings of each field-case kind."""

import hashlib
import json
import shutil
import struct

import cv2
import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data import bags, reference_layout
from robodopamine_ros.data.bag_writer import EpisodeBagWriter, write_episode
from robodopamine_ros.data.bags import BagError, read_episode, ReadOptions, TopicConfig
from robodopamine_ros.data.demos import demo_kind, demo_outline, load_demo
from robodopamine_ros.data.keyframes import KeyframeError, Segment
from robodopamine_ros.data.topics import VIEWS

MS = 1_000_000


def image(writer, stamp, rgb, frame_id='cam'):
    height, width, encoding, bigendian, step, data = bags.images.encode_image(rgb)
    return writer._types(bags.IMAGE)(header=writer._header(stamp, frame_id), height=height,
                                     width=width, encoding=encoding, is_bigendian=bigendian,
                                     step=step, data=np.frombuffer(data, np.uint8))


def write_cameras(path, episode, header_of, storage='sqlite3', topics=TopicConfig(),
                  joints=False):
    """Write an episode's views with header stamps header_of(view, k) and receive stamps k."""
    with EpisodeBagWriter(path, storage=storage) as writer:
        for k, received in enumerate(episode.stamps):
            for offset, view in enumerate(VIEWS):
                writer._write(topics.camera(view), bags.IMAGE,
                              image(writer, header_of(view, k), episode.views[view][k]),
                              int(received) + offset * MS)
            if joints:
                msg = writer._types(bags.JOINT_STATE)(
                    header=writer._header(header_of('front', k), 'base'), name=['j1'],
                    position=np.array([float(k)]), velocity=np.zeros(0),
                    effort=np.zeros(0))
                writer._write(topics.joint_states, bags.JOINT_STATE, msg, int(received))
    return path


def test_a_camera_with_constant_stamps_uses_receive_time(tmp_path, make_episode):
    episode = make_episode(num_frames=30, streams=False)
    path = write_cameras(tmp_path / 'b', episode, lambda view, k: (
        123 * MS if view == 'left_wrist' else int(episode.stamps[k])), joints=True)
    back = read_episode(path)
    assert back.num_frames == 30 and back.sync['synchronized_by'] == 'receive'
    np.testing.assert_array_equal(back.views['left_wrist'], episode.views['left_wrist'])
    assert '/cameras/left_wrist/image_raw: all equal (123000000 ns)' in back.warnings[0]
    # the robot streams are read on the frames' clock (receive time): frame k <-> joint k
    np.testing.assert_array_equal(back.stream_at_frames('joint_positions')[:, 0], np.arange(30))


def test_a_looped_recording_keeps_both_loops_in_recording_order(tmp_path, make_episode):
    episode = make_episode(num_frames=40, streams=False)
    loop = 20  # header stamps restart after 20 frames, as a bag replayed in a loop
    path = write_cameras(tmp_path / 'b', episode,
                         lambda view, k: int(episode.stamps[k % loop]) + 2 * MS, joints=True)
    back = read_episode(path)
    assert back.num_frames == 40 and back.sync['clock'] == 'receive'
    assert [s['triplets'] for s in back.sync['stretches']] == [20, 20]
    np.testing.assert_array_equal(back.views['front'], episode.views['front'])
    np.testing.assert_array_equal(back.stream_at_frames('joint_positions')[:, 0], np.arange(40))
    assert any('2 monotonic stretches synchronized separately' in w for w in back.warnings)


def _empty_connection(writer, topic, msgtype):
    writer._connections[topic] = writer._writer.add_connection(topic, msgtype,
                                                               typestore=writer.store)


@pytest.mark.parametrize('asked', ['raw', 'compressed'])
def test_an_empty_camera_topic_falls_back_to_its_sibling(tmp_path, make_episode, asked):
    episode = make_episode(num_frames=6, streams=False)
    path = tmp_path / 'b'
    image_format = 'png' if asked == 'raw' else 'raw'
    with EpisodeBagWriter(path, image_format=image_format) as writer:
        for view in VIEWS:  # the asked topics exist but stay empty
            topic = writer.topics.camera(view)
            if asked == 'raw':
                _empty_connection(writer, topic, bags.IMAGE)
            else:
                _empty_connection(writer, topic + '/compressed', bags.COMPRESSED)
        for k, stamp in enumerate(episode.stamps):
            writer.write_triplet(int(stamp), {v: episode.views[v][k] for v in VIEWS})
    suffix = '/compressed' if asked == 'compressed' else ''
    topics = TopicConfig(**{v: TopicConfig().camera(v) + suffix for v in VIEWS})
    back = read_episode(path, ReadOptions(topics=topics))
    assert back.num_frames == 6
    np.testing.assert_array_equal(back.views['front'], episode.views['front'])
    other = '' if suffix else '/compressed'
    assert f'/cameras/front/image_raw{suffix} has no messages: reading ' \
           f'/cameras/front/image_raw{other} (6 messages) instead' in back.warnings


def test_a_camera_without_any_message_is_named(tmp_path, make_episode):
    episode = make_episode(num_frames=3, streams=False)
    path = tmp_path / 'b'
    with EpisodeBagWriter(path) as writer:
        _empty_connection(writer, '/cameras/front/image_raw', bags.IMAGE)
        for k, stamp in enumerate(episode.stamps):
            for view in VIEWS[1:]:
                writer._write(writer.topics.camera(view), bags.IMAGE,
                              image(writer, int(stamp), episode.views[view][k]), int(stamp))
    with pytest.raises(BagError, match='camera topic /cameras/front/image_raw has no messages'):
        read_episode(path)


def _strip_metadata(path):
    (path / 'metadata.yaml').unlink()
    return next(p for p in path.iterdir() if p.suffix in ('.db3', '.mcap'))


def test_bare_db3_names_ros2_bag_reindex(tmp_path, make_episode, capsys):
    path = write_episode(tmp_path / 'b', make_episode(num_frames=4), storage='sqlite3')
    data = _strip_metadata(path)
    for given in (path, data):
        assert demo_kind(given) == 'bag'
        with pytest.raises(BagError, match=f'without metadata.yaml .* `ros2 bag reindex {path} '
                                           '-s sqlite3`'):
            read_episode(given)
    assert cli.main(['demo-info', str(path)]) == 1
    assert 'ros2 bag reindex' in capsys.readouterr().err


def test_bare_mcap_keyframes_live_beside_it(tmp_path, make_episode, capsys):
    episode = make_episode(num_frames=8)
    episode.keyframes = [Segment(0, 7, 'all')]
    path = write_episode(tmp_path / 'b', episode, storage='mcap')
    data = _strip_metadata(path)
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    back = read_episode(data)
    assert back.num_frames == 8 and back.keyframes == episode.keyframes
    assert back.episode_id == data.stem and 'no metadata.yaml' in back.warnings[0]
    (path / 'annotated_keyframes.json').unlink()
    assert cli.main(['keyframes', 'propose', str(data), '--segments', '1']) == 0
    assert (path / 'annotated_keyframes.json').is_file()
    assert hashlib.sha256(data.read_bytes()).hexdigest() == digest  # the recording untouched
    assert 'wrote' in capsys.readouterr().out


def test_a_killed_mcap_is_read_up_to_its_last_complete_record(tmp_path, make_episode):
    episode = make_episode(num_frames=30, size=(160, 120), streams=False)
    path = write_episode(tmp_path / 'b', episode, storage='mcap')
    data = _strip_metadata(path)
    raw = data.read_bytes()
    data.write_bytes(raw[:len(raw) * 2 // 3])  # killed mid-write: no summary, no footer
    digest = hashlib.sha256(data.read_bytes()).hexdigest()
    back = read_episode(path)
    assert 5 <= back.num_frames < 30
    np.testing.assert_array_equal(back.views['front'], episode.views['front'][:back.num_frames])
    assert any('ends inside a record' in w for w in back.warnings)
    assert hashlib.sha256(data.read_bytes()).hexdigest() == digest
    data.write_bytes(raw[:5])
    with pytest.raises(BagError, match='not an MCAP file'):
        read_episode(path)


def test_storage_option_must_match(tmp_path, make_episode):
    path = write_episode(tmp_path / 'b', make_episode(num_frames=3), storage='sqlite3')
    with pytest.raises(BagError, match="metadata.yaml says storage 'sqlite3', but storage "
                                       "'mcap' was asked for"):
        read_episode(path, ReadOptions(storage='mcap'))
    assert read_episode(path, ReadOptions(storage='sqlite3')).num_frames == 3
    mixed = tmp_path / 'mixed'
    shutil.copytree(path, mixed)
    _strip_metadata(mixed)
    (mixed / 'x.mcap').write_bytes(b'')
    with pytest.raises(BagError, match='both .mcap and .db3 files .* pass --storage'):
        read_episode(mixed)
    with pytest.raises(BagError, match='ros2 bag reindex'):
        read_episode(mixed, ReadOptions(storage='sqlite3'))


def test_read_options_are_validated():
    with pytest.raises(ValueError, match='slop must be a number of seconds > 0, got -1'):
        ReadOptions(slop=-1)
    with pytest.raises(ValueError, match="storage must be one of .* got 'rosbag1'"):
        ReadOptions(storage='rosbag1')
    with pytest.raises(ValueError, match='stamps must be one of'):
        ReadOptions(stamps='now')


def test_topic_file_errors_are_named(tmp_path, capsys):
    bad = tmp_path / 'topics.yaml'
    bad.write_text('front_cam: /x\n')
    with pytest.raises(ValueError, match=f"{bad}: unknown topic keys \\['front_cam'\\]"):
        TopicConfig.from_yaml(bad)
    bad.write_text('- /x\n')
    with pytest.raises(ValueError, match=f'{bad}: expected a mapping'):
        TopicConfig.from_yaml(bad)
    bad.write_text('front: 3\n')
    with pytest.raises(ValueError, match=f'{bad}: front must be a topic name, got 3'):
        TopicConfig.from_yaml(bad)
    assert cli.main(['demo-info', str(tmp_path), '--topics', str(tmp_path / 'none.yaml')]) == 1
    assert 'none.yaml: topic file not found' in capsys.readouterr().err


def test_labels_reads_a_bag_without_decoding_it(tmp_path, make_episode, capsys):
    episode = make_episode(num_frames=41)
    episode.keyframes = [Segment(0, 20, 'a'), Segment(20, 40, 'b')]
    episode.instructions = ('insert the peg',)
    path = write_episode(tmp_path / 'b', episode)
    outline = demo_outline(path)
    assert (outline.num_frames, outline.instructions) == (41, ('insert the peg',))
    assert cli.main(['labels', str(path), '--json', '--samples', '50']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['num_frames'] == 41 and summary['segments'] == 2
    bare = write_episode(tmp_path / 'nokf', make_episode(num_frames=5))
    assert cli.main(['labels', str(bare)]) == 1
    assert 'no keyframes; run `robodopamine keyframes propose' in capsys.readouterr().err


# --- videos whose container over-reports its frames -----------------------------------------

def _truncated_avi(path, frames, keep):
    """Write an MJPG video (named .mp4, as the field case) cut inside frame `keep`."""
    tmp = path.with_suffix('.avi')
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*'MJPG'), 30, (32, 24))
    for k in range(frames):
        writer.write(np.full((24, 32, 3), 8 * k, np.uint8))
    writer.release()
    data = tmp.read_bytes()
    tmp.unlink()
    position = data.index(b'movi') + 4
    for _ in range(keep):
        position += 8 + struct.unpack('<I', data[position + 4:position + 8])[0]
        position += position % 2
    path.write_bytes(data[:position + 24])


def make_overreported_episode(folder, keep=17, last_keyframe=15):
    folder.mkdir()
    _truncated_avi(folder / 'cam_high.mp4', 20, keep)
    for name in ('cam_left_wrist.mp4', 'cam_right_wrist.mp4'):
        _truncated_avi(folder / name, 20, 20)
    (folder / 'annotated_keyframes.json').write_text(json.dumps(
        [{'anotation': 'a', 'start_frame_id': 1, 'end_frame_id': 8},
         {'anotation': 'b', 'start_frame_id': 8, 'end_frame_id': last_keyframe}]))
    return folder


def test_overreported_video_is_read_to_its_last_decodable_frame(tmp_path):
    folder = make_overreported_episode(tmp_path / 'ep', keep=12, last_keyframe=11)
    assert reference_layout.reported_frame_count(folder) == 20
    warnings = []
    assert reference_layout.episode_frame_count(folder, warnings) == 12
    assert 'cam_high.mp4: the container reports 20 frames but only 12 decode' in warnings[0]
    episode = load_demo(folder)
    assert episode.num_frames == 12 and episode.keyframes[-1].end == 11
    assert episode.views['front'][11, 0, 0, 0] == pytest.approx(88, abs=3)


def test_a_keyframe_past_the_last_decodable_frame_is_an_error(tmp_path, capsys):
    folder = make_overreported_episode(tmp_path / 'ep', keep=12, last_keyframe=15)
    with pytest.raises(KeyframeError, match='end_frame_id 15 is past the last frame 11 .*'
                                            'cam_high.mp4: the container reports 20 frames '
                                            'but only 12 decode'):
        load_demo(folder)
    assert cli.main(['labels', str(folder)]) == 1
    assert 'only 12 decode' in capsys.readouterr().err
    assert cli.main(['import-demo', str(folder), '-o', str(tmp_path / 'out')]) == 1
    assert 'only 12 decode' in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ['ep']  # no partial bag left
