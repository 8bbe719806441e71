"""
Node ``multimodal_sync``: sensor streams -> time-aligned ``MultimodalFrame`` on ``~/frame``.

A thin wrapper around :class:`~vla_ros.nodes.sensor_inputs.SensorInputs` (the same front end
``vla_policy`` embeds in-process). Publishes frames for recording and other consumers, and
per-modality rate/age/drop/reject counts on ``/diagnostics``.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
import numpy as np
from rcl_interfaces.msg import ParameterDescriptor
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import Image, JointState
from vla_ros.core.frame import Frame
from vla_ros.nodes.param_table import warn_unknown_parameters
from vla_ros.nodes.sensor_inputs import declare_sync_parameters, SensorInputs
from vla_ros.nodes.spin import run_node
from vla_ros.qos import FRAME_QOS
from vla_ros_msgs.msg import AudioChunk, MultimodalFrame, TactilePad

NS = 1_000_000_000


def _time(ns: int) -> Time:
    sec, nanosec = divmod(int(ns), NS)
    return Time(sec=sec, nanosec=nanosec)


def frame_to_msg(frame: Frame, *, publish_images: bool = True) -> MultimodalFrame:
    """Serialize a :class:`Frame` into a ``MultimodalFrame`` (images copied: rgb8)."""
    msg = MultimodalFrame()
    msg.header.stamp = _time(frame.stamp_ns)
    msg.modalities = list(frame.present)
    msg.present = [bool(v) for v in frame.present.values()]
    msg.source_stamps = [_time(frame.source_stamps.get(k, 0)) for k in frame.present]
    for key in frame.present:
        if not key.startswith('image/'):
            continue
        cam = key.split('/', 1)[1]
        img = Image()
        arr = frame.images.get(cam)
        if publish_images and arr is not None:
            img.header.stamp = _time(frame.source_stamps[key])
            img.height, img.width = int(arr.shape[0]), int(arr.shape[1])
            img.encoding, img.step = 'rgb8', int(arr.shape[1]) * 3
            img.data = np.ascontiguousarray(arr).tobytes()
        msg.camera_names.append(cam)
        msg.images.append(img)
    if frame.audio is not None:
        msg.audio.header.stamp = msg.header.stamp
        msg.audio.sample_rate, msg.audio.channels = int(frame.audio_rate), 1
        msg.audio.encoding = AudioChunk.ENCODING_F32LE
        msg.audio.data = frame.audio.astype('<f4').tobytes()
    msg.audio_gap_fraction = float(frame.audio_gap_fraction)
    if frame.tactile is not None and frame.tactile_layout is not None:
        lay = frame.tactile_layout
        msg.tactile.header.stamp = _time(frame.source_stamps.get('tactile', 0))
        msg.tactile.unit = lay.unit
        msg.tactile.pads = [TactilePad(name=n, rows=r, cols=c, channels=ch)
                            for n, (r, c, ch) in zip(lay.names, lay.shapes)]
        msg.tactile.values = frame.tactile.astype(np.float32).tolist()
    if frame.joint_positions is not None:
        msg.joint_state = JointState(name=list(frame.joint_names),
                                     position=frame.joint_positions.tolist(),
                                     velocity=frame.joint_velocities.tolist())
        msg.joint_state.header.stamp = msg.header.stamp
    msg.command = frame.command
    msg.command_stamp = _time(frame.command_stamp_ns)
    return msg


class MultimodalSync(Node):
    """Publishes synchronized frames and sync diagnostics."""

    def __init__(self, **kwargs) -> None:
        super().__init__('multimodal_sync', **kwargs)
        self.publish_images = self.declare_parameter(
            'publish_images', True, ParameterDescriptor(
                description='copy images into ~/frame (false: empty Image per camera)',
                read_only=True)).value
        period = self.declare_parameter(
            'diagnostics_period_s', 1.0, ParameterDescriptor(
                description='period of /diagnostics [s]', read_only=True)).value
        config = declare_sync_parameters(self)
        warn_unknown_parameters(self)
        self.frame_pub = self.create_publisher(MultimodalFrame, '~/frame', FRAME_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        # sensors in one mutually exclusive group (the synchronizer is single-threaded);
        # diagnostics in another so a busy sensor queue never delays them.
        self.inputs = SensorInputs(self, config, callback_group=MutuallyExclusiveCallbackGroup(),
                                   on_frame=self._on_frame)
        self.create_timer(float(period), self._publish_diagnostics,
                          callback_group=MutuallyExclusiveCallbackGroup())
        cams = ', '.join(f'{c.name}{"" if c.required else "?"}={c.topic}' for c in config.cameras)
        self.get_logger().info(
            f'multimodal_sync: cameras [{cams}], trigger={config.trigger.value}, '
            f'required={list(config.required_keys)}, audio window {config.audio_window_s} s '
            f'@ {config.audio_rate} Hz')

    def _on_frame(self, frame: Frame) -> None:
        self.frame_pub.publish(frame_to_msg(frame, publish_images=self.publish_images))

    def _publish_diagnostics(self) -> None:
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = self.inputs.diagnostics()
        self.diag_pub.publish(msg)


def main(args: list[str] | None = None) -> None:
    run_node(MultimodalSync, args)


if __name__ == '__main__':
    main()
