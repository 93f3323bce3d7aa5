#!/usr/bin/env bash
# Copyright 2026 robodopamine_ros contributors
# SPDX-License-Identifier: Apache-2.0
#
# Environment setup shared by scripts/test.sh and scripts/demo.sh. Source it; do not run it.
# It turns on `set -euo pipefail`: for an interactive shell, `source scripts/activate.bash`.
#
#   ensure_system_tools   apt-get the Debian tools that are missing (cmake, g++, ninja, xmllint)
#   ensure_core_venv      .work/venv-core: the ROS-free package + pinned deps + test tools
#   ensure_ros_venv       .work/venv-ros: the same + real Jazzy rclpy wheels, ament/rosidl, colcon
#   ensure_underlay       the ROS 2 tools PyPI lacks (launch, launch_ros, ros2cli, message_filters)
#                         built from ../shared/ros2_underlay into .work/underlay/install; where
#                         that source is absent, the system's ROS (sourced by the user) is used
#   build_workspace       colcon build of both packages into .work/ws/install
#   use_workspace         export what a ROS process needs: rclpy, the underlay, our interfaces
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
UNDERLAY_SRC="${RD_UNDERLAY_SRC:-$RD_ROOT/../shared/ros2_underlay}"
UNDERLAY="$RD_WORK/underlay"

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

# The upstream Jazzy source of launch, launch_ros, ros2cli, ... (unmodified, outside the
# repository) built as an underlay, exactly as a ROS user's underlay/overlay: its setup.bash is
# sourced before our workspace's. message_filters' Python module goes into the underlay's
# site-packages (its C++ half needs rclcpp, which has no wheel). Without the source folder,
# nothing is built: the system's ROS tools (apt) are used where the user sourced them.
ensure_underlay() {
  if [ ! -d "$UNDERLAY_SRC/src" ]; then
    log "no $UNDERLAY_SRC: using the system's ROS tools (ros2, launch, message_filters)"
    return 0
  fi
  local stamp site
  stamp="$(stamp_of "$UNDERLAY_SRC/src" "$UNDERLAY_SRC/python" "$RD_ROOT/requirements/underlay.txt" "$(cat "$ROS_VENV/.stamp")")"
  if [ -f "$UNDERLAY/.stamp" ] && [ "$(cat "$UNDERLAY/.stamp")" = "$stamp" ] \
      && [ -f "$UNDERLAY/install/setup.bash" ]; then
    return 0
  fi
  log "colcon build of the ROS 2 tools in $UNDERLAY_SRC into $UNDERLAY/install"
  pip_quiet "$ROS_VENV" install -r "$RD_ROOT/requirements/underlay.txt"
  rm -rf "$UNDERLAY"
  mkdir -p "$UNDERLAY"
  (
    cd "$UNDERLAY"
    export AMENT_PREFIX_PATH="$ROS_VENV" CMAKE_PREFIX_PATH="$ROS_VENV"
    PATH="$ROS_VENV/bin:$PATH" "$ROS_VENV/bin/colcon" --log-base "$UNDERLAY/log" build \
      --base-paths "$UNDERLAY_SRC/src" --merge-install \
      --build-base "$UNDERLAY/build" --install-base "$UNDERLAY/install" \
      --cmake-args -G Ninja "-DPython3_EXECUTABLE=$ROS_VENV/bin/python" -DBUILD_TESTING=OFF
  ) >"$UNDERLAY/build.log" 2>&1 || { cat "$UNDERLAY/build.log" >&2; log "underlay build failed"; return 1; }
  site="$UNDERLAY/install/lib/python3.11/site-packages"
  mkdir -p "$site"
  cp -r "$UNDERLAY_SRC/python/message_filters" "$site/"
  echo "$stamp" >"$UNDERLAY/.stamp"
}

build_workspace() {
  local stamp
  stamp="$(stamp_of "$RD_ROOT/robodopamine_interfaces" "$RD_ROOT/robodopamine_ros" "$(cat "$ROS_VENV/.stamp")" "$(cat "$UNDERLAY/.stamp" 2>/dev/null || true)")"
  if [ -f "$WS/.stamp" ] && [ "$(cat "$WS/.stamp")" = "$stamp" ] && [ -f "$WS/install/setup.bash" ]; then
    return 0
  fi
  log "colcon build (robodopamine_interfaces, robodopamine_ros) into $WS/install"
  mkdir -p "$WS"
  (
    cd "$WS"
    export AMENT_PREFIX_PATH="$ROS_VENV" CMAKE_PREFIX_PATH="$ROS_VENV"
    source_underlay
    PATH="$ROS_VENV/bin:$PATH" "$ROS_VENV/bin/colcon" --log-base "$WS/log" build \
      --base-paths "$RD_ROOT/robodopamine_interfaces" "$RD_ROOT/robodopamine_ros" \
      --build-base "$WS/build" --install-base "$WS/install" \
      --cmake-args -G Ninja "-DPython3_EXECUTABLE=$ROS_VENV/bin/python" -DBUILD_TESTING=OFF
  ) >"$WS/build.log" 2>&1 || { cat "$WS/build.log" >&2; log "colcon build failed"; return 1; }
  echo "$stamp" >"$WS/.stamp"
}

# Source the underlay built by ensure_underlay, when there is one.
source_underlay() {
  [ -f "$UNDERLAY/install/setup.bash" ] || return 0
  set +u
  # shellcheck disable=SC1091
  source "$UNDERLAY/install/setup.bash"
  set -u
}

use_workspace() {
  export AMENT_PREFIX_PATH="$ROS_VENV"
  export PATH="$ROS_VENV/bin:$PATH"
  source_underlay
  # colcon's setup scripts reference unset variables; source them without -u.
  set +u
  # shellcheck disable=SC1091
  source "$WS/install/setup.bash"
  set -u
  export RD_WS_INSTALL="$WS/install"
}
