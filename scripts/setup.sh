#!/usr/bin/env bash
# Idempotent workspace setup: apt packages, .venv with pinned wheels, CMake path repair,
# colcon build of vla_ros_msgs + vla_ros. Each step is skipped when its inputs are unchanged.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMPS="$ROOT/.stamps"
PY="${PYTHON:-python3.11}"
mkdir -p "$STAMPS"

# apt: headless rendering for MuJoCo (EGL/OSMesa), speech and audio tools for the sim microphone,
# the SDF parser and `ign sdf` (test/sim/test_sdformat.py checks the Gazebo files with it).
# (libegl-mesa0 + libgl1-mesa-dri: the EGL vendor and software rasterizer behind libegl1;
# libsdformat-dev carries the `ign sdf` plug-in, ignition-tools the `ign` front end)
APT_PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 libosmesa6 libgl1 espeak-ng sox
              libsdformat12-12 sdformat-sdf libsdformat-dev ignition-tools wordnet-base)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "[setup] apt-get install ${missing[*]}"
  SUDO=''; [ "$(id -u)" -eq 0 ] || SUDO='sudo'
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

req_hash=$(cat requirements/{constraints,ros,runtime,tools}.txt | sha256sum | cut -c1-16)
if [ "$(cat "$STAMPS/pip" 2>/dev/null)" != "$req_hash" ]; then
  echo '[setup] pip install (pinned by requirements/constraints.txt)'
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check 'pip==25.3' 'setuptools<80'
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    -c requirements/constraints.txt \
    -r requirements/ros.txt -r requirements/runtime.txt -r requirements/tools.txt
  "$VENV/bin/python" scripts/repair_cmake_paths.py "$VENV"
  echo "$req_hash" > "$STAMPS/pip"
  rm -f "$STAMPS/colcon"
fi

# Inputs of the colcon build: interfaces, package metadata, and the names of the installed
# data files (--symlink-install links each file, so a new config/launch file needs a build).
src_hash=$( (find msg -type f | sort | xargs cat; cat package.xml setup.py setup.cfg
  find config launch resource -type f | sort) | sha256sum | cut -c1-16)
if [ "$(cat "$STAMPS/colcon" 2>/dev/null)" != "$src_hash" ] || [ ! -d install/vla_ros_msgs ]; then
  echo '[setup] colcon build --symlink-install --base-paths . msg'
  (
    export PATH="$VENV/bin:$PATH" VIRTUAL_ENV="$VENV"
    export CMAKE_PREFIX_PATH="$VENV" AMENT_PREFIX_PATH="$VENV"
    "$VENV/bin/colcon" --log-base log build --symlink-install --base-paths . msg \
      --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF \
      --event-handlers console_direct- >/dev/null
  )
  echo "$src_hash" > "$STAMPS/colcon"
fi
# Ray Serve for vla_inference's backend: ray (own stamp; VLA_ROS_RAY=0 skips it on a robot).
bash scripts/setup_ray.sh
# The LeRobot bridge's tooling venv (own stamp; see the script for why it is separate).
bash scripts/setup_lerobot.sh
echo '[setup] workspace ready: source scripts/env.sh'
