#!/usr/bin/env bash
# The LeRobot tooling venv (.venv-lerobot): LeRobot 0.4.4 for `vla-ros dataset export|import`,
# `vla-ros export --from-lerobot` and LeRobot training. Not needed on the robot.
#
# Why a second venv: lerobot 0.4.4 pins huggingface-hub<0.36 (our transformers needs >=1.31)
# and torch<2.11 (we pin 2.13; the older torch on PyPI is the CUDA build). It runs with torch
# 2.13 CPU once vla_ros/lerobot_io/compat.py bridges two gaps, so lerobot goes in with
# --no-deps and its dependencies from requirements/lerobot.txt (a freeze of a working venv).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VLA_ROS_LEROBOT_VENV:-$ROOT/.venv-lerobot}"
STAMP="$ROOT/.stamps/lerobot"
PY="${PYTHON:-python3.11}"
mkdir -p "$ROOT/.stamps"
want=$( (cat requirements/lerobot.txt; cat "$0") | sha256sum | cut -c1-16)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi
echo "[setup] LeRobot tooling venv $VENV (lerobot 0.4.4, torch 2.13 CPU)"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${PIP[@]}" 'pip==25.3' 'setuptools<81'
"${PIP[@]}" 'torch==2.13.0' 'torchvision==0.28.0'
"${PIP[@]}" --no-deps 'lerobot==0.4.4'
"${PIP[@]}" -r requirements/lerobot.txt
"$VENV/bin/python" - <<'PY'
import sys
sys.path.insert(0, '.')
from vla_ros.lerobot_io import compat
compat.apply()
from lerobot.datasets.lerobot_dataset import LeRobotDataset  # noqa: F401
from lerobot.policies.act.modeling_act import ACTPolicy  # noqa: F401
from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy  # noqa: F401
PY
echo "$want" > "$STAMP"
