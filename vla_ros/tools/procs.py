"""Start vla_ros node executables as supervised child processes (no rclpy import here).

Used by ``make demo``, ``vla-ros eval``, benchmarks and multi-process tests: what launch would
do where launch is not installable. Each child gets its own process group, so nothing is left
behind on exit.
"""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from vla_ros.errors import ProcessError

PACKAGE = 'vla_ros'
STOP_TIMEOUT_S = 5.0


def executable_path(name: str) -> pathlib.Path:
    """Path of an installed console script, as ``ros2 run vla_ros NAME`` would find it."""
    from ament_index_python.packages import get_package_prefix  # ROS python, no rclpy

    path = pathlib.Path(get_package_prefix(PACKAGE)) / 'lib' / PACKAGE / name
    if not path.exists():
        raise ProcessError(f'executable {name!r} not installed at {path}; run `make setup`')
    return path


def ros_args(params_files: Sequence[str | os.PathLike] = (),
             params: Mapping[str, object] | None = None,
             remaps: Mapping[str, str] | None = None,
             name: str | None = None) -> list[str]:
    """Build a ``--ros-args`` tail: params files, ``-p k:=v`` overrides, ``-r`` remaps."""
    args = ['--ros-args']
    for f in params_files:
        args += ['--params-file', str(f)]
    for key, value in (params or {}).items():
        args += ['-p', f'{key}:={_param_literal(value)}']
    for src, dst in (remaps or {}).items():
        args += ['-r', f'{src}:={dst}']
    if name:
        args += ['-r', f'__node:={name}']
    return args


def _param_literal(value: object) -> str:
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_param_literal(v) for v in value) + ']'
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


class NodeProcess:
    """A child process running one node executable; a context manager that always cleans up.

    Args:
        executable: console script name (``fake_sensors``) installed in lib/vla_ros.
        args: extra command-line arguments (typically from :func:`ros_args`).
        env: extra environment variables.
        log_path: file receiving stdout+stderr (default: a pipe drained on stop).
    """

    def __init__(self, executable: str, args: Sequence[str] = (), *,
                 env: Mapping[str, str] | None = None,
                 log_path: str | os.PathLike | None = None) -> None:
        self.executable = executable
        self.cmd = [sys.executable, str(executable_path(executable)), *args]
        self.env = {**os.environ, 'PYTHONUNBUFFERED': '1', **(env or {})}
        self.log_path = pathlib.Path(log_path) if log_path else None
        self.proc: subprocess.Popen | None = None
        self._log_file = None

    def start(self) -> NodeProcess:
        if self.log_path:
            self._log_file = open(self.log_path, 'wb')  # noqa: SIM115 - closed in stop()
            out = self._log_file
        else:
            out = subprocess.DEVNULL
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        """Raise :class:`ProcessError` with the log tail if the child has exited."""
        if not self.alive():
            code = None if self.proc is None else self.proc.returncode
            raise ProcessError(f'{self.executable} exited with {code}:\n{self.log_tail()}')

    def log_tail(self, n_chars: int = 4000) -> str:
        if self.log_path and self.log_path.exists():
            return self.log_path.read_text(errors='replace')[-n_chars:]
        return '(no log)'

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGINT the process group, then SIGKILL after ``timeout_s``; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait()
        if self._log_file:
            self._log_file.close()
            self._log_file = None
        return self.proc.returncode

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def __enter__(self) -> NodeProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def wait_until(predicate, timeout_s: float, period_s: float = 0.05) -> bool:
    """Poll ``predicate()`` until true or ``timeout_s`` elapses (monotonic clock)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())
