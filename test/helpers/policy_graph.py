"""
Shared harness of the vla_policy multi-process tests: bundle, processes, listener.

The controller-side listener sees what a ros2_control controller and an operator would see.
"""

from __future__ import annotations

from collections.abc import Mapping
import threading
import time

from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

CONTROL_HZ = 50.0
FAKE_SENSORS = {'cameras': ['front'], 'image_width': 64, 'image_height': 64,
                'camera_rate_hz': 30.0}
# controller joints deliberately in a different order than the bundle's action names
CONTROLLER_JOINTS = list(reversed(C.DEFAULT_ARM_JOINTS))
POLICY = {'autostart': True, 'dry_run': False, 'control_rate_hz': CONTROL_HZ,
          'cameras': ['front'], 'required_cameras': ['front'],
          'controller.joints': CONTROLLER_JOINTS, 'gripper.controller': 'gripper_controller',
          'scheduler.smoothing': 'none', 'max_frame_age_s': 0.2}


def start_graph(tmp_path, bundle, policy: Mapping | None = None,
                sensors: Mapping | None = None, namespace: str = '') -> list[NodeProcess]:
    """
    fake_sensors + vla_policy as child processes (logs in tmp_path).

    ``namespace``: both nodes in it (``-r __ns:=``, what launch's ``namespace=`` passes).
    """
    ns = ['-r', f'__ns:=/{namespace.strip("/")}'] if namespace.strip('/') else []
    tag = f'{namespace.strip("/")}_' if ns else ''
    procs = [
        NodeProcess('fake_sensors', [*ros_args(params={**FAKE_SENSORS, **(sensors or {})}),
                                     *ns],
                    log_path=tmp_path / f'{tag}fake_sensors.log').start(),
        NodeProcess('vla_policy', [*ros_args(params={**POLICY, 'bundle': str(bundle),
                                                     **(policy or {})}), *ns],
                    log_path=tmp_path / f'{tag}vla_policy.log').start(),
    ]
    return procs


class Listener:
    """
    Subscribes to the controller topics, ~/status and ~/action_chunk; publishes commands.

    ``namespace``: the robot's (its topics ``/<namespace>/arm_controller/...``); '' = root.
    """

    def __init__(self, rclpy, namespace: str = '') -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
        from std_msgs.msg import Bool, Float64MultiArray, String
        from trajectory_msgs.msg import JointTrajectory
        from vla_ros_msgs.msg import ActionChunk, ModalityWeights, PolicyStatus

        ns = namespace.strip('/')
        self.node = rclpy.create_node(f'policy_test_listener{"_" + ns if ns else ""}')

        def topic(name: str) -> str:
            return C.namespaced(name, ns)

        latched = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                             durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)
        self.lock = threading.Lock()
        self.traj: list = []
        self.gripper: list = []
        self.effort: list = []   # gripper max effort (gripper_effort_controller/commands)
        self.status: list = []
        self.chunks: list = []
        self.weights: list = []
        n = self.node
        n.create_subscription(JointTrajectory, topic(C.ARM_TRAJECTORY_TOPIC),
                              self._add(self.traj), 100)
        n.create_subscription(Float64MultiArray, topic(C.GRIPPER_COMMANDS_TOPIC),
                              self._add(self.gripper), 100)
        n.create_subscription(Float64MultiArray, topic(C.GRIPPER_EFFORT_COMMANDS_TOPIC),
                              self._add(self.effort), 100)
        n.create_subscription(PolicyStatus, topic('vla_policy/status'), self._add(self.status),
                              latched)
        n.create_subscription(ActionChunk, topic('vla_policy/action_chunk'),
                              self._add(self.chunks), 100)
        n.create_subscription(ModalityWeights, topic('vla_policy/modality_weights'),
                              self._add(self.weights), 100)
        self.cmd_pub = n.create_publisher(String, topic(C.COMMAND_TOPIC), latched)
        self.estop_pub = n.create_publisher(Bool, topic(C.ESTOP_TOPIC), latched)
        self._String, self._Bool = String, Bool
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(n)
        self._thread = threading.Thread(target=self.executor.spin, daemon=True)
        self._thread.start()

    def _add(self, store: list):
        def cb(msg) -> None:
            with self.lock:
                store.append((time.monotonic(), msg))
        return cb

    def command(self, text: str) -> None:
        self.cmd_pub.publish(self._String(data=text))

    def estop(self, engaged: bool) -> None:
        self.estop_pub.publish(self._Bool(data=engaged))

    def last_status(self):
        with self.lock:
            return self.status[-1][1] if self.status else None

    def wait_state(self, name: str, timeout_s: float, **match) -> bool:
        def ok() -> bool:
            s = self.last_status()
            return s is not None and s.state_name == name and all(
                getattr(s, k) == v for k, v in match.items())
        return wait_until(ok, timeout_s)

    def since(self, store: list, t: float) -> list:
        with self.lock:
            return [(ts, m) for ts, m in store if ts >= t]

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def set_streams(rclpy, node, streams: list[str]) -> None:
    """Set fake_sensors' enabled_streams through its parameter service."""
    from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
    from rcl_interfaces.srv import SetParameters

    cli = node.create_client(SetParameters, '/fake_sensors/set_parameters')
    assert cli.wait_for_service(timeout_sec=10.0), 'fake_sensors parameter service missing'
    req = SetParameters.Request(parameters=[Parameter(
        name='enabled_streams', value=ParameterValue(
            type=ParameterType.PARAMETER_STRING_ARRAY, string_array_value=streams))])
    fut = cli.call_async(req)
    assert wait_until(fut.done, 10.0), 'set_parameters timed out'
    node.destroy_client(cli)
