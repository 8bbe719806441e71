"""Status and diagnostics of ``vla_policy``: rate meters, latency windows, message builders."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from vla_ros_msgs.msg import PolicyStatus

from vla_ros.core.safety import SafetyState

STATE_CODES = {
    SafetyState.IDLE: PolicyStatus.STATE_IDLE,
    SafetyState.RUNNING: PolicyStatus.STATE_RUNNING,
    SafetyState.HOLDING: PolicyStatus.STATE_HOLDING,
    SafetyState.ESTOPPED: PolicyStatus.STATE_ESTOPPED,
    SafetyState.FAULT: PolicyStatus.STATE_FAULT,
}


class RateMeter:
    """Events per second over the last ``window_s`` (monotonic clock)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._t: deque[float] = deque()

    def tick(self) -> None:
        now = time.monotonic()
        self._t.append(now)
        while self._t and now - self._t[0] > self.window_s:
            self._t.popleft()

    def rate(self) -> float:
        if len(self._t) < 2:
            return 0.0
        now = time.monotonic()
        if now - self._t[-1] > self.window_s:
            return 0.0
        return (len(self._t) - 1) / max(1e-9, self._t[-1] - self._t[0])


@dataclass
class PolicyCounters:
    """What the status reports; updated under the node's state lock."""

    control: RateMeter = field(default_factory=RateMeter)
    frames: RateMeter = field(default_factory=RateMeter)
    chunks_rate: RateMeter = field(default_factory=RateMeter)
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=100))
    e2e_ms: float = 0.0
    chunks: int = 0
    holds: int = 0
    rejected_frames: int = 0     # frames that could not be built or used (these hold)
    rejected_messages: int = 0   # sensor messages rejected (counted only)
    rejected_commands: int = 0   # language commands over the rate limit
    last_reject: str = ''

    def p95(self) -> float:
        return float(np.percentile(self.latencies_ms, 95)) if self.latencies_ms else 0.0


def status_msg(*, stamp, state: SafetyState, reason: str, command: str, model_id: str,
               dry_run: bool, c: PolicyCounters) -> PolicyStatus:
    msg = PolicyStatus()
    msg.header.stamp = stamp
    msg.state = STATE_CODES[state]
    msg.state_name = state.value
    msg.reason = reason
    msg.command = command
    msg.model_id = model_id
    msg.dry_run = dry_run
    msg.control_rate_hz = float(c.control.rate())
    msg.frame_rate_hz = float(c.frames.rate())
    msg.inference_rate_hz = float(c.chunks_rate.rate())
    msg.inference_latency_ms = float(c.latencies_ms[-1]) if c.latencies_ms else 0.0
    msg.inference_latency_p95_ms = c.p95()
    msg.e2e_latency_ms = float(c.e2e_ms)
    msg.chunks = c.chunks
    msg.holds = c.holds
    return msg


def policy_diagnostic(name: str, state: SafetyState, reason: str,
                      c: PolicyCounters) -> DiagnosticStatus:
    level = {SafetyState.RUNNING: DiagnosticStatus.OK, SafetyState.IDLE: DiagnosticStatus.OK,
             SafetyState.HOLDING: DiagnosticStatus.WARN,
             SafetyState.ESTOPPED: DiagnosticStatus.WARN,
             SafetyState.FAULT: DiagnosticStatus.ERROR}[state]
    values = {'state': state.value, 'control_rate_hz': f'{c.control.rate():.1f}',
              'frame_rate_hz': f'{c.frames.rate():.1f}',
              'inference_rate_hz': f'{c.chunks_rate.rate():.1f}',
              'inference_latency_p95_ms': f'{c.p95():.1f}', 'e2e_latency_ms': f'{c.e2e_ms:.1f}',
              'chunks': str(c.chunks), 'holds': str(c.holds),
              'rejected_frames': str(c.rejected_frames),
              'rejected_messages': str(c.rejected_messages),
              'rejected_commands': str(c.rejected_commands), 'last_reject': c.last_reject}
    return DiagnosticStatus(level=level, name=name, message=reason or state.value,
                            hardware_id='vla_policy',
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


class PolicyReporting:
    """Mixin of ``VlaPolicy``: ``~/status`` and ``/diagnostics`` publishing (uses the node's
    ``_lock``, ``state``, ``reason``, ``command``, ``counters``, ``cfg``, ``runtime``)."""

    def _publish_status(self, force: bool = False) -> None:
        """Publish PolicyStatus (timer at status_rate_hz, and on every change)."""
        if self.cfg is None:
            return
        with self._lock:
            state, reason = self.state, self.reason
            self._last_status_key = (state, reason.split(':')[0], self.command)
            msg = status_msg(
                stamp=self.get_clock().now().to_msg(), state=state, reason=reason,
                command=self.command,
                model_id=self.runtime.manifest.model_id if self.runtime else '',
                dry_run=self.cfg.dry_run, c=self.counters)
        self.status_pub.publish(msg)

    def _publish_diagnostics(self) -> None:
        arr = DiagnosticArray()
        arr.header.stamp = self.get_clock().now().to_msg()
        with self._lock:
            arr.status.append(policy_diagnostic(
                f'{self.get_name()}: policy', self.state, self.reason, self.counters))
        if self.sensors is not None:
            arr.status.extend(self.sensors.diagnostics())
        self.diag_pub.publish(arr)


