# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Field cases 1-6 (../shared/field_cases/README.md): recordings as users bring them.

The inputs live beside the repository and are read in place (never copied into it).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from robodopamine_ros.commands import cli
from robodopamine_ros.data.bags import read_episode, ReadOptions, TopicConfig
from robodopamine_ros.data.demos import demo_outline, load_demo

FIELD_CASES = Path(__file__).resolve().parents[2].parent / 'shared' / 'field_cases'
ZERO_STAMPS = FIELD_CASES / 'zero-header-stamps' / 'zero_stamps_bag'
SLOW_WRISTS = FIELD_CASES / 'slow-cameras-slop' / 'wrists_15fps_phase30ms'
REALSENSE = FIELD_CASES / 'driver-topic-names' / 'realsense_named_topics'
KILLED = FIELD_CASES / 'bag-without-metadata' / 'killed_recording'
OVERREPORTED = FIELD_CASES / 'video-frame-count-overreported' / 'task' / 'episode_001'
YUYV = FIELD_CASES / 'image-encodings-padding' / 'yuyv_cameras'
REALSENSE_TOPICS = {'front': '/front/front_cam/color/image_raw',
                    'left_wrist': '/wrist_left/wrist_left_cam/color/image_raw',
                    'right_wrist': '/wrist_right/wrist_right_cam/color/image_raw'}

pytestmark = pytest.mark.skipif(not FIELD_CASES.is_dir(), reason=f'field cases not found at '
                                f'{FIELD_CASES} (they live in shared/ beside the repository)')


def run_json(capsys, *argv):
    assert cli.main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def run_error(capsys, *argv):
    assert cli.main(list(argv)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f'robodopamine {argv[0]}: error: ')
    return err


# 1. zero header stamps --------------------------------------------------------------------

def test_zero_header_stamps_use_receive_time(capsys, tmp_path):
    info = run_json(capsys, 'demo-info', str(ZERO_STAMPS), '--json')
    assert info['frames'] == 30 and info['sync']['synchronized_by'] == 'receive'
    assert info['sync']['dropped'] == [0, 0, 0]
    assert any('/cameras/front/image_raw: all zero' in w and 'receive time' in w
               for w in info['warnings'])
    out = tmp_path / 'imported'
    assert cli.main(['import-demo', str(ZERO_STAMPS), '-o', str(out)]) == 0
    assert 'wrote' in capsys.readouterr().out
    assert read_episode(out).num_frames == 30


# 2. slow cameras: --slop on every command -------------------------------------------------

def test_slow_cameras_need_slop_and_the_error_says_which(capsys):
    err = run_error(capsys, 'demo-info', str(SLOW_WRISTS))
    assert 'no synchronized triplets within a slop of 0.02 s' in err
    assert 'about 30.0 ms apart' in err and 'try --slop 0.035' in err
    info = run_json(capsys, 'demo-info', str(SLOW_WRISTS), '--slop', '0.035', '--json')
    assert info['frames'] == 45 and len(info['keyframes']) == 2


def test_every_demo_command_takes_the_reading_options():
    from robodopamine_ros.commands.reading import read_options

    parser = cli.build_parser()
    common = ['--slop', '0.035', '--front-topic', '/f', '--stamps', 'receive']
    for argv in (['demo-info', 'D'], ['labels', 'D'], ['import-demo', 'D', '-o', 'O'],
                 ['keyframes', 'propose', 'D'], ['keyframes', 'sheet', 'D'],
                 ['adapt', 'D', '-o', 'O'], ['evaluate', '--model', 'M', 'D'],
                 ['demo', '--demo', 'D']):
        options = read_options(parser.parse_args(argv + common))
        assert options.slop == 0.035 and options.topics.front == '/f', argv
        assert options.stamps == 'receive' and options.topics.left_wrist == \
            TopicConfig().left_wrist
    assert read_options(parser.parse_args(['labels', 'D', '--storage', 'mcap'])).storage == \
        'mcap'
    args = parser.parse_args(['import-demo', 'D', '-o', 'O', '--storage', 'sqlite3',
                              '--input-storage', 'mcap'])
    assert args.storage == 'sqlite3' and read_options(args).storage == 'mcap'


