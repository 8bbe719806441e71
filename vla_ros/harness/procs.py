"""
Start vla_ros node executables as supervised child processes (no rclpy import here).

Used by ``make demo``, ``vla-ros eval``, benchmarks and multi-process tests: what launch would
do where launch is not installable. Each child gets its own process group, so nothing is left
behind on exit; on Linux a child is also sent SIGINT when its parent dies (even by SIGKILL).

Supervision: :meth:`NodeProcess.failure` says in one line why a child failed -- it exited, or
its log has a line matching one of ``fail_patterns`` (a configuration error such as
``configure failed: ...``) -- quoting the node's own error message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
import ctypes
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time

from vla_ros.errors import NodeFailedError, ProcessError

PACKAGE = 'vla_ros'
STOP_TIMEOUT_S = 5.0
# Log lines that mean "this node will not work as configured" while the process lives on.
FAIL_PATTERNS = ('configure failed:', '[FATAL]')
_ROS_LOG = re.compile(r'^\[(?P<level>[A-Z]+)\] \[[0-9.]+\] \[(?P<node>[^\]]*)\]: (?P<msg>.*)$')
_PR_SET_PDEATHSIG = 1


def executable_path(name: str) -> pathlib.Path:
    """Path of an installed console script, as ``ros2 run vla_ros NAME`` would find it."""
    # optional dependency: ament_index_python (ROS python, no rclpy)
    from ament_index_python.packages import get_package_prefix

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


def _death_signal() -> Callable[[], None] | None:
    """preexec_fn: the child gets SIGINT when the parent dies (Linux ``PR_SET_PDEATHSIG``)."""
    if not sys.platform.startswith('linux'):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    sig = int(signal.SIGINT)
    return lambda: prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def node_error(text: str) -> str | None:
    """
    Return the last error a node wrote.

    An ``[ERROR]``/``[FATAL]`` ROS log message, else the last line of a Python traceback
    (``ImportError: ...``); None if neither.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        m = _ROS_LOG.match(ln)
        if m and m['level'] in ('ERROR', 'FATAL'):
            return m['msg']
    if any(ln.startswith('Traceback (most recent call last)') for ln in lines):
        return lines[-1]
    return None


class NodeProcess:
    """
    A child process running one node executable; a context manager that always cleans up.

    :param executable: console script name (``fake_sensors``) installed in lib/vla_ros.
    :param args: extra command-line arguments (typically from :func:`ros_args`).
    :param env: extra environment variables.
    :param log_path: file receiving stdout+stderr (default: a temporary file removed on stop).
    :param fail_patterns: log substrings that make :meth:`failure` report the node as failed.
    """

    def __init__(self, executable: str, args: Sequence[str] = (), *,
                 env: Mapping[str, str] | None = None,
                 log_path: str | os.PathLike | None = None,
                 fail_patterns: Sequence[str] = FAIL_PATTERNS) -> None:
        self.executable = executable
        self.cmd = [sys.executable, str(executable_path(executable)), *args]
        self.env = {**os.environ, 'PYTHONUNBUFFERED': '1', **(env or {})}
        self.log_path = pathlib.Path(log_path) if log_path else None
        self._temp_log = log_path is None
        self.fail_patterns = tuple(fail_patterns)
        self.proc: subprocess.Popen | None = None
        self._log_file = None
        self._scanned = 0
        self._failure: str | None = None

    def start(self) -> NodeProcess:
        if self._temp_log:
            fd, name = tempfile.mkstemp(prefix=f'{self.executable}_', suffix='.log')
            os.close(fd)
            self.log_path = pathlib.Path(name)
        self._log_file = open(self.log_path, 'wb')  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.cmd, env=self.env, stdout=self._log_file, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=_death_signal())
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def failure(self) -> str | None:
        """
        Say in one line why the node failed, quoting its own error; None while it looks healthy.

        It failed when it exited, or logged a line matching ``fail_patterns``.
        """
        if self._failure or self.proc is None:
            return self._failure
        if self.proc.poll() is not None:
            tail = self.log_tail(20000)
            lines = [ln.strip() for ln in tail.splitlines() if ln.strip()]
            err = node_error(tail) or (lines[-1] if lines else 'no output')
            self._failure = f'{self.executable} exited with code {self.proc.returncode}: {err}'
            return self._failure
        lines = self._read_new().splitlines()
        for i, line in enumerate(lines):
            if any(p in line for p in self.fail_patterns):
                m = _ROS_LOG.match(line.strip())
                msg = [m['msg'] if m else line.strip()]
                for more in lines[i + 1:]:  # continuation lines of a multi-line message
                    if more.startswith('[') or not more.strip():
                        break
                    msg.append(more.strip())
                self._failure = f'{self.executable}: {" ".join(msg)}'
                return self._failure
        return None

    def check(self) -> None:
        """Raise :class:`NodeFailedError` (one line) if :meth:`failure` has something to say."""
        why = self.failure()
        if why:
            raise NodeFailedError(why)

    def check_alive(self) -> None:
        """Raise :class:`NodeFailedError` with the log tail if the child has exited."""
        if not self.alive():
            code = None if self.proc is None else self.proc.returncode
            raise NodeFailedError(f'{self.executable} exited with {code}:\n{self.log_tail()}')

    def _read_new(self) -> str:
        """Log text written since the last call (whole lines only)."""
        if not self.log_path or not self.log_path.exists():
            return ''
        with open(self.log_path, 'rb') as f:
            f.seek(self._scanned)
            data = f.read()
        cut = data.rfind(b'\n') + 1
        self._scanned += cut
        return data[:cut].decode(errors='replace')

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
            if self._temp_log and self.log_path:
                self.log_path.unlink(missing_ok=True)
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


def check_all(procs: Sequence[NodeProcess]) -> None:
    """Raise :class:`NodeFailedError` for the first child that failed (see ``failure``)."""
    for p in procs:
        p.check()


def wait_until(predicate, timeout_s: float, period_s: float = 0.05) -> bool:
    """Poll ``predicate()`` until true or ``timeout_s`` elapses (monotonic clock)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period_s)
    return bool(predicate())
