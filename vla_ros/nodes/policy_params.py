"""ROS parameters of ``vla_policy``: declared once with descriptors, read into PolicyConfig.

``POLICY_PARAMETERS`` is the single list (name, default or type, description); docs and the
static launch tests read it too.
"""

from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

from vla_ros import constants as C
from vla_ros.core.adapters import AdapterConfig
from vla_ros.core.policy_config import PolicyConfig, parse_joint_limits
from vla_ros.core.scheduler import SchedulerConfig

_STR_ARRAY = Parameter.Type.STRING_ARRAY
_DBL_ARRAY = Parameter.Type.DOUBLE_ARRAY

# name -> (default value or Parameter.Type for "no default", description)
POLICY_PARAMETERS: dict[str, tuple[object, str]] = {
    'bundle': ('', 'policy bundle directory (bundle.yaml + ONNX files)'),
    'autostart': (False, 'configure and activate on start (tests, sim); a robot uses the '
                         'lifecycle services'),
    'dry_run': (True, 'publish only ~/action_chunk previews, never command the controllers'),
    'control_rate_hz': (0.0, 'control tick rate [Hz]; 0 = the bundle rate 1/dt'),
    'intra_op_threads': (1, 'onnxruntime intra-op threads (1 keeps the control timer on time '
                            'on small CPUs)'),
    'providers': (['CPUExecutionProvider'], 'onnxruntime execution providers, in order'),
    'executor': ('single', 'executor of the ROS callbacks (sensors, command, e-stop, status): '
                           'single (SingleThreadedExecutor, least overhead) | multi '
                           '(MultiThreadedExecutor); control and inference have own threads'),
    'gil_switch_interval_ms': (0.5, 'sys.setswitchinterval [ms] (Python default 5): bounds '
                                    'how long the control thread waits for the GIL; 0 = '
                                    'keep the default'),
    'realtime_priority': (0, 'SCHED_FIFO priority (1-99) of the control thread; 0 = normal '
                             'scheduling (needs CAP_SYS_NICE or an rtprio limit)'),
    'scheduler.mode': ('async', 'async (infer in the background) | sync (debug: infer in the '
                                'control tick when the chunk is used up)'),
    'scheduler.smoothing': ('blend', 'none | blend (cross-fade over blend_steps) | '
                                     'temporal_ensemble (ACT)'),
    'scheduler.inference_threshold': (8, 'request a new chunk when fewer actions remain'),
    'scheduler.ensemble_coeff': (0.01, 'ACT temporal ensembling m in w_i = exp(-m i)'),
    'scheduler.blend_steps': (4, 'ticks of the cross-fade between chunks'),
    'controller.kind': ('joint_trajectory', 'joint_trajectory | forward_command | twist'),
    'controller.name': ('arm_controller', 'controller name: /<name>/joint_trajectory or '
                                          '/<name>/commands'),
    'controller.joints': (list(C.DEFAULT_ARM_JOINTS), "the controller's joint list (its "
                                                      'command order)'),
    'controller.trajectory_mode': ('point', 'point (one point per tick) | chunk (the '
                                            'remaining chunk with time_from_start)'),
    'controller.point_time_s': (0.0, 'time_from_start of a single point [s]; 0 = one period'),
    'gripper.controller': ('', "gripper forward-command controller ('' = none)"),
    'gripper.action': (C.DEFAULT_GRIPPER_JOINT, 'action name of the gripper in the bundle'),
    'gripper.joint_state': ('', "joint_states name of the gripper ('' = gripper.action)"),
    'twist.topic': ('/cmd_vel', 'twist output topic'),
    'twist.stamped': (False, 'publish TwistStamped instead of Twist'),
    'limits.joints': (_STR_ARRAY, 'names the limits.* arrays refer to'),
    'limits.lower': (_DBL_ARRAY, 'lower position limits [rad, m]'),
    'limits.upper': (_DBL_ARRAY, 'upper position limits [rad, m]'),
    'limits.max_velocity': (_DBL_ARRAY, 'velocity limits [rad/s, m/s]'),
    'limits.max_acceleration': (_DBL_ARRAY, 'acceleration limits [rad/s^2, m/s^2]'),
    'max_command_chars': (200, 'longer language commands are rejected'),
    'max_frame_age_s': (0.2, 'hold when the newest frame is older than this [s]'),
    'max_motion_time_s': (0.0, 'hold after moving this long without a new command [s]; 0 = '
                               'off'),
    'status_rate_hz': (2.0, '~/status rate [Hz] (also published on every change)'),
    'mask_modalities': (_STR_ARRAY, "ablation: modalities the policy sees as absent ('image', "
                                    "'image/<cam>', 'audio', 'tactile', 'language')"),
    'debug_image': (False, 'publish ~/debug_image (command + predicted motion drawn)'),
}


def declare_policy_parameters(node: Node) -> None:
    """Declare every policy parameter once (no-op for already declared ones)."""
    for name, (default, description) in POLICY_PARAMETERS.items():
        if node.has_parameter(name):
            continue
        node.declare_parameter(name, default, ParameterDescriptor(description=description))


def _get(node: Node, name: str):
    try:
        value = node.get_parameter(name).value
    except ParameterUninitializedException:  # array parameters declared without a default
        return []
    return [] if value is None else value


def read_policy_config(node: Node) -> PolicyConfig:
    """PolicyConfig from the declared parameters (raises ConfigError quoting bad values)."""
    g = lambda n: _get(node, n)  # noqa: E731
    limits = parse_joint_limits(list(g('limits.joints')), {
        k: list(g(f'limits.{k}')) for k in ('lower', 'upper', 'max_velocity',
                                             'max_acceleration')})
    scheduler = SchedulerConfig(
        mode=g('scheduler.mode'), smoothing=g('scheduler.smoothing'),
        inference_threshold=int(g('scheduler.inference_threshold')),
        ensemble_coeff=float(g('scheduler.ensemble_coeff')),
        blend_steps=int(g('scheduler.blend_steps')))
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
        max_frame_age_s=float(g('max_frame_age_s')),
        max_motion_time_s=float(g('max_motion_time_s')),
        status_rate_hz=float(g('status_rate_hz')), intra_op_threads=int(g('intra_op_threads')),
        joint_limits={k: v for k, v in limits.items() if v},
        gripper_joint_state=g('gripper.joint_state'), debug_image=bool(g('debug_image')))
