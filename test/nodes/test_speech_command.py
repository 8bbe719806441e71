"""
``speech_command`` over DDS: sim-microphone audio (espeak-ng + noise) in, commands out.

The node runs in this process (real rclpy, real DDS between it and the probe node), with the
default bundle's training commands as its vocabulary and the shipped recognizer / VAD.
"""

from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from std_msgs.msg import String
from vla_ros import constants as C
from vla_ros.harness.locate import config_file
from vla_ros.harness.procs import wait_until
from vla_ros.nodes.speech_command import SpeechCommand
from vla_ros.qos import RELIABLE_QOS, SENSOR_QOS
from vla_ros.sim.audio import MicConfig, MicrophoneSynth
from vla_ros_msgs.msg import AudioChunk, SpeechStatus

pytestmark = [pytest.mark.ros, pytest.mark.timeout(90)]
RATE, CHUNK = 16000, 320        # 20 ms chunks, as the sim publishes
COMMAND = 'pick up the red cube'


def _chunk(samples, stamp_ns: int, *, encoding: str = AudioChunk.ENCODING_S16LE) -> AudioChunk:
    msg = AudioChunk()
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp_ns, 1_000_000_000)
    msg.header.frame_id = 'microphone'
    msg.sample_rate, msg.channels, msg.encoding = RATE, 1, encoding
    msg.data = (samples * 32767).astype('<i2').tobytes()
    return msg


def _wire(node: SpeechCommand, name: str):
    """
    Return (probe, executor, audio publisher, commands, statuses) around ``node``.

    Waits until the node's audio subscription is matched.
    """
    probe = Node(name)
    commands, statuses = [], []
    probe.create_subscription(String, C.COMMAND_TOPIC, lambda m: commands.append(m.data),
                              RELIABLE_QOS)
    probe.create_subscription(SpeechStatus, '/speech_command/status', statuses.append,
                              RELIABLE_QOS)
    pub = probe.create_publisher(AudioChunk, C.AUDIO_TOPIC, SENSOR_QOS)
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    ex.add_node(probe)
    assert wait_until(lambda: (ex.spin_once(timeout_sec=0.05),
                               pub.get_subscription_count())[1] > 0, timeout_s=20)
    return probe, ex, pub, commands, statuses


def test_spoken_command_published_noise_not_bad_message_counted(rclpy_init):
    node = SpeechCommand(parameter_overrides=[Parameter('diagnostics_rate_hz', value=5.0)])
    probe, ex, pub, commands, statuses = _wire(node, 'speech_probe')
    diags = []
    probe.create_subscription(DiagnosticArray, C.DIAGNOSTICS_TOPIC, diags.append, 10)
    try:
        syn = MicrophoneSynth(MicConfig(), seed=7)
        t_ns = 0

        def play(seconds: float, *, speed: float = 0.0) -> None:
            nonlocal t_ns
            for _ in range(int(seconds * RATE / CHUNK)):
                pub.publish(_chunk(syn.synthesize(CHUNK, speed, 0.0), t_ns))
                t_ns += CHUNK * 1_000_000_000 // RATE
                ex.spin_once(timeout_sec=0.0)
                time.sleep(0.008)

        # a bad message: 24-bit audio is no supported encoding; counted, dropped, node lives
        pub.publish(_chunk(syn.synthesize(CHUNK, 0.0, 0.0), t_ns, encoding='S24LE'))
        play(2.0, speed=0.8)          # ambient noise and the arm's motor hum: nothing
        assert wait_until(lambda: (ex.spin_once(timeout_sec=0.05),
                                   any(d.status and 'bad_messages' in
                                       {kv.key for kv in d.status[0].values} for d in diags))[1],
                          timeout_s=10)
        assert commands == [] and statuses == []
        syn.say(COMMAND)
        play(3.5)
        assert wait_until(lambda: (ex.spin_once(timeout_sec=0.05), commands)[1], timeout_s=20)
        assert commands == [COMMAND]
        st = statuses[-1]
        assert st.accepted and st.text == COMMAND and st.reason == ''
        assert st.confidence >= node.pipeline.min_confidence
        start = st.speech_start.sec + st.speech_start.nanosec * 1e-9
        end = st.speech_end.sec + st.speech_end.nanosec * 1e-9
        assert 1.9 <= start <= 2.3 and end - start > 0.8   # spoken from 2.0 s on
        counts = {kv.key: kv.value for kv in diags[-1].status[0].values}
        assert counts['bad_messages'] == '1' and int(counts['chunks']) > 100
        assert 'S24LE' in counts['last_error']
    finally:
        ex.shutdown()
        node.destroy_node()
        probe.destroy_node()


def test_task_table_vocabulary_hears_unseen_words_and_not_noise(rclpy_init):
    """command_tasks: held-out verb + colour are published as said; noise and hum are not."""
    tasks = str(config_file('command_tasks.yaml'))
    node = SpeechCommand(parameter_overrides=[Parameter('command_tasks', value=tasks)])
    probe, ex, pub, commands, statuses = _wire(node, 'speech_probe_tasks')
    try:
        syn = MicrophoneSynth(MicConfig(), seed=3)
        t_ns = 0
        for i in range(int(6.5 * RATE / CHUNK)):
            if i == int(2.5 * RATE / CHUNK):
                syn.say('hoist the scarlet cube')
            speed = 0.8 if i < 2 * RATE / CHUNK else 0.0   # motor hum for the first 2 s
            pub.publish(_chunk(syn.synthesize(CHUNK, speed, 0.0), t_ns))
            t_ns += CHUNK * 1_000_000_000 // RATE
            # every chunk reaches the node (a best-effort queue drops what it cannot hold)
            assert wait_until(lambda: (ex.spin_once(timeout_sec=0.01),
                                       node.counts['chunks'])[1] > i, timeout_s=5)
            if i == int(2.4 * RATE / CHUNK):
                assert commands == [] and statuses == []   # noise and hum: nothing
        assert wait_until(lambda: (ex.spin_once(timeout_sec=0.05), commands)[1], timeout_s=20)
        assert commands == ['hoist the scarlet cube']
        assert len(statuses) == 1 and statuses[0].accepted
    finally:
        ex.shutdown()
        node.destroy_node()
        probe.destroy_node()
