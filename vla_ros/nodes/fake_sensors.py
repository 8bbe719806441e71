"""
Node ``fake_sensors``: synthetic camera, microphone, tactile and joint-state drivers.

Publishes what a real driver stack would (sensor-data QoS, real header stamps) so the graph
can be exercised without a robot: demo before the simulator, multi-process tests, benchmarks.
Streams can be stopped and restarted at run time with the ``enabled_streams`` parameter.
Joint positions follow ``center + amplitude * sin(0.5 t + i)`` per joint (keep them inside the
robot's limits when a test checks commanded limits).
"""

from __future__ import annotations

import math

import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from vla_ros import constants as C
from vla_ros.errors import ConfigError
from vla_ros.params.fake_sensors import FAKE_SENSORS_PARAMETERS
from vla_ros.qos import SENSOR_QOS
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros_msgs.msg import AudioChunk, TactileArray, TactilePad

N_PREGENERATED_FRAMES = 8


class FakeSensors(Node):
    """Publishes synthetic sensor streams at configurable rates."""

    def __init__(self, **kwargs) -> None:
        super().__init__('fake_sensors', **kwargs)
        v = declare_node_parameters(self, 'fake_sensors')
        self.cameras = list(v['cameras'])
        self.width, self.height = int(v['image_width']), int(v['image_height'])
        camera_hz = float(v['camera_rate_hz'])
        self.sample_rate = int(v['sample_rate'])
        audio_hz = float(v['audio_chunk_rate_hz'])
        tactile_hz = float(v['tactile_rate_hz'])
        joint_hz = float(v['joint_rate_hz'])
        self.joint_names = list(v['joint_names'])
        self.enabled = set(v['enabled_streams'])
        self.joint_center = self._per_joint(v['joint_center'])
        self.joint_amplitude = self._per_joint(v['joint_amplitude'])
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self.image_pubs = {
            cam: self.create_publisher(Image, C.camera_topic(cam), SENSOR_QOS)
            for cam in self.cameras}
        self.audio_pub = self.create_publisher(AudioChunk, C.AUDIO_TOPIC, SENSOR_QOS)
        self.tactile_pub = self.create_publisher(
            TactileArray, C.TACTILE_TOPIC, SENSOR_QOS)
        self.joint_pub = self.create_publisher(
            JointState, C.JOINT_STATES_TOPIC, SENSOR_QOS)

        self.frames = [self._make_frame(i) for i in range(N_PREGENERATED_FRAMES)]
        self.samples_per_chunk = max(1, round(self.sample_rate / audio_hz))
        self.audio_phase = 0
        self.seq = 0
        self.create_timer(1.0 / camera_hz, self._publish_images)
        self.create_timer(1.0 / audio_hz, self._publish_audio)
        self.create_timer(1.0 / tactile_hz, self._publish_tactile)
        self.create_timer(1.0 / joint_hz, self._publish_joints)
        warn_unknown_parameters(self)
        self.get_logger().info(
            f'publishing cameras={self.cameras} {self.width}x{self.height}@{camera_hz}Hz, '
            f'audio {self.sample_rate}Hz in {self.samples_per_chunk}-sample chunks, '
            f'tactile@{tactile_hz}Hz, joints@{joint_hz}Hz')

    def _per_joint(self, values) -> np.ndarray:
        v = np.asarray(values, dtype=np.float64)
        n = len(self.joint_names)
        if v.size == 1:
            return np.full(n, float(v[0]))
        if v.size != n:
            raise ValueError(f'{v.size} values for {n} joints {self.joint_names}')
        return v

    def _on_set_parameters(self, params) -> SetParametersResult:
        for p in params:
            if p.name == 'enabled_streams':
                try:
                    FAKE_SENSORS_PARAMETERS['enabled_streams'].check(list(p.value))
                except ConfigError as e:
                    return SetParametersResult(successful=False, reason=str(e))
                self.enabled = set(p.value)
        return SetParametersResult(successful=True)

    def _make_frame(self, index: int) -> bytes:
        """Draw a gradient with a moving square: rgb8, height x width x 3."""
        img = np.zeros((self.height, self.width, 3), np.uint8)
        img[..., 0] = np.linspace(0, 255, self.width, dtype=np.uint8)[None, :]
        img[..., 1] = np.linspace(0, 255, self.height, dtype=np.uint8)[:, None]
        side = max(4, self.height // 6)
        x = (index * self.width // N_PREGENERATED_FRAMES) % max(1, self.width - side)
        img[side:2 * side, x:x + side] = (255, 255, 255)
        return img.tobytes()

    def _publish_images(self) -> None:
        if 'camera' not in self.enabled:
            return
        stamp = self.get_clock().now().to_msg()
        data = self.frames[self.seq % N_PREGENERATED_FRAMES]
        self.seq += 1
        for cam, pub in self.image_pubs.items():
            msg = Image()
            msg.header.stamp = stamp
            msg.header.frame_id = f'{cam}_camera_optical_frame'
            msg.height, msg.width, msg.encoding = self.height, self.width, 'rgb8'
            msg.step = self.width * 3
            msg.data = data
            pub.publish(msg)

    def _publish_audio(self) -> None:
        if 'audio' not in self.enabled:
            return
        n = self.samples_per_chunk
        t = (self.audio_phase + np.arange(n)) / self.sample_rate
        self.audio_phase += n
        wave = 0.2 * np.sin(2 * math.pi * 440.0 * t)
        msg = AudioChunk()
        # stamp = time of the first sample of this chunk (the chunk just ended)
        now_ns = self.get_clock().now().nanoseconds - int(n * 1e9 / self.sample_rate)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(now_ns, 1_000_000_000)
        msg.header.frame_id = 'microphone'
        msg.sample_rate, msg.channels = self.sample_rate, 1
        msg.encoding = AudioChunk.ENCODING_S16LE
        msg.data = (wave * 32767).astype('<i2').tobytes()
        self.audio_pub.publish(msg)

    def _publish_tactile(self) -> None:
        if 'tactile' not in self.enabled:
            return
        msg = TactileArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.unit = 'N'
        n = 0
        for name, rows, cols in C.DEFAULT_TACTILE_PADS:
            msg.pads.append(TactilePad(
                name=name, frame_id=f'{name}_pad', rows=rows, cols=cols, channels=1))
            n += rows * cols
        msg.values = np.full(n, 0.1 * (1 + math.sin(self.seq / 10)), np.float32).tolist()
        self.tactile_pub.publish(msg)

    def _publish_joints(self) -> None:
        if 'joints' not in self.enabled:
            return
        now = self.get_clock().now()
        t = now.nanoseconds * 1e-9
        msg = JointState()
        msg.header.stamp = now.to_msg()
        msg.name = self.joint_names
        phase = 0.5 * t + np.arange(len(self.joint_names))
        msg.position = (self.joint_center + self.joint_amplitude * np.sin(phase)).tolist()
        msg.velocity = (0.5 * self.joint_amplitude * np.cos(phase)).tolist()
        self.joint_pub.publish(msg)
