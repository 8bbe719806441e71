"""
rclpy side of the controller adapters: message builders and publishers per adapter.

Builders are plain functions of a :class:`~vla_ros.core.control.ControllerCommand`, so tests
can check messages without a graph. Controller topics are reliable (what ros2_controllers'
subscribers use); depth 1 because only the newest command matters.
"""

from __future__ import annotations

from builtin_interfaces.msg import Duration, Time
from geometry_msgs.msg import Twist, TwistStamped
import numpy as np
from rclpy.node import Node
from std_msgs.msg import Float64MultiArray
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint
from vla_ros.core.control.adapters import AdapterConfig, AdapterKind, ControllerCommand
from vla_ros.qos import CONTROLLER_QOS
from vla_ros_msgs.msg import ActionChunk


def to_time(ns: int) -> Time:
    sec, nsec = divmod(int(ns), 1_000_000_000)
    return Time(sec=sec, nanosec=nsec)


def to_duration(seconds: float) -> Duration:
    sec, nsec = divmod(int(round(seconds * 1e9)), 1_000_000_000)
    return Duration(sec=sec, nanosec=nsec)


def trajectory_msg(cmd: ControllerCommand) -> JointTrajectory:
    """
    Build a JointTrajectory with one point per row of ``cmd.points``.

    The header stamp is left 0: joint_trajectory_controller then starts the trajectory on
    receipt.
    """
    msg = JointTrajectory()
    msg.joint_names = list(cmd.names)
    for row, t in zip(cmd.points, cmd.times_s):
        pt = JointTrajectoryPoint()
        pt.positions = row.tolist()
        pt.time_from_start = to_duration(float(t))
        msg.points.append(pt)
    return msg


def forward_msg(values: np.ndarray | list[float]) -> Float64MultiArray:
    """Float64MultiArray in the controller's joint order (forward_command_controller)."""
    return Float64MultiArray(data=[float(v) for v in np.ravel(values)])


def twist_msg(cmd: ControllerCommand, *, stamped: bool, stamp_ns: int = 0,
              frame_id: str = 'base_link') -> Twist | TwistStamped:
    lin, ang = cmd.twist()
    tw = Twist()
    tw.linear.x, tw.linear.y, tw.linear.z = lin
    tw.angular.x, tw.angular.y, tw.angular.z = ang
    if not stamped:
        return tw
    msg = TwistStamped()
    msg.header.stamp = to_time(stamp_ns)
    msg.header.frame_id = frame_id
    msg.twist = tw
    return msg


def action_chunk_msg(actions: np.ndarray, *, names, units, kind: str, dt: float, model_id: str,
                     due_ns: int, frame_stamp_ns: int, latency_s: float) -> ActionChunk:
    """Build the ActionChunk preview; ``actions`` [H, A] row-major, stamp = when row 0 is due."""
    msg = ActionChunk()
    msg.header.stamp = to_time(due_ns)
    msg.frame_stamp = to_time(frame_stamp_ns)
    msg.model_id = model_id
    msg.action_names = list(names)
    msg.units = list(units)
    msg.kind = kind
    msg.horizon = int(actions.shape[0])
    msg.dt = float(dt)
    msg.values = np.ascontiguousarray(actions, dtype=np.float64).ravel().tolist()
    msg.inference_latency = float(latency_s)
    return msg


class ControllerOutputs:
    """
    Publishers of one adapter (arm/base + optional gripper opening and max effort).

    ``publish`` is thread-safe as far as rclpy publishers are.
    """

    def __init__(self, node: Node, config: AdapterConfig, *, callback_group=None) -> None:
        self.config = config
        self._node = node
        k = config.kind
        if k is AdapterKind.JOINT_TRAJECTORY:
            mtype = JointTrajectory
        elif k is AdapterKind.FORWARD_COMMAND:
            mtype = Float64MultiArray
        else:
            mtype = TwistStamped if config.twist_stamped else Twist
        self._pub = node.create_publisher(mtype, config.topic, CONTROLLER_QOS)
        self._gripper_pub = (node.create_publisher(Float64MultiArray, config.gripper_topic,
                                                   CONTROLLER_QOS)
                             if config.gripper_topic else None)
        self._effort_pub = (node.create_publisher(Float64MultiArray, config.effort_topic,
                                                  CONTROLLER_QOS)
                            if config.effort_topic else None)
        self.published = 0

    def publish(self, cmd: ControllerCommand, stamp_ns: int) -> None:
        k = self.config.kind
        if k is AdapterKind.JOINT_TRAJECTORY:
            self._pub.publish(trajectory_msg(cmd))
        elif k is AdapterKind.FORWARD_COMMAND:
            self._pub.publish(forward_msg(cmd.points[0]))
        else:
            self._pub.publish(twist_msg(cmd, stamped=self.config.twist_stamped,
                                        stamp_ns=stamp_ns))
        if self._gripper_pub is not None and cmd.gripper is not None:
            self._gripper_pub.publish(forward_msg([cmd.gripper]))
        if self._effort_pub is not None and cmd.effort is not None:
            self._effort_pub.publish(forward_msg([cmd.effort]))
        self.published += 1

    def destroy(self) -> None:
        self._node.destroy_publisher(self._pub)
        for pub in (self._gripper_pub, self._effort_pub):
            if pub is not None:
                self._node.destroy_publisher(pub)
