"""
The parameters of ``vla_policy`` (besides the sync ones, :mod:`vla_ros.params.sync`).

``POLICY_PARAMETERS`` is the one statement of each parameter (type, default, range, choices):
the node declares from it, :class:`~vla_ros.core.control.config.PolicyConfig` and
:class:`~vla_ros.core.control.scheduler.SchedulerConfig` take their defaults and range checks
from it, and docs/policy.md's table is generated from it.
"""

from __future__ import annotations

from vla_ros import constants as C
from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

S, I, D, B = ParamType.STRING, ParamType.INTEGER, ParamType.DOUBLE, ParamType.BOOL
SA, DA = ParamType.STRING_ARRAY, ParamType.DOUBLE_ARRAY
INFERENCE_MODES = ('local', 'remote')
REMOTE_AUDIO = ('S16LE', 'F32LE')
GRAPH_OPTIMIZATIONS = ('disable', 'basic', 'extended', 'all')
THREAD_SCHEDULING = ('normal', 'batch', 'idle')
INFERENCE_WORKERS = ('thread', 'process')
EXECUTORS = ('single', 'multi')
COMMAND_INSTRUCTIONS = ('canonical', 'raw')
SCHEDULER_MODES = ('async', 'sync')
SMOOTHINGS = ('none', 'blend', 'temporal_ensemble')
TRIGGERS = ('threshold', 'frame', 'auto')
CONTROLLER_KINDS = ('joint_trajectory', 'forward_command', 'twist')
TRAJECTORY_MODES = ('point', 'chunk')
LIMIT_KEYS = ('lower', 'upper', 'max_velocity', 'max_acceleration')

