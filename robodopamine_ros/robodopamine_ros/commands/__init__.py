# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
Subcommands of the ``robodopamine`` CLI, one module each.

Each module defines ``add_arguments(parser)`` and ``run(args) -> int`` and keeps heavy imports
(torch, cv2) inside ``run`` so that ``robodopamine --help`` stays fast.
"""
