#!/usr/bin/env bash
# Ray Serve in .venv for `vla_inference` with `backend: ray` (requirements/ray.txt). Only where
# needed: an inference server or a development machine (the tests and `bench fleet_ray` use
# it); a robot skips it with VLA_ROS_RAY=0 (`make setup VLA_ROS_RAY=0`) -- the robot runtime
# never imports ray.
#
# Why .venv and not a venv of its own: `pip install --dry-run` of requirements/ray.txt against
# .venv adds 55 packages and changes none (measured with ray 2.60.0: protobuf 7.36, numpy 2.4,
# pydantic 2.14, the ROS wheels all stay), so the gateway can be a Ray driver in the
# vla_inference process itself (a DeploymentHandle call, no HTTP hop). This script checks that
# again before it installs and stops if anything installed would be up- or downgraded.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv"
STAMP="$ROOT/.stamps/ray"
if [ "${VLA_ROS_RAY:-1}" = 0 ]; then
  echo '[setup] Ray Serve skipped (VLA_ROS_RAY=0)'
  exit 0
fi
mkdir -p "$ROOT/.stamps"
want=$( (cat requirements/ray.txt; cat "$0") | sha256sum | cut -c1-16)
if [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
echo '[setup] Ray Serve into .venv (requirements/ray.txt)'
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --dry-run --ignore-installed --report "$ROOT/.stamps/ray_report.json" \
  -c requirements/constraints.txt -r requirements/ray.txt >/dev/null
"$VENV/bin/python" - "$ROOT/.stamps/ray_report.json" <<'PY'
import importlib.metadata as md
import json
import sys

changed = []
for item in json.load(open(sys.argv[1]))['install']:
    name, version = item['metadata']['name'], item['metadata']['version']
    try:
        have = md.version(name)
    except md.PackageNotFoundError:
        continue
    if have != version:
        changed.append(f'{name} {have} -> {version}')
if changed:
    sys.exit('[setup] requirements/ray.txt would change installed packages: '
             + ', '.join(changed) + '; put Ray in a venv of its own instead')
PY
"${PIP[@]}" install -q -c requirements/constraints.txt -r requirements/ray.txt
echo "$want" > "$STAMP"