# One row per parameter, each with its type stated (never inferred from the default).
_TABLE = (
    spec('bundle', S, '', 'policy bundle directory (bundle.yaml + ONNX files)'),
    spec('inference', S, 'local', 'local (the bundle runs in this process) | remote (frames go '
         'to vla_inference on another host, chunks come back; sync, scheduling and safety stay '
         'here: docs/distributed.md)',
         choices=INFERENCE_MODES),
    spec('remote.max_chunk_age_s', D, 0.0, 'inference remote: hold when no chunk arrived for '
         'this long, drop chunks whose frame is older on arrival [s]; hold_latch_s longer '
         'needs a new command; 0 = auto: max(0.5, 1.5 x (horizon - inference_threshold) x dt)',
         range=(0.0, 60.0)),
    spec('remote.jpeg_quality', I, 0, 'inference remote: JPEG quality of the resized images '
         '(1-100), 0 = raw rgb8 (exact)', range=(0, 100)),
    spec('remote.audio', S, 'S16LE', 'inference remote: audio window format S16LE | F32LE',
         choices=REMOTE_AUDIO),
    spec('autostart', B, False, 'configure and activate on start (tests, sim); a robot uses the '
         'lifecycle services'),
    spec('dry_run', B, True, 'publish only ~/action_chunk previews, never command the '
         'controllers'),
    spec('control_rate_hz', D, 0.0, 'control tick rate [Hz]; 0 = the bundle rate 1/dt',
         range=(0.0, 1000.0)),
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
         '| extended | all',
         choices=GRAPH_OPTIMIZATIONS),
    spec('onnxruntime.thread_affinities', S, '', 'session.intra_op_thread_affinities: logical '
         "CPUs of each intra-op pool thread, e.g. '1;1' for 3 threads ('' = not pinned)"),
    spec('text_encoder_resident', B, False, 'keep the text encoder session open (else it is '
         'opened for a command not in the embedding cache, ~70 ms, and closed again: -46 MB '
         'RSS with models/default)'),
    spec('inference_worker', S, 'thread', 'where the local graph runs: thread (in this '
         'process) | process (a child process with its own GIL: preprocessing and feeds never '
         'hold the control thread; for graphs of 100s of ms; no ~/modality_weights)',
         choices=INFERENCE_WORKERS),
    spec('inference_scheduling', S, 'normal', 'Linux scheduling class of the inference worker '
         'and its onnxruntime threads: normal | batch (SCHED_BATCH) | idle (SCHED_IDLE, runs '
         'only when nothing else wants the CPU)',
         choices=THREAD_SCHEDULING),
    spec('inference_nice', I, 0, 'nice value of the inference worker and its onnxruntime '
         'threads (higher = yields the CPU to the control thread, sensors and controllers)',
         range=(0, 19)),
    spec('executor', S, 'single', 'executor of the ROS callbacks (sensors, command, e-stop, '
         'status): single (SingleThreadedExecutor, least overhead) | multi '
         '(MultiThreadedExecutor); control and inference have own threads',
         choices=EXECUTORS),
    spec('gil_switch_interval_ms', D, 0.5, 'sys.setswitchinterval [ms] (Python default 5): '
         'bounds how long the control thread waits for the GIL; 0 = keep the default',
         range=(0.0, 100.0)),
    spec('executor_priority', I, 40, 'SCHED_FIFO priority (1-99, below realtime_priority) of '
         'the executor thread(s) with inference_worker: process, so a sensor callback holding '
         'the GIL is never preempted by other processes while the control thread waits for it; '
         '0 = normal. Ignored with thread (the inference threads it starts would inherit it)',
         range=(0, 99)),
    spec('realtime_priority', I, 50, 'SCHED_FIFO priority (1-99) of the control thread, as '
         "ros2_control's controller manager; 0 = normal scheduling. Needs CAP_SYS_NICE or an "
         'rtprio limit, else a warning and normal scheduling', range=(0, 99)),
    spec('scheduler.mode', S, 'async', 'async (infer in the background) | sync (debug: infer '
         'in the control tick when the chunk is used up)',
         choices=SCHEDULER_MODES),
    spec('scheduler.smoothing', S, 'temporal_ensemble', 'none | blend (cross-fade over '
         'blend_steps) | temporal_ensemble (ACT: the mean of every chunk covering the tick)',
         choices=SMOOTHINGS),
    spec('scheduler.inference_threshold', I, 8, 'request a new chunk when fewer actions remain',
         range=(0, 10000)),
    spec('scheduler.trigger', S, 'auto', 'threshold (request a chunk when fewer than '
         'inference_threshold actions remain) | frame (also on every new frame while the '
         'worker is idle: reacts to new evidence within a frame period + inference) | auto '
         '(frame while the measured latency is at most a quarter of the chunk span, and always '
         'for a bundle with an action_prefix input; threshold otherwise)',
         choices=TRIGGERS),
    spec('scheduler.max_inference_rate_hz', D, 0.0, 'cap on frame-triggered inference '
         '(0 = no cap) [Hz]', range=(0.0, 1000.0)),
    spec('scheduler.min_execution_steps', I, 2, 'actions of a chunk served after it lands '
         'before the next is requested, unless the rest would not last the measured latency '
         '(0 = off)', range=(0, 1000)),
    spec('scheduler.ensemble_coeff', D, 0.01, 'ACT temporal ensembling m in w_i = exp(-m i), '
         'i = 0 for the oldest covering chunk (m > 0: older plans weigh more, as ACT; m < 0: '
         'newer ones)', range=(-10.0, 1e6)),
    spec('scheduler.blend_steps', I, 4, 'ticks of the cross-fade between chunks',
         range=(1, 10000)),
    spec('controller.kind', S, 'joint_trajectory', 'joint_trajectory | forward_command | twist',
         choices=CONTROLLER_KINDS),
    spec('controller.name', S, 'arm_controller', 'controller name: topic <name>/joint_trajectory '
         'or <name>/commands, in the node namespace (a name starting with / is absolute)'),
    spec('controller.joints', SA, list(C.DEFAULT_ARM_JOINTS), "the controller's joint list "
         '(its command order)'),
    spec('controller.trajectory_mode', S, 'point', 'point (one point per tick) | chunk (the '
         'remaining chunk with time_from_start)',
         choices=TRAJECTORY_MODES),
    spec('controller.point_time_s', D, 0.0, 'time_from_start of a single point [s]; 0 = one '
         'period', range=(0.0, 10.0)),
    spec('gripper.controller', S, '', 'gripper forward-command controller, topic '
         "<name>/commands ('' = none)"),
    spec('gripper.action', S, C.DEFAULT_GRIPPER_JOINT, 'action name of the gripper in the '
         'bundle'),
    spec('gripper.joint_state', S, '', "joint_states name of the gripper ('' = "
         'gripper.action)'),
    spec('gripper.effort_controller', S, '', 'forward-command controller of the gripper max '
         "effort, topic <name>/commands, one value [N] ('' = none: the bundle's effort action "
         'is not sent)'),
    spec('gripper.effort_action', S, C.GRIPPER_EFFORT_ACTION, 'action name of the gripper '
         'max effort [N] in the bundle (optional in the bundle)'),
    spec('gripper.max_effort', D, 20.0, 'the effort action is clipped to [0, this] [N]; a '
         'hold keeps the last effort sent', range=(0.0, 10000.0)),
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
    spec('command_tasks', S, '', 'task table (YAML: colours, objects, task -> training '
         "templates; the sim's is config/command_tasks.yaml): a run command is identified as "
         'one task + colour or refused with the reason (none matches, two come close); '
         "'' = off (only the bundle's nearest-training-command check)"),
    spec('command_instruction', S, 'canonical', 'with command_tasks: what the policy is '
         'given for an identified command: canonical (the training phrasing of its task and '
         'colour) | raw (the text as sent)',
         choices=COMMAND_INSTRUCTIONS),
    spec('command_lexicon', S, '/usr/share/wordnet', 'with command_tasks: WordNet 3.0 '
         "database directory (Debian wordnet-base) mapping unseen words onto trained ones ('' "
         '= none)'),
    spec('command_min_score', D, 0.45, "with command_tasks: the best task's score (word "
         'evidence blended with the text-encoder cosine) must reach this', range=(0.0, 1.0)),
    spec('command_margin', D, 0.06, 'with command_tasks: ... and lead the second task by this '
         'much, else the command is refused as ambiguous', range=(0.0, 1.0)),
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
