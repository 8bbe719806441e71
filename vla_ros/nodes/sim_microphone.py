"""
Node ``sim_microphone``: the simulated microphone for simulators without one (Gazebo).

Synthesizes the same sound as ``mujoco_sim`` (vla_ros.sim.audio): ambient noise, motor hum
from ``joint_states`` velocities, clicks at tactile contact onsets from ``tactile/array``,
beeps and speech requested on ``sim/sound`` (``beep``, ``beep:<hz>:<s>``, ``say:<text>``).
Publishes ``AudioChunk`` (S16LE mono) on ``audio/chunk``; stamp = first sample. All names are
relative (resolved in the node's namespace).
"""

from __future__ import annotations

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import JointState
from std_msgs.msg import String
from vla_ros import constants as C
from vla_ros.errors import VlaRosError
from vla_ros.qos import RELIABLE_QOS, SENSOR_QOS
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros.sim.audio import MicConfig, MicrophoneSynth
from vla_ros_msgs.msg import AudioChunk, TactileArray


class SimMicrophone(Node):

    def __init__(self, **kwargs) -> None:
        super().__init__('sim_microphone', **kwargs)
        v = declare_node_parameters(self, 'sim_microphone')
        rate, chunk_hz = int(v['sample_rate']), float(v['audio_chunk_rate_hz'])
        warn_unknown_parameters(self)
        self.synth = MicrophoneSynth(MicConfig(sample_rate=rate))
        self.n = max(1, round(rate / chunk_hz))
        self.speed = 0.0
        self.force = 0.0
        self.create_subscription(JointState, C.JOINT_STATES_TOPIC, self._on_joints,
                                 SENSOR_QOS)
        self.create_subscription(TactileArray, C.TACTILE_TOPIC,
                                 lambda m: setattr(self, 'force', float(np.sum(m.values))),
                                 SENSOR_QOS)
        self.create_subscription(String, C.SIM_SOUND_TOPIC, self._on_sound, RELIABLE_QOS)
        self.pub = self.create_publisher(AudioChunk, C.AUDIO_TOPIC, SENSOR_QOS)
        self.create_timer(1.0 / chunk_hz, self._publish)

    def _on_joints(self, msg: JointState) -> None:
        arm = [v for n, v in zip(msg.name, msg.velocity) if n in C.DEFAULT_ARM_JOINTS]
        self.speed = float(np.abs(arm).sum()) if arm else 0.0

    def _on_sound(self, msg: String) -> None:
        kind, _, arg = msg.data.partition(':')
        try:
            if kind == 'beep':
                self.synth.beep(*[float(v) for v in arg.split(':') if v][:2])
            elif kind == 'say' and arg:
                self.synth.say(arg)
            else:
                self.get_logger().warning(f'unknown sound {msg.data!r}')
        except (VlaRosError, ValueError) as e:
            self.get_logger().warning(f'sound {msg.data!r} failed: {e}')

    def _publish(self) -> None:
        samples = self.synth.synthesize(self.n, self.speed, self.force)
        msg = AudioChunk()
        rate = self.synth.config.sample_rate
        t = self.get_clock().now().nanoseconds - int(self.n * 1e9 / rate)
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(max(0, t), 1_000_000_000)
        msg.header.frame_id = 'microphone'
        msg.sample_rate, msg.channels = rate, 1
        msg.encoding = AudioChunk.ENCODING_S16LE
        msg.data = (samples * 32767).astype('<i2').tobytes()
        self.pub.publish(msg)
