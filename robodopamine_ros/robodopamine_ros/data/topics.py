# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Names written once: the camera views, their topics, and the image size the compact models see.

Every module that names a view, a camera topic or the default network input size imports it
from here (the launch file too), so renaming a view or resizing is one edit.
"""

# The three views of the rig (docs/method.md#one-query): the third-person camera and the two
# wrist cameras, in the order every stacked array uses.
VIEWS = ('front', 'left_wrist', 'right_wrist')

# Relative camera topics the GRM subscribes to and the simulated robot publishes (a launch
# file remaps them onto the real drivers' topics).
CAMERA_TOPICS = {view: f'cameras/{view}/image_raw' for view in VIEWS}

# (width, height) of the images the compact GRM and the RL image encoder take, in pixels.
IMAGE_SIZE = (64, 48)
