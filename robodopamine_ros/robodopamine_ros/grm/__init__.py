# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
"""
General Reward Models: one interface (queries in, hops out), several backends.

- ``base``: GRMQuery, the GRM interface, and ProgressEstimator (three queries per tick, batched,
  folded into the reward core's ProgressTracker).
- ``pixel_baseline``: a non-learned baseline (pixel distance to the start and goal images).
"""
