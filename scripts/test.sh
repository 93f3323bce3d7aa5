#!/usr/bin/env bash
# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
#
# The whole test suite, from a fresh Debian/Ubuntu machine with Python 3.11:
#   1. Debian tools (cmake, g++, ninja, xmllint) when missing;
#   2. two virtual environments: ROS-free (pinned deps, torch==2.13.0) and ROS (real Jazzy rclpy
#      wheels from PyPI, ament/rosidl generators, colcon);
#   3. colcon build of robodopamine_interfaces (from our .msg/.srv) and robodopamine_ros;
#   4. tier 1, ROS-free: ament linters + unit/property tests, in the environment WITHOUT rclpy;
#   5. tier 2, ROS: install-layout checks and real rclpy tests over DDS, in the ROS environment
#      against the colcon install. A missing rclpy or interface fails this tier, it never skips.
# Re-runs reuse environments and builds whose inputs did not change.
#
# Usage: scripts/test.sh [extra pytest args, applied to both tiers]

source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

t0=$(date +%s)
ensure_system_tools
ensure_core_venv
ensure_ros_venv
ensure_underlay
build_workspace
log "setup done in $(( $(date +%s) - t0 )) s"

PKG="$RD_ROOT/robodopamine_ros"
REPORTS="$RD_WORK/reports"
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*.xml
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
status=0

log "tier 1: ROS-free (no rclpy in this environment)"
(
  cd "$PKG"
  "$CORE_VENV/bin/python" -m pytest test --ignore=test/ros -p no:cacheprovider \
    --junitxml="$REPORTS/tier1-ros-free.xml" -o junit_suite_name=ros-free "$@"
) || status=1

log "tier 2: ROS (real rclpy, interfaces built from robodopamine_interfaces)"
(
  use_workspace
  cd "$PKG"
  # A unique domain per run keeps parallel runs on one machine from seeing each other.
  export ROS_DOMAIN_ID=$(( ($$ % 100) + 100 )) RD_REQUIRE_ROS=1 ROS_LOCALHOST_ONLY=1
  # -P: do not put the source folder on sys.path; the package must come from the install.
  "$ROS_VENV/bin/python" -P -m pytest test/ros -p no:cacheprovider \
    --junitxml="$REPORTS/tier2-ros.xml" -o junit_suite_name=ros "$@"
) || status=1

# One closing line over both tiers (pytest printed one per tier above).
"$CORE_VENV/bin/python" - "$REPORTS" "$(( $(date +%s) - t0 ))" <<'EOF'
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

totals = dict(tests=0, failures=0, errors=0, skipped=0)
for report in sorted(Path(sys.argv[1]).glob('*.xml')):
    for suite in ET.parse(report).getroot().iter('testsuite'):
        counts = {k: int(suite.get(k, 0)) for k in totals}
        for k in totals:
            totals[k] += counts[k]
        print(f'{suite.get("name")}: {counts["tests"]} tests, '
              f'{counts["failures"] + counts["errors"]} failed, {counts["skipped"]} skipped')
failed = totals['failures'] + totals['errors']
passed = totals['tests'] - failed - totals['skipped']
print(f'total wall time: {sys.argv[2]} s')
print(f'summary: {passed} passed, {failed} failed, {totals["skipped"]} skipped')
EOF
exit $status
