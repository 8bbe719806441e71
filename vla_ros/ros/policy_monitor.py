"""
Status and diagnostics of ``vla_policy``: the messages and :class:`PolicyReporter`.

The counters live in the ROS-free :mod:`vla_ros.core.control.counters`.
"""

from __future__ import annotations

from enum import Enum

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from vla_ros.core.control.counters import PolicyCounters, RateMeter
from vla_ros.core.control.safety import SafetyState
from vla_ros.core.runtime.attribution import LiveAttribution, ModalityWeights
from vla_ros_msgs.msg import ModalityWeights as ModalityWeightsMsg, PolicyStatus

__all__ = ['CLOCK_WAIT', 'fault_status_msg', 'Lifecycle', 'lifecycle_status_msg',
           'PolicyCounters', 'PolicyReporter', 'RateMeter', 'STATE_CODES', 'policy_diagnostic',
           'status_msg', 'weights_msg']

CLOCK_WAIT = 'waiting for /clock (use_sim_time)'
CLOCK_LOG_S = 5.0  # [s] between two "waiting for /clock" log lines
NOT_CONFIGURED = 'not configured: configure and activate it (lifecycle services, or autostart)'
NOT_ACTIVE = 'configured, not active: activate it (lifecycle services)'


class Lifecycle(str, Enum):
    """Lifecycle states ``~/status`` reports before the policy runs (``state_name``)."""

    UNCONFIGURED = 'unconfigured'
    INACTIVE = 'inactive'


STATE_CODES = {
    SafetyState.IDLE: PolicyStatus.STATE_IDLE,
    SafetyState.RUNNING: PolicyStatus.STATE_RUNNING,
    SafetyState.HOLDING: PolicyStatus.STATE_HOLDING,
    SafetyState.ESTOPPED: PolicyStatus.STATE_ESTOPPED,
    SafetyState.FAULT: PolicyStatus.STATE_FAULT,
}


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
    if c.boundary_steps is not None:
        msg.boundary_step_max = float(c.boundary_steps.commanded.max_step)
        msg.boundary_step_max_planned = float(c.boundary_steps.planned.max_step)
        msg.chunk_boundaries = int(c.boundary_steps.commanded.boundaries)
    return msg


def fault_status_msg(*, stamp, reason: str, dry_run: bool) -> PolicyStatus:
    """``~/status`` in state fault with ``reason`` (configure failed: no counters yet)."""
    msg = PolicyStatus()
    msg.header.stamp = stamp
    msg.state = STATE_CODES[SafetyState.FAULT]
    msg.state_name = SafetyState.FAULT.value
    msg.reason = reason[:1000]
    msg.dry_run = dry_run
    return msg


def lifecycle_status_msg(*, stamp, state: Lifecycle, reason: str, model_id: str,
                         dry_run: bool) -> PolicyStatus:
    """``~/status`` of a node that is not active yet (no counters)."""
    msg = PolicyStatus()
    msg.header.stamp = stamp
    msg.state = (PolicyStatus.STATE_UNCONFIGURED if state is Lifecycle.UNCONFIGURED
                 else PolicyStatus.STATE_INACTIVE)
    msg.state_name = state.value
    msg.reason = reason[:1000]
    msg.model_id = model_id
    msg.dry_run = dry_run
    return msg


def weights_msg(w: ModalityWeights, *, stamp, model_id: str) -> ModalityWeightsMsg:
    """``~/modality_weights`` from a :class:`ModalityWeights` (header stamp: its frame)."""
    msg = ModalityWeightsMsg()
    msg.header.stamp = stamp
    msg.model_id = model_id
    msg.method = w.method
    msg.modalities = list(w.modalities)
    msg.weights = [float(v) for v in w.weights]
    msg.deltas = [float(v) for v in w.deltas]
    msg.present = [bool(v) for v in w.present]
    msg.gate_weights = [] if w.gate_weights is None else [float(v) for v in w.gate_weights]
    msg.compute_ms = float(w.compute_ms)
    return msg


def policy_diagnostic(node_fqn: str, state: SafetyState, reason: str, c: PolicyCounters,
                      attribution: LiveAttribution | None = None) -> DiagnosticStatus:
    """
    Build the policy's status for the global ``/diagnostics``.

    Named ``<node_fqn without the leading slash>: policy`` with ``hardware_id`` = the fully
    qualified node name, so two robots (``/robot1/vla_policy``, ``/robot2/vla_policy``) differ.
    """
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
              'rejected_commands': str(c.rejected_commands), 'last_reject': c.last_reject,
              **({} if attribution is None else {
                  'attribution_skipped_slow': str(attribution.skipped_slow),
                  'attribution_error': attribution.error})}
    return DiagnosticStatus(level=level, name=f"{node_fqn.lstrip('/')}: policy",
                            message=reason or state.value, hardware_id=node_fqn,
                            values=[KeyValue(key=k, value=v) for k, v in values.items()])


