"""
``vla_inference`` carries the robot's action prefix (real-time chunking) to the runtime.

Real rclpy over DDS: a client publishes ``RemoteFrame`` requests to an in-process
``vla_inference`` and takes its ``ActionChunk`` answers; the chunks are compared with local
onnxruntime inference of the same frame and prefix on tiny random-weights bundles (one
delay-aware, one without the input).
"""

from __future__ import annotations

import dataclasses
import threading
import time

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.remote.wire import camera_wires, RemoteConfig
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix

pytestmark = [pytest.mark.ros, pytest.mark.timeout(90)]
H, MAX_DELAY = 10, 6
WAIT_S = 20.0


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    tmp = tmp_path_factory.mktemp('inference_prefix')
    return {'aware': make_random_bundle(tmp / 'aware', horizon=H, dt=0.1, max_delay=MAX_DELAY),
            'plain': make_random_bundle(tmp / 'plain', horizon=H, dt=0.1)}


class Client:
    """A robot's side of the wire: publishes requests, keeps the chunks by frame stamp."""

    def __init__(self, rclpy, bundle) -> None:
        from rclpy.executors import MultiThreadedExecutor
        from vla_ros.core.remote.wire import REMOTE_CHUNK_TOPIC, REMOTE_FRAME_TOPIC
        from vla_ros.nodes.vla_inference import VlaInference
        from vla_ros.qos import REMOTE_CHUNK_QOS, REMOTE_FRAME_QOS
        from vla_ros_msgs.msg import ActionChunk, RemoteFrame

        self.manifest = load_bundle(bundle).manifest
        self.server = VlaInference(parameter_overrides=_params({'bundle': str(bundle)}))
        self.node = rclpy.create_node('prefix_client')
        self.pub = self.node.create_publisher(RemoteFrame, REMOTE_FRAME_TOPIC,
                                              REMOTE_FRAME_QOS)
        self.chunks: dict[int, np.ndarray] = {}
        self.node.create_subscription(ActionChunk, REMOTE_CHUNK_TOPIC, self._on_chunk,
                                      REMOTE_CHUNK_QOS)
        self.executor = MultiThreadedExecutor()
        for n in (self.server, self.node):
            self.executor.add_node(n)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + WAIT_S
        while self.pub.get_subscription_count() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)

    def _on_chunk(self, msg) -> None:
        stamp = msg.frame_stamp.sec * 1_000_000_000 + msg.frame_stamp.nanosec
        self.chunks[stamp] = np.asarray(msg.values, np.float64).reshape(msg.horizon, -1)

    def ask(self, frame, prefix: ActionPrefix | None = None) -> np.ndarray:
        """Send ``frame`` (with ``prefix``) and return the chunk [H, A] that answers it."""
        from vla_ros.ros.frame_msgs import remote_frame_msg

        m = self.manifest
        self.pub.publish(remote_frame_msg(frame, model_id=m.model_id, wires=camera_wires(m),
                                          config=RemoteConfig(audio='F32LE'),
                                          modalities=m.modalities, prefix=prefix))
        deadline = time.monotonic() + WAIT_S
        while frame.stamp_ns not in self.chunks and time.monotonic() < deadline:
            time.sleep(0.01)
        assert frame.stamp_ns in self.chunks, f'no chunk within {WAIT_S} s'
        return self.chunks[frame.stamp_ns]

    def close(self) -> None:
        self.executor.shutdown()
        self.server.destroy_node()
        self.node.destroy_node()


def _params(values: dict):
    from rclpy.parameter import Parameter
    return [Parameter(k, value=v) for k, v in values.items()]


def _frame(seed: int):
    return dataclasses.replace(full_frame(seed), stamp_ns=2_000_000_000 + seed)


def test_a_prefix_reaches_the_server_and_gives_the_local_chunk(rclpy_init, bundles):
    local = PolicyRuntime.from_bundle(bundles['aware'])
    rng = np.random.default_rng(4)
    prefix = ActionPrefix(rng.uniform(-0.5, 0.5, (3, 7)), 4)
    client = Client(rclpy_init, bundles['aware'])
    try:
        frame = _frame(1)
        got = client.ask(frame, prefix)
        np.testing.assert_allclose(got, local.infer(frame, prefix).actions, rtol=0, atol=1e-9)
        without = local.infer(frame).actions  # d = 0: the prefix changed the chunk
        assert np.abs(got - without).max() > 1e-4
        # an older robot sends no prefix: d = 0, as its first chunk always is
        old = _frame(2)
        np.testing.assert_allclose(client.ask(old), local.infer(old).actions, rtol=0, atol=1e-9)
    finally:
        client.close()


def test_a_bundle_without_a_prefix_input_is_served_as_before(rclpy_init, bundles):
    local = PolicyRuntime.from_bundle(bundles['plain'])
    client = Client(rclpy_init, bundles['plain'])
    try:
        frame = _frame(3)
        np.testing.assert_allclose(client.ask(frame), local.infer(frame).actions,
                                   rtol=0, atol=1e-9)
    finally:
        client.close()
