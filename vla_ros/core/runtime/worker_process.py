"""
:class:`RuntimeProcess`: a :class:`PolicyRuntime` in a child process.

``inference_worker: process`` of ``vla_policy``. Why: in a thread, the Python parts of an
inference (preprocessing, feeds, postprocessing) hold the host's GIL; when the machine is busy
that thread is preempted *while holding it*, and the control thread (SCHED_FIFO or not) waits
for it. Measured on the shared 2-core machine, load ~9, a 50 Hz SCHED_FIFO ticker beside the
114 M ``vla_scale`` graph: p99 lateness 4.8-18 ms with the graph in a thread, 0.16-0.5 ms with
it in a child process (0.14 ms alone).

Protocol (a fresh interpreter, ``subprocess`` with two socket pairs as
``multiprocessing.connection`` pipes; not ``multiprocessing``'s spawn, which re-imports the host's
``__main__`` in the child):
- ``infer``: the frame is pickled (protocol 5) with its large arrays (images, audio) out of
  band in one shared-memory block; the pipe carries the small rest. The child answers with the
  :class:`PolicyOutput` or the :class:`~vla_ros.errors.VlaRosError` it raised.
- ``set_command`` on a second pipe served by a second child thread: a new command is judged
  and embedded while a chunk is computed, as with the in-process runtime.
- one caller per pipe at a time (locks here). A child that died, or a pipe that broke, makes
  every call raise :class:`~vla_ros.errors.ProcessError` (the policy loop faults: the robot
  holds). The child ignores SIGINT (the host shuts it down in order: :meth:`close`) and exits
  when the host's end of a pipe closes (the host died).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
import logging
import mmap
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
import os
from pathlib import Path
import pickle
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from vla_ros.core.bundle.contract import Bundle
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.policy_runtime import PolicyOutput, PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.core.runtime.session import SessionSettings
from vla_ros.errors import ConfigError, InferenceError, ProcessError, VlaRosError

LOG = logging.getLogger(__name__)
START_TIMEOUT_S = 300.0   # [s] opening a large bundle on a busy machine
POLL_S = 0.2              # [s] how often a waiting call checks that the child lives
REAP_S = 1.0              # [s] a broken pipe waits this long for the child's exit code
JOIN_S = 5.0              # [s] close(): wait for the child, then terminate, then kill
MIN_SHM_BYTES = 1 << 20   # the shared block grows to the largest frame seen (+25 %)
_OK, _ERROR = 'ok', 'error'
SHM_DIR = Path('/dev/shm')  # where POSIX shared memory blocks live (Linux)
_CHILD = ('import sys; from vla_ros.core.runtime.worker_process import child_main; '
          'child_main(sys.argv[1:])')
_SCHED = {'normal': 'SCHED_OTHER', 'batch': 'SCHED_BATCH', 'idle': 'SCHED_IDLE'}


class InferenceWorker(str, Enum):
    """Where ``vla_policy`` runs the graph (``inference_worker``)."""

    THREAD = 'thread'    # a thread of the node's process (shares its GIL)
    PROCESS = 'process'  # a child process (its own GIL): RuntimeProcess


@dataclass(frozen=True)
class WorkerSpec:
    """
    What the child opens and how it runs.

    ``scheduling``: normal | batch | idle and ``nice`` 0-19, for the whole child (every thread
    onnxruntime creates inherits them).
    """

    bundle: Bundle
    providers: tuple[str, ...] = ('CPUExecutionProvider',)
    session: SessionSettings | None = None
    text_encoder_resident: bool = False
    scheduling: str = 'normal'
    nice: int = 0

    def __post_init__(self) -> None:
        if self.scheduling not in _SCHED:
            raise ConfigError(f'scheduling must be one of {sorted(_SCHED)}, '
                              f'got {self.scheduling!r}')
        if not 0 <= int(self.nice) <= 19:
            raise ConfigError(f'nice must be in 0..19, got {self.nice!r}')


class RuntimeProcess:
    """
    The bundle's runtime in a child process; ``infer`` / ``set_command`` as PolicyRuntime's.

    Opening blocks until the child has opened the bundle (raises its error, or ProcessError).
    :meth:`close` stops the child (idempotent). A host that exits without it closes the pipes:
    the child then exits by itself.
    """

    def __init__(self, spec: WorkerSpec, *, start_timeout_s: float = START_TIMEOUT_S) -> None:
        self.spec, self.bundle, self.manifest = spec, spec.bundle, spec.bundle.manifest
        infer_here, infer_child = socket.socketpair()
        cmd_here, cmd_child = socket.socketpair()
        self._infer_conn, self._cmd_conn = (Connection(infer_here.detach()),
                                            Connection(cmd_here.detach()))
        self._infer_lock, self._cmd_lock = threading.Lock(), threading.Lock()
        self._shm: SharedMemory | None = None
        self._dead = ''
        fds = (infer_child.fileno(), cmd_child.fileno())
        env = {**os.environ, 'PYTHONPATH': os.pathsep.join(p for p in sys.path if p)}
        try:
            self.process = subprocess.Popen([sys.executable, '-c', _CHILD, *map(str, fds)],
                                            pass_fds=fds, env=env)
        except OSError as e:
            raise ProcessError(f'cannot start the inference worker process: {e}') from e
        finally:  # the child's ends live in the child: its death reads as EOF here
            infer_child.close()
            cmd_child.close()
        _drop_realtime(self.process.pid)
        try:
            self._send(self._infer_conn, ('open', spec))
            info = self._reply(self._infer_conn, start_timeout_s)
        except VlaRosError:
            self.close()
            raise
        self.active_providers = tuple(info)

    # -- calls ----------------------------------------------------------------------------
    def set_command(self, text: str) -> None:
        """Set the child's command (raises CommandNotUnderstood as PolicyRuntime does)."""
        with self._cmd_lock:
            self._send(self._cmd_conn, ('set_command', text))
            self._reply(self._cmd_conn)

    def infer(self, frame: Frame, prefix: ActionPrefix | None = None) -> PolicyOutput:
        """Run the policy on ``frame`` in the child (raises what PolicyRuntime.infer raises)."""
        with self._infer_lock:
            bufs: list[pickle.PickleBuffer] = []
            meta = pickle.dumps((frame, prefix), protocol=5, buffer_callback=bufs.append)
            views = [b.raw() for b in bufs]
            shm = self._block(sum(v.nbytes for v in views))
            layout, off = [], 0
            for v in views:  # one memcpy per array into the shared block
                shm.buf[off:off + v.nbytes] = v
                layout.append((off, v.nbytes))
                off += v.nbytes
            self._send(self._infer_conn, ('infer', meta, shm.name, layout))
            return self._reply(self._infer_conn)

    def close(self, timeout_s: float = JOIN_S) -> None:
        """Stop the child: close the pipes (it exits), then terminate / kill if it lingers."""
        self._dead = self._dead or 'the inference worker process was closed'
        for conn in (self._infer_conn, self._cmd_conn):
            conn.close()
        p = self.process
        for stop in (None, p.terminate, p.kill):
            if stop is not None:
                stop()
            try:
                p.wait(timeout_s)
                break
            except subprocess.TimeoutExpired:
                continue
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    @property
    def alive(self) -> bool:
        """Tell whether the child runs and answers."""
        return not self._dead and self.process.poll() is None

    # -- plumbing -------------------------------------------------------------------------
    def _block(self, nbytes: int) -> SharedMemory:
        if self._shm is None or self._shm.size < nbytes:
            if self._shm is not None:
                self._shm.close()
                self._shm.unlink()
            self._shm = SharedMemory(create=True, size=max(MIN_SHM_BYTES, nbytes * 5 // 4))
        return self._shm

    def _died(self) -> ProcessError:
        p = self.process
        if not self._dead:
            try:  # a killed child closes its pipe before the kernel reports its exit
                code = p.wait(REAP_S)
            except subprocess.TimeoutExpired:
                code = None
            self._dead = (f'the inference worker process {p.pid} died (exit code {code})'
                          if code is not None else
                          f'lost the pipe to the inference worker process {p.pid}')
        return ProcessError(self._dead)

    def _send(self, conn: Connection, msg: tuple) -> None:
        if self._dead:
            raise ProcessError(self._dead)
        try:
            conn.send(msg)
        except (OSError, ValueError) as e:  # a broken pipe, or closed by close()
            raise self._died() from e

    def _reply(self, conn: Connection, timeout_s: float | None = None) -> Any:
        """Wait for the child's answer (checking it lives); return it or raise its error."""
        waited = 0.0
        try:
            while not conn.poll(POLL_S):
                waited += POLL_S
                if self.process.poll() is not None:
                    raise self._died()
                if timeout_s is not None and waited >= timeout_s:
                    raise ProcessError(f'the inference worker process did not answer within '
                                       f'{timeout_s:g} s')
            kind, value = conn.recv()
        except (EOFError, OSError, ValueError) as e:
            raise self._died() from e
        if kind == _ERROR:
            raise value
        return value


# -- the child --------------------------------------------------------------------------------
def child_main(argv: list[str]) -> None:
    """Child process main (argv: the infer and command pipes' file descriptors)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the host closes us in order
    infer_conn, cmd_conn = (Connection(int(fd)) for fd in argv)
    try:
        _, spec = infer_conn.recv()
    except (EOFError, OSError):
        return
    serve(infer_conn, cmd_conn, spec)


def serve(infer_conn: Connection, cmd_conn: Connection, spec: WorkerSpec) -> None:
    """Open the runtime, then answer commands (a thread) and inferences (this thread)."""
    try:
        _set_scheduling(spec.scheduling, spec.nice)
        rt = PolicyRuntime(spec.bundle, providers=spec.providers, session=spec.session,
                           text_encoder_resident=spec.text_encoder_resident)
    except Exception as e:  # noqa: BLE001 - every failure goes back to the host as its error
        _answer(infer_conn, _ERROR, _as_error(e, 'opening the bundle in the worker process'))
        return
    _answer(infer_conn, _OK, rt.active_providers)
    threading.Thread(target=_serve_commands, args=(cmd_conn, rt), name='commands',
                     daemon=True).start()
    blocks: dict[str, memoryview] = {}
    while True:
        try:
            _, meta, name, layout = infer_conn.recv()
        except (EOFError, OSError):
            return  # the host closed the pipe or died
        try:
            buf = _attach(blocks, name)
            frame, prefix = pickle.loads(meta, buffers=[buf[o:o + n] for o, n in layout])
            out = rt.infer(frame, prefix)
            del frame, prefix  # views of the shared block: gone before the next request
            _answer(infer_conn, _OK, out)
        except Exception as e:  # noqa: BLE001 - the host decides (fault, hold)
            _answer(infer_conn, _ERROR, _as_error(e, 'inference'))


def _serve_commands(conn: Connection, rt: PolicyRuntime) -> None:
    while True:
        try:
            _, text = conn.recv()
        except (EOFError, OSError):
            os._exit(0)  # the host closed the pipes: end the process, even mid-inference
        try:
            rt.set_command(text)
            _answer(conn, _OK, None)
        except Exception as e:  # noqa: BLE001 - CommandNotUnderstood and the like
            _answer(conn, _ERROR, _as_error(e, 'set_command'))


def _attach(blocks: dict[str, memoryview], name: str) -> memoryview:
    """
    Map the host's shared block ``name`` (once; an older one is dropped).

    Mapped from /dev/shm directly: ``SharedMemory(name)`` would start a resource tracker here
    that claims the host's block.
    """
    if name not in blocks:
        blocks.clear()  # the host made a larger block; the old one is unmapped once unused
        with open(SHM_DIR / name.lstrip('/'), 'r+b') as f:
            blocks[name] = memoryview(mmap.mmap(f.fileno(), 0))
    return blocks[name]


def _drop_realtime(pid: int) -> None:
    """Start the child at SCHED_OTHER even if the thread that started it is SCHED_FIFO."""
    try:
        if os.sched_getscheduler(pid) not in (os.SCHED_OTHER, os.SCHED_BATCH, os.SCHED_IDLE):
            os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
    except (AttributeError, OSError):
        pass  # not Linux, or it already exited (the open reply says why)


def _set_scheduling(scheduling: str, nice: int) -> None:
    # always: a host thread at SCHED_FIFO (executor_priority) started us, and we inherited it
    os.sched_setscheduler(0, getattr(os, _SCHED[scheduling]), os.sched_param(0))
    if nice:
        os.setpriority(os.PRIO_PROCESS, 0, int(nice))


def _as_error(e: Exception, what: str) -> VlaRosError:
    """``e`` if it is ours and survives pickling, else an InferenceError quoting it."""
    if isinstance(e, VlaRosError):
        try:
            pickle.loads(pickle.dumps(e))
            return e
        except Exception:  # noqa: BLE001 - an error class with extra constructor arguments
            pass
    return InferenceError(f'{what} failed in the worker process: {type(e).__name__}: {e}')


def _answer(conn: Connection, kind: str, value: Any) -> None:
    try:
        conn.send((kind, value))
    except (OSError, ValueError):
        os._exit(0)  # the host is gone
