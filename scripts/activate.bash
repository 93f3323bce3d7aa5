# shellcheck shell=bash
# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
#
# A shell with what scripts/test.sh built in .work/: source it, in bash, from any folder:
#
#     source scripts/activate.bash
#
# This shell then has `ros2` (the ROS 2 tools of .work/underlay, or those of the ROS you
# sourced before), our colcon workspace .work/ws (`ros2 launch robodopamine_ros ...`,
# `ros2 run robodopamine_ros ...`), `robodopamine` on PATH in that same ROS environment (the
# colcon-installed command: it imports rclpy and the nodes' messages), and a ROS_DOMAIN_ID of
# its own (1-99, from your user name and this checkout; one you set other than 0 is kept), so
# launches of two users or two checkouts on one network do not see each other.
#
# Safe in an interactive shell: scripts/env.sh (and its `set -euo pipefail`) runs in a child
# bash; only the exported variables it changed come back into this shell; no option, function
# or other variable of this shell changes. It builds nothing: without .work/ws/install it says
# to run scripts/test.sh first and returns 1. `ros2 bag` is not among the tools built there
# (rosbag2 has no PyPI wheels): `robodopamine demo-info` reads the bags.

_rd_activate_env() {
  bash -c '
    # the environment this shell gets (stdout: export lines); messages on stderr
    declare -A before
    for name in $(compgen -e); do before[$name]="${!name}"; done
    source "$1/env.sh" >&2 || exit 1
    set +euo pipefail
    if [ ! -f "$WS/install/setup.bash" ]; then
      echo "scripts/activate.bash: $WS/install is not built: run scripts/test.sh first" >&2
      exit 1
    fi
    use_workspace >&2 || exit 1
    set +euo pipefail
    export PATH="$WS/install/robodopamine_ros/lib/robodopamine_ros:$PATH"
    if [ -z "${ROS_DOMAIN_ID:-}" ] || [ "$ROS_DOMAIN_ID" = 0 ]; then
      sum=$(printf "%s@%s" "$(id -un)" "$RD_ROOT" | cksum | cut -d" " -f1)
      export ROS_DOMAIN_ID=$(( sum % 99 + 1 ))
    fi
    for name in $(compgen -e); do
      case "$name" in PWD|OLDPWD|SHLVL|_) continue ;; esac
      if [[ ! -v "before[$name]" || "${before[$name]}" != "${!name}" ]]; then
        printf "export %s=%q\n" "$name" "${!name}"
      fi
    done
  ' scripts/activate.bash "$1"
}

if [ -z "${BASH_VERSION:-}" ]; then
  echo 'scripts/activate.bash: source it from bash' >&2
  return 1
elif [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "scripts/activate.bash: source it (source ${BASH_SOURCE[0]}), do not run it" >&2
  exit 1
elif _rd_exports="$(_rd_activate_env "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)")"; then
  eval "$_rd_exports"
  echo "[robodopamine] this shell: ros2 ($(command -v ros2 || echo 'not found')), robodopamine," \
       "ROS_DOMAIN_ID=$ROS_DOMAIN_ID" >&2
  unset _rd_exports
  unset -f _rd_activate_env
else
  unset _rd_exports
  unset -f _rd_activate_env
  return 1   # the status of `source scripts/activate.bash`
fi
