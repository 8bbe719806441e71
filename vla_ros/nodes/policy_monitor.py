"""
Status and diagnostics messages of ``vla_policy``.

The counters live in the ROS-free :mod:`vla_ros.core.policy_counters`.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from vla_ros.core.attribution import LiveAttribution, ModalityWeights
from vla_ros.core.policy_counters import PolicyCounters, RateMeter
from vla_ros.core.safety import SafetyState
from vla_ros_msgs.msg import ModalityWeights as ModalityWeightsMsg, PolicyStatus

__all__ = ['fault_status_msg', 'PolicyCounters', 'RateMeter', 'STATE_CODES',
           'policy_diagnostic', 'status_msg', 'weights_msg']

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
