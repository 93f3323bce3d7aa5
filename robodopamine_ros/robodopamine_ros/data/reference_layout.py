# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The demonstration layout of the published Robo-Dopamine tools.

A task folder holds ``task_instruction.json`` (a list of instruction paraphrases) and one
folder per episode with three videos (``cam_high.mp4`` third-person, ``cam_left_wrist.mp4``,
``cam_right_wrist.mp4``) and ``annotated_keyframes.json``.

A container may report more frames than it holds (a truncated or badly muxed file): frames are
counted by decoding, the episode ends at the last frame every camera decodes, a warning gives
both counts, and only keyframes past that frame are an error.
"""

import json
import logging
from pathlib import Path

LOG = logging.getLogger(__name__)

CAMERA_FILES = {'front': 'cam_high.mp4', 'left_wrist': 'cam_left_wrist.mp4',
                'right_wrist': 'cam_right_wrist.mp4'}
INSTRUCTION_FILE = 'task_instruction.json'


def video_frame_count(path):
    """Return the number of frames a video's container reports (metadata, no decoding)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f'{path}: cannot open video')
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    if count <= 0:
        raise ValueError(f'{path}: video reports no frames')
    return count


def decodable_frame_count(path):
    """Return how many frames of a video decode, from the first on (one decoding pass)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise ValueError(f'{path}: cannot open video')
        count = 0
        while capture.grab():
            count += 1
    finally:
        capture.release()
    return count


def _camera_videos(episode_dir):
    episode_dir = Path(episode_dir)
    for view, name in CAMERA_FILES.items():
        if not (episode_dir / name).is_file():
            raise FileNotFoundError(f'{episode_dir / name}: missing {view} camera video')
    return {view: episode_dir / name for view, name in CAMERA_FILES.items()}


def reported_frame_count(episode_dir):
    """Frames the shortest camera video's container reports (cheap; may over-report)."""
    return min(video_frame_count(path) for path in _camera_videos(episode_dir).values())


def episode_frame_count(episode_dir, warnings=None):
    """
    Frames of an episode folder: the fewest that decode among its camera videos.

    Cameras that disagree are truncated to the common length (a synchronized triplet needs all
    three views). A video that decodes fewer frames than its container reports adds a warning
    to `warnings` (a list) and the log; one that decodes none raises ValueError.
    """
    counts = {}
    for view, path in _camera_videos(episode_dir).items():
        reported, decoded = video_frame_count(path), decodable_frame_count(path)
        if decoded < reported:
            _warn(warnings, _short_video(path, reported, decoded))
        counts[view] = decoded
    total = min(counts.values())
    if total == 0:
        raise ValueError(f'{episode_dir}: no frame decodes in '
                         + ', '.join(CAMERA_FILES[v] for v, n in counts.items() if not n))
    return total


def _short_video(path, reported, decoded):
    return (f'{path}: the container reports {reported} frames but only {decoded} decode; '
            f'using the frames up to the last decodable one ({decoded})')


def _warn(warnings, text):
    LOG.warning('%s', text)
    if warnings is not None:
        warnings.append(text)


def read_instruction_file(path):
    """Instruction paraphrases from one task_instruction.json, validated."""
    try:
        raw = json.loads(Path(path).read_text(encoding='utf-8'))
    except json.JSONDecodeError as error:
        raise ValueError(f'{path}: not valid JSON ({error})') from error
    if isinstance(raw, str):
        raw = [raw]
    if not (isinstance(raw, list) and raw and all(isinstance(s, str) for s in raw)):
        raise ValueError(f'{path}: expected a non-empty list of instruction strings')
    return tuple(raw)


def load_instructions(episode_dir):
    """Instruction paraphrases from task_instruction.json beside or above the episode."""
    episode_dir = Path(episode_dir)
    for folder in (episode_dir, episode_dir.parent):
        path = folder / INSTRUCTION_FILE
        if path.is_file():
            return read_instruction_file(path)
    return ('',)


def video_fps(path):
    """Return the frame rate a video declares (frames per second)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    if not fps or fps <= 0:
        raise ValueError(f'{path}: video declares no frame rate')
    return float(fps)


def iter_frames(episode_dir, size=None, stop=None, warnings=None):
    """
    Yield (index, {view: RGB array}) for the frames of an episode folder.

    The three videos are decoded in lockstep (one pass, constant memory) until the first frame
    one of them cannot decode: a video shorter than its container reports ends the episode
    there, with a warning (see episode_frame_count). size = (width, height) or None; stop: the
    most frames to yield.
    """
    import cv2

    from robodopamine_ros.data.images import resize

    videos = _camera_videos(episode_dir)
    reported = {view: video_frame_count(path) for view, path in videos.items()}
    total = min(reported.values())
    stop = total if stop is None else min(stop, total)
    captures = {v: cv2.VideoCapture(str(path)) for v, path in videos.items()}
    try:
        for index in range(stop):
            views = {}
            for view, capture in captures.items():
                ok, bgr = capture.read()
                if not ok:
                    if index == 0:
                        raise ValueError(f'{videos[view]}: no frame decodes (the container '
                                         f'reports {reported[view]})')
                    _warn(warnings, _short_video(videos[view], reported[view], index))
                    return
                views[view] = resize(bgr[:, :, ::-1], size)
            yield index, views
    finally:
        for capture in captures.values():
            capture.release()


def episode_keyframes(episode_dir, num_frames, warnings=()):
    """
    Load the keyframes of an episode folder, checked against the frames that decoded.

    A keyframe past the last decodable frame raises KeyframeError naming the keyframe file and,
    when the videos were short, their reported and decoded counts (from `warnings`).
    """
    from robodopamine_ros.data.keyframes import KeyframeError, load_keyframes

    try:
        return load_keyframes(episode_dir, num_frames=num_frames)
    except KeyframeError as error:
        short = [w for w in warnings if 'the container reports' in w]
        if not short:
            raise
        raise KeyframeError(f'{error} ({"; ".join(short)})') from error


def load_episode(episode_dir, size=None, stop=None):
    """
    Import a reference-layout episode folder as an Episode (images decoded into memory).

    Stamps come from the frame index and the front video's frame rate; stop imports only the
    first frames (and the sub-tasks that end within them). At 640 x 480 the whole
    shared demo takes 3.5 GB: pass a size for training, or stream with iter_frames(). Videos
    shorter than their containers report end the episode at their last decodable frame
    (Episode.warnings says so).
    """
    import numpy as np

    from robodopamine_ros.data.episode import Episode
    from robodopamine_ros.data.keyframes import KEYFRAME_FILE
    from robodopamine_ros.data.topics import VIEWS

    episode_dir = Path(episode_dir)
    fps = video_fps(episode_dir / CAMERA_FILES['front'])
    frames = {v: [] for v in VIEWS}
    warnings = []
    for _, views in iter_frames(episode_dir, size, stop, warnings):
        for view in VIEWS:
            frames[view].append(views[view])
    count = len(frames['front'])
    segments = []
    if (episode_dir / KEYFRAME_FILE).is_file():
        # a partial import (stop) keeps the sub-tasks that end inside it
        partial = stop is not None and count == stop
        segments = [s for s in episode_keyframes(episode_dir, None if partial else count,
                                                 warnings) if s.end < count]
    return Episode(episode_id=episode_dir.name,
                   stamps=np.round(np.arange(count) / fps * 1e9).astype(np.int64),
                   views={v: np.stack(frames[v]) for v in VIEWS}, keyframes=segments,
                   instructions=load_instructions(episode_dir), warnings=warnings)
