"""sim_microphone (the Gazebo-side microphone) as a child process: chunk rate, hum, beeps."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until


@pytest.mark.timeout(60)
def test_sim_microphone_publishes_chunks_and_reacts(rclpy_init, tmp_path):
    rclpy = rclpy_init
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import JointState
    from std_msgs.msg import String
    from vla_ros_msgs.msg import AudioChunk

    proc = NodeProcess('sim_microphone', ros_args(), log_path=tmp_path / 'mic.log').start()
    node = rclpy.create_node('mic_test')
    chunks: list = []
    lock = threading.Lock()

    def on_chunk(m):
        with lock:
            chunks.append((time.monotonic(), np.frombuffer(bytes(m.data), '<i2') / 32768.0))

    node.create_subscription(AudioChunk, C.AUDIO_TOPIC, on_chunk, qos_profile_sensor_data)
    joints = node.create_publisher(JointState, C.JOINT_STATES_TOPIC, qos_profile_sensor_data)
    sound = node.create_publisher(String, '/sim/sound', 10)
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    stop = threading.Event()
    th = threading.Thread(target=lambda: [ex.spin_once(timeout_sec=0.05)
                                          for _ in iter(stop.is_set, True)], daemon=True)
    th.start()
    try:
        assert wait_until(lambda: len(chunks) > 20, 20.0), proc.log_tail()

        def rms(since: float) -> float:
            with lock:
                x = [c for t, c in chunks if t > since]
            return float(np.sqrt(np.mean(np.concatenate(x) ** 2))) if x else float('nan')

        t0 = time.monotonic()
        time.sleep(1.0)
        with lock:
            n = sum(1 for t, _ in chunks if t > t0)
        assert 35 <= n <= 65, f'{n} chunks in 1 s, expected ~50'
        assert all(len(c) == 320 for _, c in chunks)
        quiet = rms(t0)

        def recent_rms(window_s: float = 0.2) -> float:
            return rms(time.monotonic() - window_s)  # nan before a chunk: neither loud nor quiet

        t1 = time.monotonic()
        for _ in range(20):  # the arm moves: motor hum
            joints.publish(JointState(name=list(C.DEFAULT_ARM_JOINTS), position=[0.0] * 6,
                                      velocity=[0.5] * 6))
            time.sleep(0.02)  # the arm's joint-state rate (50 Hz), not a wait
        assert wait_until(lambda: rms(t1) > 3 * quiet, 3.0), (rms(t1), quiet)
        joints.publish(JointState(name=list(C.DEFAULT_ARM_JOINTS), position=[0.0] * 6,
                                  velocity=[0.0] * 6))
        # arm still: the hum is gone from the newest chunks
        assert wait_until(lambda: recent_rms() < 2 * quiet, 3.0), (recent_rms(), quiet)
        t2 = time.monotonic()
        sound.publish(String(data='beep'))
        assert wait_until(lambda: rms(t2) > 3 * quiet, 3.0), (rms(t2), quiet)
        proc.check_alive()
    finally:
        stop.set()
        th.join()
        node.destroy_node()
        assert proc.stop() == 0, proc.log_tail()
