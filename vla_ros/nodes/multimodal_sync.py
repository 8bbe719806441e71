"""
Node ``multimodal_sync``: sensor streams -> time-aligned ``MultimodalFrame`` on ``~/frame``.

A thin wrapper around :class:`~vla_ros.ros.sensor_inputs.SensorInputs` (the same front end
``vla_policy`` embeds in-process). Publishes frames for recording and other consumers, and
per-modality rate/age/drop/reject counts on ``/diagnostics`` (global; each status names this
node's fully qualified name). Sensor topics are relative: resolved in the node's namespace.
"""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from vla_ros import constants as C
from vla_ros.core.frame import Frame
from vla_ros.core.sync.config import sync_config_from_values
from vla_ros.qos import FRAME_QOS
from vla_ros.ros.frame_msgs import frame_to_msg
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros.ros.sensor_inputs import SensorInputs
from vla_ros_msgs.msg import MultimodalFrame

__all__ = ['frame_to_msg', 'MultimodalSync']


class MultimodalSync(Node):
    """Publishes synchronized frames and sync diagnostics."""

    def __init__(self, **kwargs) -> None:
        super().__init__('multimodal_sync', **kwargs)
        v = declare_node_parameters(self, 'multimodal_sync')
        self.publish_images, period = bool(v['publish_images']), v['diagnostics_period_s']
        config = sync_config_from_values(v)
        warn_unknown_parameters(self)
        self.frame_pub = self.create_publisher(MultimodalFrame, '~/frame', FRAME_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, C.DIAGNOSTICS_TOPIC, 10)
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
