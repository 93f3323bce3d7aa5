#!/usr/bin/env bash
# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
#
# Environment setup shared by scripts/test.sh and scripts/demo.sh. Source it; do not run it.
#
#   ensure_system_tools   apt-get the Debian tools that are missing (cmake, g++, ninja, xmllint)
#   ensure_core_venv      .work/venv-core: the ROS-free package + pinned deps + test tools
#   ensure_ros_venv       .work/venv-ros: the same + real Jazzy rclpy wheels, ament/rosidl, colcon
#   build_workspace       colcon build of both packages into .work/ws/install
#   use_workspace         export what a ROS process needs to find rclpy and our interfaces
#
# Every step is skipped when its inputs did not change (a hash stamp per step), so a re-run
# costs seconds.

set -euo pipefail

RD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RD_WORK="${RD_WORK:-$RD_ROOT/.work}"
RD_PYTHON="${RD_PYTHON:-python3.11}"
CORE_VENV="$RD_WORK/venv-core"
ROS_VENV="$RD_WORK/venv-ros"
WS="$RD_WORK/ws"

# Our environments hold ROS package manifests (share/*/package.xml): keep a user's
# `colcon build` over a workspace containing this repository from crawling into them.
mkdir -p "$RD_WORK" && touch "$RD_WORK/COLCON_IGNORE"

log() { printf '[robodopamine] %s\n' "$*" >&2; }

# sha256 over the given files and strings: changes when any input changes.
stamp_of() {
  local item
  for item in "$@"; do
    if [ -d "$item" ]; then
      (cd "$item" && find . -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum)
    elif [ -f "$item" ]; then
      sha256sum "$item"
    else
      printf '%s\n' "$item"
    fi
  done | sha256sum | cut -d' ' -f1
}

ensure_system_tools() {
  local missing=()
  command -v "$RD_PYTHON" >/dev/null || missing+=(python3.11 python3.11-venv python3.11-dev)
  command -v cmake >/dev/null || missing+=(cmake)
  command -v g++ >/dev/null || missing+=(g++)
  command -v ninja >/dev/null || missing+=(ninja-build)
  command -v xmllint >/dev/null || missing+=(libxml2-utils)
  # offscreen OpenGL for MuJoCo (Mesa's EGL renders on the CPU)
  ldconfig -p | grep -q 'libEGL_mesa' || missing+=(libegl1 libegl-mesa0 libgl1-mesa-dri)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# pip_quiet VENV ARGS...: run pip in VENV, show its output only when it fails.
pip_quiet() {
  local venv="$1"
  shift
  if ! "$venv/bin/python" -m pip -q "$@" >"$venv/pip.log" 2>&1; then
    cat "$venv/pip.log" >&2
    log "pip $* failed in $venv"
    return 1
  fi
}

# make_venv DIR REQUIREMENTS: (re)create DIR when REQUIREMENTS changed, then install them.
make_venv() {
  local dir="$1" req="$2" stamp
  stamp="$(stamp_of "$req" "$RD_ROOT/requirements/core.txt" "$RD_PYTHON")"
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    return 0
  fi
  log "creating $dir from $(basename "$req") (first run takes a few minutes)"
  rm -rf "$dir"
  "$RD_PYTHON" -m venv "$dir"
  pip_quiet "$dir" install -r "$req"
  echo "$stamp" >"$dir/.stamp"
}

ensure_core_venv() {
  make_venv "$CORE_VENV" "$RD_ROOT/requirements/core.txt"
  # Editable install of the ROS-free package: picks up source changes without reinstalling.
  local stamp
  stamp="$(stamp_of "$RD_ROOT/robodopamine_ros/setup.py" "$RD_ROOT/robodopamine_ros/setup.cfg")"
  if [ ! -f "$CORE_VENV/.pkg-stamp" ] || [ "$(cat "$CORE_VENV/.pkg-stamp")" != "$stamp" ]; then
    pip_quiet "$CORE_VENV" install --no-deps -e "$RD_ROOT/robodopamine_ros"
    echo "$stamp" >"$CORE_VENV/.pkg-stamp"
  fi
}

# The ROS wheels were built under /opt/python/cp311-cp311 and their exported CMake targets
# still point there (Python headers and numpy headers). Rewrite those paths inside this
# virtual environment so that find_package() of the message packages works; nothing outside
# the environment is touched.
patch_ros_wheel_cmake_paths() {
  local venv="$1" py_inc np_inc files
  py_inc="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
  np_inc="$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')"
  files="$(grep -rl '/opt/python/cp311-cp311' "$venv/share" --include='*.cmake' || true)"
  [ -z "$files" ] && return 0
  # shellcheck disable=SC2086
  sed -i \
    -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$np_inc#g" \
    -e "s#/opt/python/cp311-cp311/include/python3.11#$py_inc#g" \
    $files
}

ensure_ros_venv() {
  make_venv "$ROS_VENV" "$RD_ROOT/requirements/ros.txt"
  patch_ros_wheel_cmake_paths "$ROS_VENV"
}

build_workspace() {
  local stamp
  stamp="$(stamp_of "$RD_ROOT/robodopamine_interfaces" "$RD_ROOT/robodopamine_ros" "$(cat "$ROS_VENV/.stamp")")"
  if [ -f "$WS/.stamp" ] && [ "$(cat "$WS/.stamp")" = "$stamp" ] && [ -f "$WS/install/setup.bash" ]; then
    return 0
  fi
  log "colcon build (robodopamine_interfaces, robodopamine_ros) into $WS/install"
  mkdir -p "$WS"
  (
    cd "$WS"
    export AMENT_PREFIX_PATH="$ROS_VENV" CMAKE_PREFIX_PATH="$ROS_VENV"
    PATH="$ROS_VENV/bin:$PATH" "$ROS_VENV/bin/colcon" --log-base "$WS/log" build \
      --base-paths "$RD_ROOT/robodopamine_interfaces" "$RD_ROOT/robodopamine_ros" \
      --build-base "$WS/build" --install-base "$WS/install" \
      --cmake-args -G Ninja "-DPython3_EXECUTABLE=$ROS_VENV/bin/python" -DBUILD_TESTING=OFF
  ) >"$WS/build.log" 2>&1 || { cat "$WS/build.log" >&2; log "colcon build failed"; return 1; }
  echo "$stamp" >"$WS/.stamp"
}

use_workspace() {
  export AMENT_PREFIX_PATH="$ROS_VENV"
  export PATH="$ROS_VENV/bin:$PATH"
  # colcon's setup scripts reference unset variables; source them without -u.
  set +u
  # shellcheck disable=SC1091
  source "$WS/install/setup.bash"
  set -u
  export RD_WS_INSTALL="$WS/install"
}
