"""
Start the LeRobot side of the bridge (robot side; stdlib only).

The LeRobot tooling venv is ``VLA_ROS_LEROBOT_PYTHON`` when set, else ``.venv-lerobot`` at the
repository root (``make lerobot-env`` creates it; ``make setup`` does too).
"""

from __future__ import annotations

from collections.abc import Sequence
import os
from pathlib import Path
import subprocess

from vla_ros.errors import LeRobotEnvError

ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = 'VLA_ROS_LEROBOT_PYTHON'
MAKE_HINT = 'create it with `make lerobot-env` (or set VLA_ROS_LEROBOT_PYTHON)'


def lerobot_python() -> Path:
    """Return the LeRobot venv's interpreter; LeRobotEnvError with the fix when none."""
    given = os.environ.get(ENV_VAR)
    py = Path(given) if given else ROOT / '.venv-lerobot' / 'bin' / 'python'
    if not py.exists():
        raise LeRobotEnvError(f'no LeRobot tooling environment at {py}: {MAKE_HINT}')
    return py


def run_worker(args: Sequence[str], *, quiet: bool = False, timeout_s: float | None = None
               ) -> str:
    """
    Run ``python -m vla_ros.lerobot_io.worker ARGS`` in the LeRobot venv; return its output.

    Progress lines (``[lerobot] ...``, the trainer's ``step:... loss:...``) are echoed unless
    ``quiet``. A non-zero
    exit raises LeRobotEnvError with the last lines of the output.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(('AMENT', 'COLCON'))}
    env['PYTHONPATH'] = str(ROOT)
    env.pop('VIRTUAL_ENV', None)
    proc = subprocess.Popen([str(lerobot_python()), '-m', 'vla_ros.lerobot_io.worker', *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=str(ROOT))
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if not quiet and (line.startswith('[lerobot]') or ' loss:' in line):
            print(line, end='', flush=True)
    code = proc.wait(timeout=timeout_s)
    if code:
        tail = ''.join(lines[-15:])
        raise LeRobotEnvError(f'LeRobot step `{" ".join(args[:1])}` failed (exit {code}):\n'
                              f'{tail}')
    return ''.join(lines)
