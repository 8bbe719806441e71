"""The decisions of vla_policy: policy loop, chunk sources, chunk scheduler, safety, adapters."""

from __future__ import annotations

from vla_ros.core.control.actuation import Actuation
from vla_ros.core.control.adapters import (ActionMapping, AdapterConfig, AdapterKind,
                                           ControllerCommand, make_command, positions_for,
                                           to_command_space, TrajectoryMode)
from vla_ros.core.control.boundary_steps import BoundaryMeter, BoundarySteps
from vla_ros.core.control.bundle_fit import check_bundle, fit_history, fit_sync, fit_tactile
from vla_ros.core.control.chunk_source import (ChunkDrop, ChunkRequest, ChunkSource,
                                               DelayedChunkSource, LocalChunkSource)
from vla_ros.core.control.command_gate import CommandGate, CommandTarget, shown
from vla_ros.core.control.config import (classify_command, CommandAction, parse_joint_limits,
                                         PolicyConfig)
from vla_ros.core.control.counters import PolicyCounters, RateMeter
from vla_ros.core.control.from_params import policy_config_from_file, policy_config_from_values
from vla_ros.core.control.latency import LeadEstimator
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.measured_pose import MeasuredPose
from vla_ros.core.control.outcomes import CommandOutcome, InferenceResult, TickOutput
from vla_ros.core.control.prefix import delay_steps, PREFIX_QUANTILE, PrefixPlanner
from vla_ros.core.control.requests import RequestBook
from vla_ros.core.control.safety import (ControlMode, limit_step, SafetyConfig, SafetyDecision,
                                         SafetyFilter, SafetyState)
from vla_ros.core.control.scheduler import (ChunkScheduler, InferenceTrigger, resolve_trigger,
                                            ScheduledAction, SchedulerConfig, SchedulerMode,
                                            Smoothing)
from vla_ros.core.control.watchdog import ClockWatchdog

__all__ = [
    'ActionMapping',
    'Actuation',
    'AdapterConfig',
    'AdapterKind',
    'BoundaryMeter',
    'BoundarySteps',
    'ChunkDrop',
    'ChunkRequest',
    'ChunkScheduler',
    'ChunkSource',
    'ClockWatchdog',
    'CommandAction',
    'CommandGate',
    'CommandOutcome',
    'CommandTarget',
    'ControlMode',
    'ControllerCommand',
    'DelayedChunkSource',
    'InferenceResult',
    'InferenceTrigger',
    'resolve_trigger',
    'LeadEstimator',
    'LocalChunkSource',
    'MeasuredPose',
    'PREFIX_QUANTILE',
    'PolicyConfig',
    'PolicyCounters',
    'PolicyLoop',
    'PrefixPlanner',
    'RateMeter',
    'RequestBook',
    'SafetyConfig',
    'SafetyDecision',
    'SafetyFilter',
    'SafetyState',
    'ScheduledAction',
    'SchedulerConfig',
    'SchedulerMode',
    'Smoothing',
    'TickOutput',
    'TrajectoryMode',
    'check_bundle',
    'classify_command',
    'delay_steps',
    'fit_history',
    'fit_sync',
    'fit_tactile',
    'limit_step',
    'make_command',
    'parse_joint_limits',
    'policy_config_from_file',
    'policy_config_from_values',
    'positions_for',
    'shown',
    'to_command_space',
]
