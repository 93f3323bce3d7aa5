# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0

import json

import pytest
from robodopamine_ros.data.keyframes import (KeyframeError, load_keyframes, parse_segments,
                                             save_keyframes, Segment)


def seg(start, end, name=''):
    return {'anotation': name, 'start_frame_id': start, 'end_frame_id': end}


def test_reference_file_loads_as_is(example_episode):
    segments = load_keyframes(example_episode, num_frames=1277)
    assert len(segments) == 16
    assert segments[0] == Segment(8, 147, 'subtask1')
    assert segments[-1] == Segment(1178, 1263, 'subtask16')


def test_annotation_spelling_variants_accepted():
    segments = parse_segments([{'annotation': 'reach', 'start_frame_id': 0, 'end_frame_id': 5}])
    assert segments[0].annotation == 'reach'


@pytest.mark.parametrize('raw, num_frames, message', [
    ([], None, 'non-empty JSON list'),
    ({'start_frame_id': 0}, None, 'non-empty JSON list'),
    ([seg(0, 10, 'a'), seg(5, 20, 'b')], None, 'segment 1 ("b"): overlaps segment 0'),
    ([seg(10, 20, 'a'), seg(0, 5, 'b')], None, 'segment 1 ("b"): out of order'),
    ([seg(0, 10), seg(10, 10, 'c')], None, 'segment 1 ("c"): empty segment'),
    ([seg(0, 10), seg(12, 8)], None, 'segment 1: empty segment'),
    ([seg(0, 10), seg(10, 100, 'last')], 50, 'segment 1 ("last"): end_frame_id 100 is past'),
    ([seg(-3, 10)], None, 'segment 0: start_frame_id -3 is negative'),
    ([{'start_frame_id': '0', 'end_frame_id': 3}], None,
     'segment 0: "start_frame_id" must be an integer'),
    ([{'start_frame_id': 0}], None, 'segment 0: "end_frame_id" must be an integer'),
    (['x'], None, 'segment 0: expected an object'),
])
def test_bad_keyframes_name_the_segment(raw, num_frames, message):
    with pytest.raises(KeyframeError) as error:
        parse_segments(raw, num_frames=num_frames, source='my.json')
    assert str(error.value).startswith('my.json: ')
    assert message in str(error.value)


def test_bad_file_errors_name_the_file(tmp_path):
    bad = tmp_path / 'annotated_keyframes.json'
    bad.write_text('[{"start_frame_id": 1,')
    with pytest.raises(KeyframeError, match=f'{bad}: not valid JSON'):
        load_keyframes(tmp_path)
    with pytest.raises(FileNotFoundError, match='keyframe file not found'):
        load_keyframes(tmp_path / 'missing.json')


def test_save_round_trip_and_refuses_invalid(tmp_path):
    path = tmp_path / 'annotated_keyframes.json'
    segments = [Segment(0, 30, 'reach'), Segment(30, 61, 'insert')]
    save_keyframes(path, segments)
    assert json.loads(path.read_text())[0] == seg(0, 30, 'reach')
    assert load_keyframes(path) == segments
    with pytest.raises(KeyframeError):
        save_keyframes(path, [Segment(0, 30), Segment(20, 40)])
    assert load_keyframes(path) == segments  # the good file was not touched
    assert [p.name for p in tmp_path.iterdir()] == ['annotated_keyframes.json']
