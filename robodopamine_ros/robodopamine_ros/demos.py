# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Open a demonstration, whatever its form: a rosbag2 folder or a reference-layout episode folder.

Keyframes are stored beside the demo in the reference JSON format: inside the bag folder (next
to metadata.yaml) or inside the episode folder.
"""

from pathlib import Path

from robodopamine_ros import bags, reference_layout


def demo_kind(path):
    """Return 'bag' or 'reference', or raise naming what was expected."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f'{path}: no such demo')
    if path.is_dir() and (path / 'metadata.yaml').is_file():
        return 'bag'
    if path.is_dir() and (path / reference_layout.CAMERA_FILES['front']).is_file():
        return 'reference'
    raise ValueError(f'{path}: not a demo: expected a rosbag2 folder (metadata.yaml) or an '
                     f'episode folder with {", ".join(reference_layout.CAMERA_FILES.values())}')


def load_demo(path, image_size=None, topics=bags.TopicConfig(), slop=0.02, stop=None):
    """Load a demo as an Episode; image_size = (width, height) resizes every view."""
    if demo_kind(path) == 'bag':
        return bags.read_episode(path, topics=topics, slop=slop, image_size=image_size)
    return reference_layout.load_episode(path, size=image_size, stop=stop)
