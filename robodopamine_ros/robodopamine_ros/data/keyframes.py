# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Sub-task keyframes of a demonstration: the reference JSON format, loaded and validated.

The published Robo-Dopamine tools store a list of segments,
``[{"anotation": str, "start_frame_id": int, "end_frame_id": int}, ...]`` (the key is spelled
``anotation`` in the source format; ``annotation`` is accepted too and ``anotation`` is what we
write). Segments must be non-empty, ordered and non-overlapping; consecutive segments may share
their boundary frame and may leave gaps.
"""

from dataclasses import dataclass
import json
from pathlib import Path

from robodopamine_ros.data.atomic import atomic_path

KEYFRAME_FILE = 'annotated_keyframes.json'


class KeyframeError(ValueError):
    """A keyframe file or list that violates the format; the message names the segment."""


@dataclass(frozen=True)
class Segment:
    """One sub-task: frames [start, end] of the demonstration."""

    start: int
    end: int
    annotation: str = ''

    def to_json(self):
        return {'anotation': self.annotation, 'start_frame_id': self.start,
                'end_frame_id': self.end}


def _describe(index, raw):
    name = raw.get('anotation', raw.get('annotation', '')) if isinstance(raw, dict) else ''
    return f'segment {index}' + (f' ("{name}")' if name else '')


def parse_segments(raw_segments, num_frames=None, source='keyframes'):
    """
    Validate a decoded keyframe list and return it as Segments.

    num_frames, when known, bounds the frame ids to [0, num_frames - 1]. source names the
    file (or other origin) in error messages.
    """
    if not isinstance(raw_segments, list) or not raw_segments:
        raise KeyframeError(f'{source}: expected a non-empty JSON list of segments, got '
                            f'{type(raw_segments).__name__}'
                            + (' (empty)' if raw_segments == [] else ''))
    segments = []
    for index, raw in enumerate(raw_segments):
        where = f'{source}: {_describe(index, raw)}'
        if not isinstance(raw, dict):
            raise KeyframeError(f'{where}: expected an object, got {type(raw).__name__}')
        values = {}
        for key in ('start_frame_id', 'end_frame_id'):
            value = raw.get(key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise KeyframeError(f'{where}: "{key}" must be an integer frame id, '
                                    f'got {value!r}')
            values[key] = value
        start, end = values['start_frame_id'], values['end_frame_id']
        if start < 0:
            raise KeyframeError(f'{where}: start_frame_id {start} is negative')
        if num_frames is not None and end > num_frames - 1:
            raise KeyframeError(f'{where}: end_frame_id {end} is past the last frame '
                                f'{num_frames - 1} of a {num_frames}-frame demonstration')
        if end <= start:
            raise KeyframeError(f'{where}: empty segment (start_frame_id {start} >= '
                                f'end_frame_id {end})')
        if segments:
            previous = segments[-1]
            if start < previous.start:
                raise KeyframeError(f'{where}: out of order (starts at {start}, before '
                                    f'segment {index - 1} which starts at {previous.start})')
            if start < previous.end:
                raise KeyframeError(f'{where}: overlaps segment {index - 1} (starts at '
                                    f'{start}, segment {index - 1} ends at {previous.end})')
        annotation = raw.get('anotation', raw.get('annotation', ''))
        segments.append(Segment(start, end, str(annotation)))
    return segments


def keyframe_path(demo):
    """Return the keyframe file of a demo folder, or demo itself when it is a file."""
    demo = Path(demo)
    return demo / KEYFRAME_FILE if demo.is_dir() else demo


def load_keyframes(path, num_frames=None):
    """Load and validate a keyframe JSON file (or the one inside a demo folder)."""
    path = keyframe_path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{path}: keyframe file not found')
    try:
        raw = json.loads(path.read_text(encoding='utf-8'))
    except json.JSONDecodeError as error:
        raise KeyframeError(f'{path}: not valid JSON ({error})') from error
    return parse_segments(raw, num_frames=num_frames, source=str(path))


def save_keyframes(path, segments):
    """Write segments in the reference format atomically (temp file, then rename)."""
    path = Path(path)
    parse_segments([s.to_json() for s in segments], source=str(path))
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps([s.to_json() for s in segments], indent=4) + '\n',
                       encoding='utf-8')
