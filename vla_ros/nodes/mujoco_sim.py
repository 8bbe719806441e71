"""
Node ``mujoco_sim``: the MuJoCo tabletop world as a ROS 2 robot.

Publishes what a real driver stack would (cameras, microphone, tactile pads, joint states)
stamped with sim time, plus ``/clock`` and the task predicates on ``sim/task_state``;
accepts the ros2_control topics of ``arm_controller``, ``gripper_controller`` and
``gripper_effort_controller`` (the fingers' max effort [N]; a reset restores it). Physics and
rendering run in one thread (the GL context is thread-bound); ROS callbacks only queue work.
A reset (service ``sim/reset`` with the ``seed`` parameter, or topic ``sim/reset_seed``)
restarts sim time at 0: ``/clock`` jumps backwards. Every name but ``/clock`` is relative:
in namespace ``/robot1`` the node uses ``/robot1/camera/front/image_raw`` and so on.
"""

from __future__ import annotations

import queue
import threading
import time

import numpy as np
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Float64MultiArray, String, UInt32
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory
from vla_ros import constants as C
from vla_ros.errors import ConfigError, VlaRosError
from vla_ros.params.sim import RATE_PARAMETERS
from vla_ros.qos import LATCHED_QOS, RELIABLE_QOS, SENSOR_QOS
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros.sim.audio import speak
from vla_ros.sim.robot import ROBOT
from vla_ros.sim.trajectory import TrajectoryFollower
from vla_ros.sim.world import JOINT_NAMES, SimWorld, WorldConfig
from vla_ros_msgs.msg import AudioChunk, TactileArray, TactilePad

# relative names (vla_ros/constants.py): resolved in the node's namespace; /clock is global
ARM_TRAJECTORY_TOPIC = C.ARM_TRAJECTORY_TOPIC
ARM_COMMANDS_TOPIC = C.ARM_COMMANDS_TOPIC
GRIPPER_COMMANDS_TOPIC = C.GRIPPER_COMMANDS_TOPIC
GRIPPER_EFFORT_TOPIC = C.GRIPPER_EFFORT_COMMANDS_TOPIC
TASK_STATE_TOPIC = C.SIM_TASK_STATE_TOPIC
RESET_SERVICE = C.SIM_RESET_SERVICE
RESET_SEED_TOPIC = C.SIM_RESET_SEED_TOPIC
SOUND_TOPIC = C.SIM_SOUND_TOPIC
STREAMS = ('camera', 'audio', 'tactile', 'joints', 'clock', 'task_state')


def _stamp(msg, t: float) -> None:
    msg.sec, msg.nanosec = divmod(int(round(t * 1e9)), 1_000_000_000)


