"""
ROS parameters of ``vla_policy``: declared once with descriptors, read into PolicyConfig.

``POLICY_PARAMETERS`` is the single table (name, type, default, description, range); docs and
the static launch tests read it too.
"""

from __future__ import annotations

from rclpy.node import Node
from vla_ros import constants as C
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.config import parse_joint_limits, PolicyConfig
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.core.remote.wire import RemoteConfig
from vla_ros.core.runtime.session import SessionSettings
from vla_ros.errors import ConfigError
from vla_ros.ros.param_table import as_mapping, declare_table, ParamSpec, PType, read_table, spec

S, I, D, B = PType.STRING, PType.INTEGER, PType.DOUBLE, PType.BOOL
SA, DA = PType.STRING_ARRAY, PType.DOUBLE_ARRAY

# One row per parameter, each with its type stated (see param_table: no type from a default).
_TABLE = (
    spec('bundle', S, '', 'policy bundle directory (bundle.yaml + ONNX files)'),
    spec('inference', S, 'local', 'local (the bundle runs in this process) | remote (frames go '
         'to vla_inference on another host, chunks come back; sync, scheduling and safety stay '
         'here: docs/distributed.md)'),
    spec('remote.max_chunk_age_s', D, 0.0, 'inference remote: hold when no chunk arrived for '
         'this long, drop chunks whose frame is older on arrival [s]; hold_latch_s longer '
         'needs a new command; 0 = auto: max(0.5, 1.5 x (horizon - inference_threshold) x dt)',
         range=(0.0, 60.0)),
    spec('remote.jpeg_quality', I, 0, 'inference remote: JPEG quality of the resized images '
         '(1-100), 0 = raw rgb8 (exact)', range=(0, 100)),
    spec('remote.audio', S, 'S16LE', 'inference remote: audio window format S16LE | F32LE'),
    spec('autostart', B, False, 'configure and activate on start (tests, sim); a robot uses the '
         'lifecycle services'),
    spec('dry_run', B, True, 'publish only ~/action_chunk previews, never command the '
         'controllers'),
    spec('control_rate_hz', D, 0.0, 'control tick rate [Hz]; 0 = the bundle rate 1/dt',
         range=(0.0, 2000.0)),
    spec('intra_op_threads', I, 1, 'onnxruntime intra-op threads (1 keeps the control timer on '
         'time on small CPUs)', range=(0, 256)),
    spec('providers', SA, ['CPUExecutionProvider'], 'onnxruntime execution providers, in order'),
    spec('onnxruntime.inter_op_threads', I, 1, 'onnxruntime inter-op threads (used only with '
         'onnxruntime.parallel_execution)', range=(0, 256)),
    spec('onnxruntime.parallel_execution', B, False, 'ORT_PARALLEL execution mode (else '
         'sequential)'),
    spec('onnxruntime.allow_spinning', B, False, 'intra-op pool threads spin-wait for work '
         "(onnxruntime's default); off, they sleep and leave the CPU to the control thread"),
    spec('onnxruntime.cpu_mem_arena', B, True, "keep freed tensors in onnxruntime's arena for "
         'the next chunk (faster; the arena keeps its peak size)'),
    spec('onnxruntime.graph_optimization', S, 'all', 'graph optimisation level: disable | basic '
         '| extended | all'),
    spec('onnxruntime.thread_affinities', S, '', 'session.intra_op_thread_affinities: logical '
         "CPUs of each intra-op pool thread, e.g. '1;1' for 3 threads ('' = not pinned)"),
    spec('text_encoder_resident', B, False, 'keep the text encoder session open (else it is '
         'opened for a command not in the embedding cache, ~70 ms, and closed again: -46 MB '
         'RSS with models/default)'),
    spec('inference_scheduling', S, 'normal', 'Linux scheduling class of the inference worker '
         'and its onnxruntime threads: normal | batch (SCHED_BATCH) | idle (SCHED_IDLE, runs '
         'only when nothing else wants the CPU)'),
    spec('inference_nice', I, 0, 'nice value of the inference worker and its onnxruntime '
         'threads (higher = yields the CPU to the control thread, sensors and controllers)',
         range=(0, 19)),
    spec('executor', S, 'single', 'executor of the ROS callbacks (sensors, command, e-stop, '
         'status): single (SingleThreadedExecutor, least overhead) | multi '
         '(MultiThreadedExecutor); control and inference have own threads'),
    spec('gil_switch_interval_ms', D, 0.5, 'sys.setswitchinterval [ms] (Python default 5): '
         'bounds how long the control thread waits for the GIL; 0 = keep the default',
         range=(0.0, 100.0)),
    spec('realtime_priority', I, 50, 'SCHED_FIFO priority (1-99) of the control thread, as '
         "ros2_control's controller manager; 0 = normal scheduling. Needs CAP_SYS_NICE or an "
         'rtprio limit, else a warning and normal scheduling', range=(0, 99)),
    spec('scheduler.mode', S, 'async', 'async (infer in the background) | sync (debug: infer '
         'in the control tick when the chunk is used up)'),
    spec('scheduler.smoothing', S, 'blend', 'none | blend (cross-fade over blend_steps) | '
         'temporal_ensemble (ACT)'),
    spec('scheduler.inference_threshold', I, 8, 'request a new chunk when fewer actions remain',
         range=(0, 10000)),
    spec('scheduler.trigger', S, 'threshold', 'threshold (request a chunk when fewer than '
         'inference_threshold actions remain) | frame (also on every new frame while the '
         'worker is idle: reacts to new evidence within a frame period + inference)'),
    spec('scheduler.max_inference_rate_hz', D, 0.0, 'cap on frame-triggered inference '
         '(0 = no cap) [Hz]', range=(0.0, 1000.0)),
    spec('scheduler.min_execution_steps', I, 2, 'actions of a chunk served after it lands '
         'before the next is requested, unless the rest would not last the measured latency '
         '(0 = off)', range=(0, 1000)),
    spec('scheduler.ensemble_coeff', D, 0.01, 'ACT temporal ensembling m in w_i = exp(-m i)'),
    spec('scheduler.blend_steps', I, 4, 'ticks of the cross-fade between chunks',
         range=(0, 10000)),
    spec('controller.kind', S, 'joint_trajectory', 'joint_trajectory | forward_command | twist'),
    spec('controller.name', S, 'arm_controller', 'controller name: topic <name>/joint_trajectory '
         'or <name>/commands, in the node namespace (a name starting with / is absolute)'),
    spec('controller.joints', SA, list(C.DEFAULT_ARM_JOINTS), "the controller's joint list "
         '(its command order)'),
    spec('controller.trajectory_mode', S, 'point', 'point (one point per tick) | chunk (the '
         'remaining chunk with time_from_start)'),
    spec('controller.point_time_s', D, 0.0, 'time_from_start of a single point [s]; 0 = one '
         'period', range=(0.0, 10.0)),
    spec('gripper.controller', S, '', 'gripper forward-command controller, topic '
         "<name>/commands ('' = none)"),
    spec('gripper.action', S, C.DEFAULT_GRIPPER_JOINT, 'action name of the gripper in the '
         'bundle'),
    spec('gripper.joint_state', S, '', "joint_states name of the gripper ('' = "
         'gripper.action)'),
    spec('twist.topic', S, C.TWIST_TOPIC, 'twist output topic (relative: in the node '
         'namespace)'),
    spec('twist.stamped', B, False, 'publish TwistStamped instead of Twist'),
    spec('limits.joints', SA, [], 'names the limits.* arrays refer to'),
    spec('limits.lower', DA, [], 'lower position limits [rad, m]'),
    spec('limits.upper', DA, [], 'upper position limits [rad, m]'),
    spec('limits.max_velocity', DA, [], 'velocity limits [rad/s, m/s]'),
    spec('limits.max_acceleration', DA, [], 'acceleration limits [rad/s^2, m/s^2]'),
    spec('max_command_chars', I, 200, 'longer language commands are rejected (and logged '
         'truncated)', range=(1, 100000)),
    spec('max_command_rate_hz', D, 20.0, 'commands arriving faster than this are rejected and '
         'counted (0 = no limit) [Hz]', range=(0.0, 10000.0)),
    spec('max_frame_age_s', D, 0.2, 'hold when the newest frame is older than this [s]',
         range=(0.001, 60.0)),
    spec('hold_latch_s', D, 1.0, 'a hold for lost or bad sensor data that lasts longer than '
         'this needs a new command to resume [s]; 0 = resume as soon as data is back',
         range=(0.0, 3600.0)),
    spec('eval_added_latency_ms', D, 0.0, 'EVALUATION ONLY: delay every chunk by this much '
         'after inference, as if the policy were slower (`vla-ros eval --added-latency-ms`) '
         '[ms]; never set it on a robot', range=(0.0, 10000.0)),
    spec('clock_timeout_s', D, 0.5, 'with use_sim_time: hold (and need a new command) when the '
         'ROS clock has not advanced for this long in wall time [s]', range=(0.01, 60.0)),
    spec('max_motion_time_s', D, 0.0, 'hold after moving this long without a new command [s]; '
         '0 = off', range=(0.0, 1e6)),
    spec('status_rate_hz', D, 2.0, '~/status rate [Hz] (also published on every change)',
         range=(0.01, 1000.0)),
    spec('mask_modalities', SA, [], "ablation: modalities the policy sees as absent ('image', "
         "'image/<cam>', 'audio', 'tactile', 'language')"),
    spec('debug_image', B, False, 'publish ~/debug_image (command + predicted motion drawn)'),
    spec('attribution_rate_hz', D, 1.0, '~/modality_weights (what the policy relies on: chunk '
         'change with each modality switched off) at most this often [Hz]; skipped while it '
         'would cost > 10 % of a chunk; 0 = off', range=(0.0, 100.0)),
)
POLICY_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)


