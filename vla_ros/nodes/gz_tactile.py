"""
Node ``gz_tactile``: Gazebo finger contact sensors -> ``vla_ros_msgs/TactileArray``.

Subscribes ``gz/tactile/<pad>`` (``ros_gz_interfaces/Contacts`` from ros_gz_bridge, see
config/gz_bridge.yaml) and publishes the same pad layout as ``mujoco_sim`` on
``tactile/array`` at ``tactile_rate_hz`` (relative names: resolved in the node's namespace).
gz only reports while touching, so a pad without a report for ``hold_s`` reads zero.
"""

from __future__ import annotations

import numpy as np
from rclpy.node import Node
from vla_ros import constants as C
from vla_ros.errors import ConfigError
from vla_ros.qos import SENSOR_QOS
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros.sim.gazebo import ROS_TACTILE_TOPIC_FMT
from vla_ros.sim.gz_contacts import contacts_to_taxels
from vla_ros.sim.robot import ROBOT
from vla_ros_msgs.msg import TactileArray, TactilePad


class GzTactile(Node):

    def __init__(self, **kwargs) -> None:
        super().__init__('gz_tactile', **kwargs)
        v = declare_node_parameters(self, 'gz_tactile')
        rate = float(v['tactile_rate_hz'])
        self.hold_ns = int(1e9 * float(v['hold_s']))
        warn_unknown_parameters(self)
        try:
            # optional dependency: ros_gz_interfaces (installed with Gazebo only)
            from ros_gz_interfaces.msg import Contacts
        except ImportError as e:
            raise ConfigError('gz_tactile needs ros_gz_interfaces (install ros-<distro>-ros-gz)'
                              ) from e
        self.values = {p.name: np.zeros(p.rows * p.cols, np.float32) for p in ROBOT.pads}
        self.stamps = {p.name: 0 for p in ROBOT.pads}
        for pad in ROBOT.pads:
            self.create_subscription(Contacts, ROS_TACTILE_TOPIC_FMT.format(pad=pad.name),
                                     lambda m, n=pad.name: self._on_contacts(n, m),
                                     SENSOR_QOS)
        self.pub = self.create_publisher(TactileArray, C.TACTILE_TOPIC, SENSOR_QOS)
        self.create_timer(1.0 / rate, self._publish)

    def _on_contacts(self, pad: str, msg) -> None:
        self.values[pad] = contacts_to_taxels(msg, pad)
        self.stamps[pad] = self.get_clock().now().nanoseconds

    def _publish(self) -> None:
        now = self.get_clock().now()
        msg = TactileArray()
        msg.header.stamp = now.to_msg()
        msg.unit = 'N'
        values = []
        for p in ROBOT.pads:
            msg.pads.append(TactilePad(name=p.name, frame_id=f'{p.name}_pad', rows=p.rows,
                                       cols=p.cols, channels=1))
            fresh = now.nanoseconds - self.stamps[p.name] <= self.hold_ns
            values.append(self.values[p.name] if fresh else np.zeros_like(self.values[p.name]))
        msg.values = np.concatenate(values).tolist()
        self.pub.publish(msg)
