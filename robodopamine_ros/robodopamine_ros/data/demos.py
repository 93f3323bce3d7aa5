# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Open a demonstration, whatever its form: the one reading path of every command.

A demo is a rosbag2 folder (or a bare .mcap left by a killed recorder, folder or file; see
bag_location) or a reference-layout episode folder (three videos). How a bag is read is one
bags.ReadOptions (camera topics, slop, storage, stamps), which the commands build from the same
command-line options (commands/reading.py); the reference layout ignores it (its videos are
frame-synchronous).

Keyframes and instructions are stored beside the demo in the reference JSON format: inside the
bag folder (next to metadata.yaml, or next to the bare .mcap) or inside the episode folder.
"""

from dataclasses import dataclass, field
from pathlib import Path

from robodopamine_ros.data import bag_location, bags, reference_layout
from robodopamine_ros.data.bags import ReadOptions

__all__ = ['DemoOutline', 'ReadOptions', 'demo_kind', 'demo_outline', 'load_demo',
           'sidecar_folder']


def demo_kind(path):
    """Return 'bag' or 'reference', or raise naming what was expected."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'{path}: no such demo')
    if path.is_dir() and (path / 'metadata.yaml').is_file():
        return 'bag'
    if path.is_dir() and (path / reference_layout.CAMERA_FILES['front']).is_file():
        return 'reference'
    if bag_location.looks_like_bag(path):
        return 'bag'
    raise ValueError(f'{path}: not a demo: expected a rosbag2 folder (metadata.yaml, or a bare '
                     '.mcap), a .mcap file, or an episode folder with '
                     f'{", ".join(reference_layout.CAMERA_FILES.values())}')


def sidecar_folder(path):
    """Return the folder holding a demo's keyframe and instruction files."""
    path = Path(path)
    return path.parent if path.is_file() else path


def load_demo(path, image_size=None, options=None, stop=None):
    """
    Load a demo as an Episode.

    image_size: (width, height) resizes every view (None keeps the recorded size). options:
    bags.ReadOptions for a bag (default: ReadOptions()). stop: reference layout only, the
    first frames only. Raises FileNotFoundError or ValueError (BagError, ImageDecodeError,
    KeyframeError, NoTripletsError) naming the file, topic or field.
    """
    if demo_kind(path) == 'bag':
        return bags.read_episode(path, options or ReadOptions(), image_size=image_size)
    return reference_layout.load_episode(path, size=image_size, stop=stop)


@dataclass
class DemoOutline:
    """What a demo holds, without its images: enough for the GRM labels."""

    episode_id: str
    num_frames: int
    keyframes: list
    instructions: tuple
    warnings: list = field(default_factory=list)


def demo_outline(path, options=None):
    """
    Frames, keyframes and instructions of a demo without decoding images.

    A bag's frames are its synchronized triplets (planned from stamps); an episode folder's,
    the frames its videos decode. Keyframes are checked against that count.
    """
    path = Path(path)
    if demo_kind(path) == 'bag':
        plan, location = bags.plan_episode(path, options or ReadOptions())
        segments, instructions = bags.sidecar_files(location.folder, len(plan))
        return DemoOutline(path.name if path.is_dir() else path.stem, len(plan), segments,
                           instructions, plan.warnings)
    warnings = []
    count = reference_layout.episode_frame_count(path, warnings)
    segments = reference_layout.episode_keyframes(path, count, warnings)
    return DemoOutline(path.name, count, segments, reference_layout.load_instructions(path),
                       warnings)