def session_settings(values: dict[str, object]) -> SessionSettings:
    """Build the onnxruntime SessionSettings of the policy graph from the parameter values."""
    g = values.__getitem__
    return SessionSettings(
        intra_op_threads=int(g('intra_op_threads')),
        inter_op_threads=int(g('onnxruntime.inter_op_threads')),
        graph_optimization=str(g('onnxruntime.graph_optimization')),
        allow_spinning=bool(g('onnxruntime.allow_spinning')),
        cpu_mem_arena=bool(g('onnxruntime.cpu_mem_arena')),
        parallel_execution=bool(g('onnxruntime.parallel_execution')),
        thread_affinities=str(g('onnxruntime.thread_affinities')))


def remote_config(values: dict[str, object]) -> RemoteConfig | None:
    """Return the split's settings when ``inference`` is remote, else None (ConfigError)."""
    mode = str(values['inference'])
    if mode not in ('local', 'remote'):
        raise ConfigError(f"inference must be 'local' or 'remote', got {mode!r}")
    if mode == 'local':
        return None
    return RemoteConfig(max_chunk_age_s=float(values['remote.max_chunk_age_s']),
                        jpeg_quality=int(values['remote.jpeg_quality']),
                        audio=str(values['remote.audio']))


def declare_policy_parameters(node: Node) -> None:
    """Declare every policy parameter once (no-op for already declared ones)."""
    declare_table(node, _TABLE)


