"""
Recording ROS topics to MCAP, as ``ros2 bag record`` would.

rosbag2_py is not installable here: raw CDR bytes from rclpy ``raw=True`` subscriptions,
written with pip ``rosbags``.

Also the expert as a teleoperator (:class:`ExpertTeleop`): it watches ``sim/task_state`` and
publishes arm trajectory points and gripper commands (opening; max effort when the expert sets
one) like a person with a joystick would, so the whole ROS graph (``mujoco_sim`` process ->
DDS -> recorder) produces a demonstration bag.
"""

from __future__ import annotations

import importlib
import threading

import numpy as np
from rclpy.node import Node
from std_msgs.msg import Float64MultiArray, String
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
from vla_ros import constants as C
from vla_ros.core.convert import audio_chunk_to_array
from vla_ros.data import bagio
from vla_ros.qos import LATCHED_QOS, RECORDER_QOS, RELIABLE_QOS, SENSOR_QOS
from vla_ros.sim.expert import ScriptedExpert
from vla_ros.sim.ik import IkSolver
from vla_ros.sim.task_suite import start_delay, SuccessMonitor, TaskSpec
from vla_ros.sim.tasks import TaskState
from vla_ros_msgs.msg import AudioChunk, TactileArray

SENSOR_TYPES = ('sensor_msgs/msg/Image', 'vla_ros_msgs/msg/AudioChunk',
                'vla_ros_msgs/msg/TactileArray', 'sensor_msgs/msg/JointState')


def _msg_class(msgtype: str):
    pkg, _, name = msgtype.split('/')
    return getattr(importlib.import_module(f'{pkg}.msg'), name)


class TopicRecorder:
    """
    Subscribe to ``topics`` (name -> 'pkg/msg/Type') on ``node`` and record them.

    Every message is written to ``writer`` at the node clock's time (sim time with
    use_sim_time). A bag name (``/vla/command``) is subscribed relative (``vla/command``), in
    the node's namespace: a recorder in ``/robot1`` records ``/robot1/vla/command`` as
    ``/vla/command``, so every robot's bags read alike.
    """

    def __init__(self, node: Node, writer: bagio.BagWriter,
                 topics: dict[str, str] | None = None) -> None:
        self.node, self.writer = node, writer
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.recording = True
        topics = dict(bagio.DEFAULT_TOPICS if topics is None else topics)
        for topic, msgtype in topics.items():
            topic = bagio.bag_topic(topic)
            qos = (SENSOR_QOS if msgtype in SENSOR_TYPES
                   else LATCHED_QOS if topic == bagio.bag_topic(C.COMMAND_TOPIC)
                   else RECORDER_QOS)
            node.create_subscription(_msg_class(msgtype), topic.lstrip('/'),
                                     lambda data, t=topic, m=msgtype: self._on(t, m, data),
                                     qos, raw=True)

    def _on(self, topic: str, msgtype: str, data: bytes) -> None:
        if not self.recording:
            return
        now = self.node.get_clock().now().nanoseconds
        with self.lock:
            self.writer.write_raw(topic, msgtype, now, data)
            self.counts[topic] = self.counts.get(topic, 0) + 1


class ExpertTeleop:
    """The scripted expert publishing controller commands over ROS, one per task state."""

    def __init__(self, node: Node, world_model, home_q: np.ndarray, task: TaskSpec,
                 seed: int, dt: float = 0.1) -> None:
        self.node, self.task, self.seed, self.dt = node, task, seed, dt
        self.expert = ScriptedExpert(task, IkSolver(world_model), home_q, dt)
        self.monitor = SuccessMonitor(task, seed)
        self.done_at: float | None = None
        self.active = False
        self._types = (Float64MultiArray, String, JointTrajectory, JointTrajectoryPoint)
        self.arm_pub = node.create_publisher(JointTrajectory, C.ARM_TRAJECTORY_TOPIC,
                                             RELIABLE_QOS)
        self.grip_pub = node.create_publisher(Float64MultiArray, C.GRIPPER_COMMANDS_TOPIC,
                                              RELIABLE_QOS)
        self.effort_pub = node.create_publisher(Float64MultiArray,
                                                C.GRIPPER_EFFORT_COMMANDS_TOPIC, RELIABLE_QOS)
        self.cmd_pub = node.create_publisher(String, C.COMMAND_TOPIC, LATCHED_QOS)
        self.sound_pub = node.create_publisher(String, C.SIM_SOUND_TOPIC, RELIABLE_QOS)
        node.create_subscription(String, C.SIM_TASK_STATE_TOPIC, self._on_state, LATCHED_QOS)
        if self.expert.listens:  # a keyword task's expert hears the policy's microphone stream
            node.create_subscription(AudioChunk, C.AUDIO_TOPIC, self._on_audio, SENSOR_QOS)
        if self.expert.feels:  # a gentle task's expert feels the policy's taxel stream
            node.create_subscription(TactileArray, C.TACTILE_TOPIC, self._on_tactile, SENSOR_QOS)
        self.last_state: TaskState | None = None

    def start(self) -> None:
        self.t_start = self.last_state.sim_time if self.last_state else 0.0
        self.active = True
        self.cmd_pub.publish(self._types[1](data=self.task.command))

    def _on_audio(self, msg: AudioChunk) -> None:
        if not self.active:
            return
        x, rate = audio_chunk_to_array(msg)
        t_end = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9 + x.shape[0] / rate
        self.expert.hear(t_end, x.mean(axis=1), rate)

    def _on_tactile(self, msg: TactileArray) -> None:
        if self.active:
            t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
            self.expert.feel(t, np.asarray(msg.values, np.float32))

    def _on_state(self, msg) -> None:
        st = TaskState.from_json(msg.data)
        self.last_state = st
        if not self.active or st.seed != self.seed:
            return
        if self.done_at is None and self.monitor.update(st):
            self.done_at = st.sim_time
        for spec in self.monitor.sounds_due(st.sim_time):  # the beep, a keyword task's words
            self.sound_pub.publish(self._types[1](data=spec))
        if st.sim_time < self.t_start + start_delay(self.seed):
            return  # the demonstrator reacts after a moment, as in the lockstep recordings
        cmd = self.expert.act(st)
        Float64MultiArray, _, JointTrajectory, JointTrajectoryPoint = self._types
        traj = JointTrajectory(joint_names=list(C.DEFAULT_ARM_JOINTS))
        sec, nsec = divmod(int(round(st.sim_time * 1e9)), 1_000_000_000)
        traj.header.stamp.sec, traj.header.stamp.nanosec = sec, nsec
        pt = JointTrajectoryPoint(positions=[float(v) for v in cmd.arm])
        pt.time_from_start.nanosec = int(self.dt * 1e9)
        traj.points = [pt]
        self.arm_pub.publish(traj)
        self.grip_pub.publish(Float64MultiArray(data=[float(cmd.gripper)]))
        if cmd.gripper_effort is not None:
            self.effort_pub.publish(Float64MultiArray(data=[float(cmd.gripper_effort)]))