class MujocoSim(Node):
    """The sim world behind ROS topics; see docs/sim.md for topics and parameters."""

    def __init__(self, **kwargs) -> None:
        super().__init__('mujoco_sim', **kwargs)
        p = declare_node_parameters(self, 'mujoco_sim')
        self.seed, self.rtf = int(p['seed']), float(p['real_time_factor'])
        cameras = tuple(p['cameras'])
        width, height = int(p['image_width']), int(p['image_height'])
        self.rates = {stream: float(p[name]) for stream, name in RATE_PARAMETERS.items()}
        self.speak_commands = bool(p['speak_commands'])
        try:
            self.world = SimWorld(WorldConfig(image_width=width, image_height=height,
                                              cameras=cameras,
                                              cube_physics=str(p['cube_physics'])),
                                  seed=self.seed)
        except VlaRosError as e:
            raise ConfigError(f'mujoco_sim: {e}') from e
        self.sample_rate = self.world.config.mic.sample_rate
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self.image_pubs = {c: self.create_publisher(Image, C.camera_topic(c),
                                                    SENSOR_QOS) for c in cameras}
        self.audio_pub = self.create_publisher(AudioChunk, C.AUDIO_TOPIC, SENSOR_QOS)
        self.tactile_pub = self.create_publisher(TactileArray, C.TACTILE_TOPIC,
                                                 SENSOR_QOS)
        self.joint_pub = self.create_publisher(JointState, C.JOINT_STATES_TOPIC,
                                               SENSOR_QOS)
        self.clock_pub = self.create_publisher(Clock, C.CLOCK_TOPIC, RELIABLE_QOS)
        self.task_pub = self.create_publisher(String, TASK_STATE_TOPIC, LATCHED_QOS)

        self.work: queue.SimpleQueue = queue.SimpleQueue()  # callbacks -> sim thread
        self.create_subscription(JointTrajectory, ARM_TRAJECTORY_TOPIC, self._on_trajectory,
                                 RELIABLE_QOS)
        self.create_subscription(Float64MultiArray, ARM_COMMANDS_TOPIC,
                                 lambda m: self.work.put(('arm', np.array(m.data))), RELIABLE_QOS)
        self.create_subscription(Float64MultiArray, GRIPPER_COMMANDS_TOPIC,
                                 lambda m: self.work.put(('gripper', np.array(m.data))),
                                 RELIABLE_QOS)
        self.create_subscription(Float64MultiArray, GRIPPER_EFFORT_TOPIC,
                                 lambda m: self.work.put(('effort', np.array(m.data))),
                                 RELIABLE_QOS)
        self.create_subscription(UInt32, RESET_SEED_TOPIC,
                                 lambda m: self.work.put(('reset', int(m.data), None)),
                                 RELIABLE_QOS)
        self.create_subscription(String, SOUND_TOPIC,
                                 lambda m: self.work.put(('sound', m.data)), RELIABLE_QOS)
        if self.speak_commands:
            self.create_subscription(String, C.COMMAND_TOPIC, self._on_command, RELIABLE_QOS)
        self.create_service(Trigger, RESET_SERVICE, self._on_reset)

        _, q, _ = self.world.joint_state()
        self.follower = TrajectoryFollower(q)  # 7 joints: arm + gripper
        self.gripper_target: float | None = None  # gripper forward command [m], if newer
        self.rejected: dict[str, int] = {}  # malformed commands per kind (logged, throttled)
        self.running = True
        self.thread = threading.Thread(target=self._loop, name='mujoco_sim', daemon=True)
        self.thread.start()
        warn_unknown_parameters(self)
        self.get_logger().info(
            f'mujoco_sim ready: cameras={list(cameras)} {width}x{height}, rates={self.rates}, '
            f'real_time_factor={self.rtf}, seed={self.seed}')

    def _on_set_parameters(self, params) -> SetParametersResult:
        for p in params:
            if p.name == 'real_time_factor' and float(p.value) < 0:
                return SetParametersResult(successful=False,
                                           reason=f'real_time_factor must be >= 0, got {p.value}')
        for p in params:
            if p.name == 'seed':
                self.seed = int(p.value)
            elif p.name == 'real_time_factor':
                self.rtf = float(p.value)
                self.work.put(('rtf',))
        return SetParametersResult(successful=True)

    # --- ROS callbacks: convert and queue (the sim thread owns the world) -------------------
    def _on_trajectory(self, msg: JointTrajectory) -> None:
        if not msg.points:
            return
        times = np.array([p.time_from_start.sec + 1e-9 * p.time_from_start.nanosec
                          for p in msg.points])
        pos = np.array([list(p.positions) for p in msg.points], float)
        vel = (np.array([list(p.velocities) for p in msg.points], float)
               if all(len(p.velocities) == len(msg.joint_names) for p in msg.points) else None)
        start = msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec
        self.work.put(('trajectory', list(msg.joint_names), times, pos, vel, start))

    def _on_command(self, msg: String) -> None:
        # espeak-ng takes ~0.1-0.6 s: synthesize here, not in the sim thread
        try:
            self.work.put(('speech', speak(msg.data, self.sample_rate), msg.data))
        except VlaRosError as e:
            self.get_logger().warning(f'cannot speak {msg.data!r}: {e}')

    def _on_reset(self, request, response):
        done = threading.Event()
        self.work.put(('reset', self.seed, done))
        response.success = done.wait(10.0)
        response.message = (f'seed={self.world.seed} episode={self.world.episode}'
                            if response.success else 'reset timed out')
        return response

    # --- sim thread --------------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._reset_schedule()
            while self.running and rclpy.ok():
                self._handle_work()
                q = self.follower.sample(self.world.time)
                self.world.set_arm_command(q[:6])
                self.world.set_gripper_command(
                    float(q[6]) if self.gripper_target is None else self.gripper_target)
                self.world.step(1)
                self._publish_due()
                self._pace()
        except Exception as e:  # noqa: BLE001 - the sim thread must report, not vanish
            if not self.running or not self.context.ok():
                return  # Ctrl-C / SIGTERM shut the context down under a publish: not a fault
            self.get_logger().fatal(f'sim thread stopped: {type(e).__name__}: {e}')
            raise
        finally:
            self.world.close()

    def _reset_schedule(self) -> None:
        t = self.world.time
        self.next_due = {s: t for s in STREAMS}
        self.wall0, self.sim0 = time.monotonic(), t
        self._publish_due()

    def _pace(self) -> None:
        if self.rtf <= 0:
            time.sleep(0)  # as fast as possible, but let the ROS executor thread take the GIL
            return
        target = self.wall0 + (self.world.time - self.sim0) / self.rtf
        lag = target - time.monotonic()
        if lag > 0.001:
            time.sleep(lag)
        elif lag < -0.2:  # fell behind (CPU load): re-anchor instead of bursting
            self.wall0, self.sim0 = time.monotonic(), self.world.time

    def _handle_work(self) -> None:
        while True:
            try:
                item = self.work.get_nowait()
            except queue.Empty:
                return
            try:
                self._apply(item)
            except VlaRosError as e:
                self.rejected[item[0]] = self.rejected.get(item[0], 0) + 1
                self.get_logger().warning(f'ignored {item[0]} command ({self.rejected[item[0]]} '
                                          f'so far): {e}', throttle_duration_sec=1.0)

    def _apply(self, item: tuple) -> None:
        kind, t = item[0], self.world.time
        if kind == 'arm':
            q = item[1]
            if q.shape != (6,) or not np.all(np.isfinite(q)):
                raise ConfigError(f'{ARM_COMMANDS_TOPIC} needs 6 finite positions '
                                  f'{list(C.DEFAULT_ARM_JOINTS)}, got {q.tolist()}')
            self.follower.hold(np.append(q, self.follower.sample(t)[6]))
        elif kind == 'gripper':
            g = item[1]
            if g.shape != (1,) or not np.isfinite(g[0]):
                raise ConfigError(f'{GRIPPER_COMMANDS_TOPIC} needs 1 finite opening [m], '
                                  f'got {g.tolist()}')
            # the gripper is its own controller: a forward command must not cancel an arm
            # trajectory in progress (it overrides the gripper until a trajectory names it)
            self.gripper_target = float(g[0])
        elif kind == 'effort':
            e = item[1]
            if e.shape != (1,) or not np.isfinite(e[0]):
                raise ConfigError(f'{GRIPPER_EFFORT_TOPIC} needs 1 finite max effort [N], '
                                  f'got {e.tolist()}')
            self.world.set_gripper_effort(float(e[0]))  # clipped to [0, the joint's effort]
        elif kind == 'trajectory':
            if C.DEFAULT_GRIPPER_JOINT in item[1]:
                self.gripper_target = None
            self._apply_trajectory(*item[1:])
        elif kind == 'reset':
            self.world.reset(item[1])
            _, q, _ = self.world.joint_state()
            self.follower.hold(q)
            self.gripper_target = None
            self._reset_schedule()
            self.get_logger().info(f'reset: seed={item[1]} episode={self.world.episode}')
            if item[2] is not None:
                item[2].set()
        elif kind == 'sound':
            self.world.play_sound(item[1])
        elif kind == 'speech':
            self.world.play_speech(item[1], item[2])
        elif kind == 'rtf':
            self.wall0, self.sim0 = time.monotonic(), t

    def _apply_trajectory(self, names, times, pos, vel, start) -> None:
        unknown = set(names) - set(JOINT_NAMES)
        if unknown or len(set(names)) != len(names) or pos.shape != (len(times), len(names)):
            raise ConfigError(f'trajectory joints must be distinct names from {JOINT_NAMES} '
                              f'with one position each, got {names} and {pos.shape}')
        idx = [JOINT_NAMES.index(n) for n in names]
        full = np.zeros((len(times), len(JOINT_NAMES)))
        full[:, idx] = pos
        fvel = None
        if vel is not None:
            fvel = np.zeros_like(full)
            fvel[:, idx] = vel
        mask = np.zeros(len(JOINT_NAMES), bool)
        mask[idx] = True
        now = self.world.time
        start = start if start > 0 else now
        if abs(start - now) > 5.0:
            self.get_logger().warning(
                f'trajectory stamped {start:.3f} s but sim time is {now:.3f} s (use_sim_time '
                'not set, or sent before a reset?); starting it now', throttle_duration_sec=2.0)
            start = now
        self.follower.set_trajectory(start, now, times, full, fvel, mask)

    def _publish_due(self) -> None:
        t = self.world.time
        eps = 0.5 * self.world.model.opt.timestep
        for stream in STREAMS:
            if t + eps >= self.next_due[stream]:
                self.next_due[stream] += 1.0 / self.rates[stream]
                getattr(self, f'_publish_{stream}')(t)

    def _publish_clock(self, t: float) -> None:
        msg = Clock()
        _stamp(msg.clock, t)
        self.clock_pub.publish(msg)

    def _publish_camera(self, t: float) -> None:
        for cam, pub in self.image_pubs.items():
            img = self.world.render(cam)
            msg = Image()
            _stamp(msg.header.stamp, t)
            msg.header.frame_id = f'{cam}_camera_optical_frame'
            msg.height, msg.width = img.shape[:2]
            msg.encoding, msg.step = 'rgb8', img.shape[1] * 3
            msg.data = img.tobytes()
            pub.publish(msg)

    def _publish_audio(self, t: float) -> None:
        n = max(1, round(self.sample_rate / self.rates['audio']))
        samples = self.world.audio(n)
        msg = AudioChunk()
        _stamp(msg.header.stamp, max(0.0, t - n / self.sample_rate))  # first sample
        msg.header.frame_id = 'microphone'
        msg.sample_rate, msg.channels = self.sample_rate, 1
        msg.encoding = AudioChunk.ENCODING_S16LE
        msg.data = (samples * 32767).astype('<i2').tobytes()
        self.audio_pub.publish(msg)

    def _publish_tactile(self, t: float) -> None:
        msg = TactileArray()
        _stamp(msg.header.stamp, t)
        msg.unit = 'N'
        msg.pads = [TactilePad(name=p.name, frame_id=f'{p.name}_pad', rows=p.rows, cols=p.cols,
                               channels=1) for p in ROBOT.pads]
        msg.values = self.world.tactile().tolist()
        self.tactile_pub.publish(msg)

    def _publish_joints(self, t: float) -> None:
        names, q, v = self.world.joint_state()
        msg = JointState()
        _stamp(msg.header.stamp, t)
        msg.name = list(names)
        msg.position, msg.velocity = q.tolist(), v.tolist()
        self.joint_pub.publish(msg)

    def _publish_task_state(self, t: float) -> None:
        self.task_pub.publish(String(data=self.world.task_state().to_json()))

    def destroy_node(self) -> None:
        self.running = False
        if self.thread.is_alive():
            self.thread.join(timeout=5.0)
        super().destroy_node()