class PolicyReporter:
    """
    ``~/status`` and ``/diagnostics`` of ``vla_policy`` in every lifecycle state.

    Active: the policy loop's state, counters and latencies. Before that: ``unconfigured`` or
    ``inactive``, or ``fault`` with the reason the last configure failed. With use_sim_time and
    no ``/clock`` message yet the reason starts with :data:`CLOCK_WAIT`, and :meth:`tick` logs it
    every :data:`CLOCK_LOG_S`.

    :param node: the ``VlaPolicy`` node (its ``loop``, ``cfg``, ``remote``, ``sensors``).
    """

    def __init__(self, node, status_pub, diag_pub) -> None:
        self.node, self.status_pub, self.diag_pub = node, status_pub, diag_pub
        self.sim_time = bool(node.get_parameter('use_sim_time').value)
        self.config_fault = ''  # why the last configure failed ('' = it did not)
        self.note = ''  # what an unconfigured node is doing ('' = waiting to be configured)

    def waiting_for_clock(self) -> bool:
        """Use_sim_time and no ``/clock`` message yet (the ROS clock still reads 0)."""
        return self.sim_time and self.node.get_clock().now().nanoseconds == 0

    def log_clock_wait(self) -> None:
        self.node.get_logger().warning(f'{CLOCK_WAIT}: is the simulator running?',
                                       throttle_duration_sec=CLOCK_LOG_S)

    def _reason(self, reason: str) -> str:
        if not self.waiting_for_clock():
            return reason
        return f'{CLOCK_WAIT}; {reason}' if reason else CLOCK_WAIT

    def status(self) -> PolicyStatus:
        """Return the PolicyStatus of this moment."""
        node, loop = self.node, self.node.loop
        stamp = node.get_clock().now().to_msg()
        if loop is not None and loop.active:
            state, reason, command = loop.snapshot()
            return status_msg(stamp=stamp, state=state, reason=self._reason(reason),
                              command=command, model_id=loop.manifest.model_id,
                              dry_run=node.cfg.dry_run, c=loop.counters)
        dry_run = bool(node.get_parameter('dry_run').value)
        if self.config_fault:
            return fault_status_msg(stamp=stamp, reason=self.config_fault, dry_run=dry_run)
        if loop is None:
            return lifecycle_status_msg(stamp=stamp, state=Lifecycle.UNCONFIGURED,
                                        reason=self._reason(self.note or NOT_CONFIGURED),
                                        model_id='', dry_run=dry_run)
        return lifecycle_status_msg(stamp=stamp, state=Lifecycle.INACTIVE,
                                    reason=self._reason(NOT_ACTIVE),
                                    model_id=loop.manifest.model_id, dry_run=dry_run)

    def publish_status(self) -> None:
        """Publish ``~/status`` (at status_rate_hz while active, 1 Hz before, and on changes)."""
        self.status_pub.publish(self.status())

    def publish_diagnostics(self) -> None:
        node, loop = self.node, self.node.loop
        arr = DiagnosticArray()
        arr.header.stamp = node.get_clock().now().to_msg()
        fqn = node.get_fully_qualified_name()  # /diagnostics is global: say which robot
        if loop is not None and loop.active:
            state, reason, _ = loop.snapshot()
            arr.status.append(policy_diagnostic(fqn, state, self._reason(reason),
                                                loop.counters, loop.attribution))
            if node.remote is not None:
                arr.status[-1].values.extend(node.remote.diagnostics())
        else:
            s = self.status()
            level = DiagnosticStatus.ERROR if self.config_fault else DiagnosticStatus.WARN
            arr.status.append(DiagnosticStatus(
                level=level, name=f"{fqn.lstrip('/')}: policy", message=s.reason or s.state_name,
                hardware_id=fqn, values=[KeyValue(key='state', value=s.state_name)]))
        if node.sensors is not None:
            arr.status.extend(node.sensors.diagnostics())
        self.diag_pub.publish(arr)

    def tick(self) -> None:
        """Steady 1 Hz timer, in every state: diagnostics, the status before activation."""
        if self.waiting_for_clock():
            self.log_clock_wait()
        loop = self.node.loop
        if loop is None or not loop.active:
            self.publish_status()
        self.publish_diagnostics()
