#!/usr/bin/env bash
# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
#
# The main job from a fresh machine: the same system setup as scripts/test.sh (Debian tools,
# Mesa EGL for offscreen rendering), then the ROS-free environment (pinned, CPU torch) on the
# first run, then runs `robodopamine demo` with the given arguments (see --help).

source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ensure_system_tools
ensure_core_venv
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec "$CORE_VENV/bin/robodopamine" demo "$@"