def policy_values(node: Node) -> dict[str, object]:
    """Return the current value of every policy parameter (unset arrays read as their default)."""
    return read_table(node, _TABLE)


def read_policy_config(node: Node) -> PolicyConfig:
    """Build the PolicyConfig from the declared parameters (ConfigError quotes bad values)."""
    return config_from_policy_values(policy_values(node))


def config_from_policy_values(values: dict[str, object]) -> PolicyConfig:
    """
    Build a PolicyConfig from values keyed like :data:`POLICY_PARAMETERS`.

    The values are a node's, or a params file's via :mod:`vla_ros.ros.params_file`.
    """
    g = values.__getitem__
    limits = parse_joint_limits(list(g('limits.joints')), {
        k: list(g(f'limits.{k}')) for k in ('lower', 'upper', 'max_velocity',
                                            'max_acceleration')})
    scheduler = SchedulerConfig(
        mode=g('scheduler.mode'), smoothing=g('scheduler.smoothing'),
        inference_threshold=int(g('scheduler.inference_threshold')),
        ensemble_coeff=float(g('scheduler.ensemble_coeff')),
        blend_steps=int(g('scheduler.blend_steps')), trigger=g('scheduler.trigger'),
        max_inference_rate_hz=float(g('scheduler.max_inference_rate_hz')),
        min_execution_steps=int(g('scheduler.min_execution_steps')))
    adapter = AdapterConfig(
        kind=g('controller.kind'), controller=g('controller.name'),
        joints=tuple(g('controller.joints')) if g('controller.kind') != 'twist' else (),
        trajectory_mode=g('controller.trajectory_mode'),
        point_time_s=float(g('controller.point_time_s')),
        gripper_controller=g('gripper.controller'), gripper_action=g('gripper.action'),
        twist_topic=g('twist.topic'), twist_stamped=bool(g('twist.stamped')))
    return PolicyConfig(
        bundle=g('bundle'), control_rate_hz=float(g('control_rate_hz')), scheduler=scheduler,
        adapter=adapter, dry_run=bool(g('dry_run')),
        max_command_chars=int(g('max_command_chars')),
        max_command_rate_hz=float(g('max_command_rate_hz')),
        max_frame_age_s=float(g('max_frame_age_s')),
        hold_latch_s=float(g('hold_latch_s')), clock_timeout_s=float(g('clock_timeout_s')),
        max_motion_time_s=float(g('max_motion_time_s')),
        status_rate_hz=float(g('status_rate_hz')), intra_op_threads=int(g('intra_op_threads')),
        joint_limits={k: v for k, v in limits.items() if v},
        gripper_joint_state=g('gripper.joint_state'), debug_image=bool(g('debug_image')),
        eval_added_latency_s=float(g('eval_added_latency_ms')) * 1e-3,
        attribution_rate_hz=float(g('attribution_rate_hz')))
