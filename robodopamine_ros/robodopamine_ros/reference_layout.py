# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The demonstration layout of the published Robo-Dopamine tools.

A task folder holds ``task_instruction.json`` (a list of instruction paraphrases) and one
folder per episode with three videos (``cam_high.mp4`` third-person, ``cam_left_wrist.mp4``,
``cam_right_wrist.mp4``) and ``annotated_keyframes.json``.
"""

import json
from pathlib import Path

CAMERA_FILES = {'front': 'cam_high.mp4', 'left_wrist': 'cam_left_wrist.mp4',
                'right_wrist': 'cam_right_wrist.mp4'}
INSTRUCTION_FILE = 'task_instruction.json'


def video_frame_count(path):
    """Return the number of frames of a video file (container metadata, no decoding)."""
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


def episode_frame_count(episode_dir):
    """
    Frames of an episode folder: the shortest of its camera videos.

    Cameras that disagree are truncated to the common length (a synchronized triplet needs all
    three views).
    """
    episode_dir = Path(episode_dir)
    for view, name in CAMERA_FILES.items():
        if not (episode_dir / name).is_file():
            raise FileNotFoundError(f'{episode_dir / name}: missing {view} camera video')
    return min(video_frame_count(episode_dir / name) for name in CAMERA_FILES.values())


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


def iter_frames(episode_dir, size=None, stop=None):
    """
    Yield (index, {view: RGB array}) for the frames of an episode folder.

    The three videos are decoded in lockstep (one pass, constant memory). size = (width,
    height) or None.
    """
    import cv2

    from robodopamine_ros.images import resize

    episode_dir = Path(episode_dir)
    total = episode_frame_count(episode_dir)
    stop = total if stop is None else min(stop, total)
    captures = {v: cv2.VideoCapture(str(episode_dir / name)) for v, name in CAMERA_FILES.items()}
    try:
        for index in range(stop):
            views = {}
            for view, capture in captures.items():
                ok, bgr = capture.read()
                if not ok:
                    raise ValueError(f'{episode_dir / CAMERA_FILES[view]}: frame {index} does '
                                     f'not decode (the video reports {total} frames)')
                views[view] = resize(bgr[:, :, ::-1], size)
            yield index, views
    finally:
        for capture in captures.values():
            capture.release()


def load_episode(episode_dir, size=None, stop=None):
    """
    Import a reference-layout episode folder as an Episode (images decoded into memory).

    Stamps come from the frame index and the front video's frame rate; stop imports only the
    first frames (and the sub-tasks that end within them). At 640 x 480 the whole
    shared demo takes 3.5 GB: pass a size for training, or stream with iter_frames().
    """
    import numpy as np

    from robodopamine_ros.episode import Episode, VIEWS
    from robodopamine_ros.keyframes import load_keyframes

    episode_dir = Path(episode_dir)
    fps = video_fps(episode_dir / CAMERA_FILES['front'])
    frames = {v: [] for v in VIEWS}
    for _, views in iter_frames(episode_dir, size, stop):
        for view in VIEWS:
            frames[view].append(views[view])
    count = len(frames['front'])
    segments = []
    if (episode_dir / 'annotated_keyframes.json').is_file():
        # a partial import (stop) keeps the sub-tasks that end inside it
        segments = [s for s in load_keyframes(episode_dir, num_frames=count if stop is None
                                              else None) if s.end < count]
    return Episode(episode_id=episode_dir.name,
                   stamps=np.round(np.arange(count) / fps * 1e9).astype(np.int64),
                   views={v: np.stack(frames[v]) for v in VIEWS}, keyframes=segments,
                   instructions=load_instructions(episode_dir))