def test_slow_cameras_through_labels_import_keyframes_and_evaluate(capsys, tmp_path):
    labels = run_json(capsys, 'labels', str(SLOW_WRISTS), '--slop', '0.035', '--json',
                      '--samples', '50')
    assert labels['num_frames'] == 45 and labels['segments'] == 2
    out = tmp_path / 'imported'
    assert cli.main(['import-demo', str(SLOW_WRISTS), '-o', str(out), '--slop', '0.035']) == 0
    assert 'wrote' in capsys.readouterr().out
    assert read_episode(out).num_frames == 45  # written synchronized: default slop reads it
    sheet = tmp_path / 'sheet.png'
    assert cli.main(['keyframes', 'sheet', str(SLOW_WRISTS), '--slop', '0.035', '-o',
                     str(sheet), '--every', '15']) == 0
    assert sheet.read_bytes()[:4] == b'\x89PNG'
    capsys.readouterr()
    summary = run_json(capsys, 'evaluate', '--model', 'pixel-baseline', str(SLOW_WRISTS),
                       '--slop', '0.035', '--json')
    assert summary['episodes'][0]['frames_scored'] >= 5
    err = run_error(capsys, 'evaluate', '--model', 'pixel-baseline', str(SLOW_WRISTS))
    assert 'try --slop 0.035' in err


# 3. driver topic names --------------------------------------------------------------------

def test_driver_topic_names_per_view_options_and_yaml(capsys, tmp_path):
    err = run_error(capsys, 'demo-info', str(REALSENSE))
    assert 'camera topic /cameras/front/image_raw not found' in err
    assert '/front/front_cam/color/image_raw' in err
    flags = ['--front-topic', REALSENSE_TOPICS['front'],
             '--left-wrist-topic', REALSENSE_TOPICS['left_wrist'],
             '--right-wrist-topic', REALSENSE_TOPICS['right_wrist']]
    assert run_json(capsys, 'demo-info', str(REALSENSE), '--json', *flags)['frames'] == 20
    topics = tmp_path / 'realsense.yaml'
    topics.write_text(''.join(f'{view}: {topic}\n' for view, topic in REALSENSE_TOPICS.items()))
    assert run_json(capsys, 'demo-info', str(REALSENSE), '--json', '--topics',
                    str(topics))['frames'] == 20
    options = ReadOptions(topics=TopicConfig.from_yaml(topics))
    assert load_demo(REALSENSE, options=options).num_frames == 20


# 4. bag without metadata ------------------------------------------------------------------

@pytest.mark.parametrize('path', [KILLED, KILLED / 'killed_recording.mcap'])
def test_bare_mcap_is_read_with_a_warning(capsys, path):
    info = run_json(capsys, 'demo-info', str(path), '--json')
    assert info['frames'] == 20 and info['bag']['storage'] == 'mcap'
    assert info['bag']['metadata'] is False
    assert any('no metadata.yaml' in w and 'reading the mcap file alone' in w
               for w in info['warnings'])


# 5. a video that reports more frames than it holds ----------------------------------------

def test_overreported_video_uses_the_frames_that_decode(capsys, tmp_path):
    episode = load_demo(OVERREPORTED)
    assert episode.num_frames == 17 and len(episode.keyframes) == 2
    assert any('cam_high.mp4: the container reports 20 frames but only 17 decode' in w
               for w in episode.warnings)
    outline = demo_outline(OVERREPORTED)
    assert outline.num_frames == 17 and outline.instructions == ('insert the peg',)
    assert run_json(capsys, 'labels', str(OVERREPORTED), '--json',
                    '--samples', '20')['num_frames'] == 17
    out = tmp_path / 'imported'
    assert cli.main(['import-demo', str(OVERREPORTED), '-o', str(out)]) == 0
    assert '17 triplets' in capsys.readouterr().out
    assert read_episode(out).num_frames == 17


# 6. yuyv cameras --------------------------------------------------------------------------

def test_yuyv_cameras_decode_to_the_bt601_colours():
    from rosbags.rosbag2 import Reader
    from robodopamine_ros.data.interfaces import deserialize, typestore

    episode = read_episode(YUYV)
    assert episode.num_frames == 10 and episode.image_size == (8, 6)
    store = typestore('jazzy')
    with Reader(YUYV) as reader:
        first = {}
        for connection, _, raw in reader.messages():
            first.setdefault(connection.topic, deserialize(store, raw, connection.msgtype))
    for view in ('front', 'left_wrist', 'right_wrist'):
        msg = first[TopicConfig().camera(view)]
        assert msg.encoding == 'yuv422_yuy2'
        rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)
        pairs = rows[:, :msg.width * 2].reshape(msg.height, msg.width // 2, 4).astype(float)
        y = np.stack([pairs[..., 0], pairs[..., 2]], axis=-1).reshape(msg.height, msg.width)
        u = np.repeat(pairs[..., 1], 2, axis=1) - 128
        v = np.repeat(pairs[..., 3], 2, axis=1) - 128
        c = 1.164 * (y - 16)
        expected = np.clip(np.stack([c + 1.596 * v, c - 0.392 * u - 0.813 * v,
                                     c + 2.017 * u], axis=-1), 0, 255)
        decoded = episode.views[view][0].astype(float)
        assert np.abs(decoded - expected).max() <= 2.5, view
