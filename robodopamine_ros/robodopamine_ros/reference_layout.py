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
    counts = {}
    for view, name in CAMERA_FILES.items():
        path = episode_dir / name
        if not path.is_file():
            raise FileNotFoundError(f'{path}: missing {view} camera video')
        counts[view] = video_frame_count(path)
    return min(counts.values())


def load_instructions(episode_dir):
    """Instruction paraphrases from task_instruction.json beside or above the episode."""
    episode_dir = Path(episode_dir)
    for folder in (episode_dir, episode_dir.parent):
        path = folder / INSTRUCTION_FILE
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding='utf-8'))
            except json.JSONDecodeError as error:
                raise ValueError(f'{path}: not valid JSON ({error})') from error
            if isinstance(raw, str):
                raw = [raw]
            if not (isinstance(raw, list) and raw and all(isinstance(s, str) for s in raw)):
                raise ValueError(f'{path}: expected a non-empty list of instruction strings')
            return tuple(raw)
    return ('',)
