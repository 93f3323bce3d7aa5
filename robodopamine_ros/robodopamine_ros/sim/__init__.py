# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
The built-in simulated robot: Meta-World peg-insert-side-v3 with a real three-camera rig.

Needs the ``[sim]`` extra (metaworld 3.1.1, mujoco 3.3.0) and an offscreen OpenGL
(``MUJOCO_GL=egl`` by default, or ``osmesa``).
"""
