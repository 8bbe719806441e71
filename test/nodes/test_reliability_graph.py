"""
Multi-process, real DDS: parameters, typos, bad messages and failed configures.

List parameters from a params file on both nodes (they used to crash at start-up),
params-file typos warned about, bad messages that leave frames complete never stop the arm,
a frame that cannot be built holds, a failed configure says why.
"""

from __future__ import annotations

import threading
import time

import cv2
from helpers.policy_graph import set_streams, start_graph
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.slow]
JOINTS = [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]
LIST_PARAMS = {
    'cameras': ['front', 'side'], 'required_cameras': ['front', 'side'],
    'camera_topics': ['/cams/front/raw', '/cams/side/compressed'],
    'compressed_cameras': ['side'], 'tactile_msg_type': 'std_msgs/msg/Float32MultiArray',
    'tactile_pad_names': ['l', 'r'], 'tactile_pad_rows': [2, 2], 'tactile_pad_cols': [2, 2],
    'tactile_pad_channels': [1, 1], 'required_modalities': ['joints', 'tactile'],
    'stamp_policy': 'arrival',  # Float32MultiArray has no header
    'dry_rn': True,  # a typo: warned about, naming dry_run (vla_policy) / nothing (sync)
}


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('bundle'), cameras=('front',))


def _stamp(msg, t_ns: int):
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(t_ns, 1_000_000_000)
    return msg


class Publisher:
    """Publishes raw + compressed cameras, joints and Float32MultiArray tactile at 20 Hz."""

    def __init__(self, node) -> None:
        from rclpy.qos import qos_profile_sensor_data
        from sensor_msgs.msg import CompressedImage, Image, JointState
        from std_msgs.msg import Float32MultiArray

        q = qos_profile_sensor_data
        self.pubs = {t: node.create_publisher(m, t, q) for t, m in (
            ('/cams/front/raw', Image), ('/cams/side/compressed', CompressedImage),
            ('/joint_states', JointState), ('/tactile/array', Float32MultiArray))}
        self.types = (Image, CompressedImage, JointState, Float32MultiArray)
        self.node = node
        rgb = np.zeros((48, 64, 3), np.uint8)
        rgb[:, :32, 0] = 255
        self.jpeg = cv2.imencode('.jpg', cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        image_t, comp_t, joint_t, tac_t = self.types
        while not self._stop.is_set():
            t = self.node.get_clock().now().nanoseconds
            img = _stamp(image_t(height=48, width=64, encoding='rgb8', step=64 * 3), t)
            img.data = bytes(48 * 64 * 3)
            comp = _stamp(comp_t(format='jpeg'), t)
            comp.data = self.jpeg
            self.pubs['/cams/side/compressed'].publish(comp)
            self.pubs['/joint_states'].publish(
                _stamp(joint_t(name=JOINTS, position=[0.1] * len(JOINTS)), t))
            self.pubs['/tactile/array'].publish(tac_t(data=[0.5] * 8))
            time.sleep(0.005)
            self.pubs['/cams/front/raw'].publish(img)
            time.sleep(0.045)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)


def _params_file(tmp_path, node_name: str, params: dict):
    path = tmp_path / f'{node_name}.yaml'
    path.write_text(yaml.safe_dump({node_name: {'ros__parameters': params}}))
    return path


@pytest.mark.timeout(90)
def test_list_parameters_from_a_params_file_on_both_nodes(tmp_path, listener, bundle):
    from vla_ros_msgs.msg import MultimodalFrame

    frames = []
    listener.node.create_subscription(MultimodalFrame, '/multimodal_sync/frame',
                                      lambda m: frames.append(m), 10)
    sync = NodeProcess('multimodal_sync', ros_args(
        [_params_file(tmp_path, 'multimodal_sync', LIST_PARAMS)]),
        log_path=tmp_path / 'sync.log')
    policy = NodeProcess('vla_policy', ros_args([_params_file(tmp_path, 'vla_policy', {
        **LIST_PARAMS, 'bundle': str(bundle), 'autostart': True, 'controler.kind': 'x'})]),
        log_path=tmp_path / 'policy.log')
    with sync, policy, Publisher(listener.node):
        got = wait_until(lambda: any(
            dict(zip(m.modalities, m.present)).get('image/side') for m in list(frames)), 40)
        assert got, sync.log_tail()
        m = next(m for m in list(frames) if dict(zip(m.modalities, m.present))['image/side'])
        present = dict(zip(m.modalities, m.present))
        assert present['image/front'] and present['tactile'] and present['joints']
        assert [p.name for p in m.tactile.pads] == ['l', 'r'] and len(m.tactile.values) == 8
        side = np.frombuffer(bytes(m.images[1].data), np.uint8).reshape(48, 64, 3)
        assert side[:, :32, 0].mean() > 200 and side[:, 32:, 0].mean() < 50  # decoded jpeg
        assert listener.wait_state('idle', 30.0), policy.log_tail()
        sync.check_alive()
        policy.check_alive()
    sync_log, policy_log = sync.log_tail(), policy.log_tail()
    assert "unknown parameter 'dry_rn'" in sync_log
    assert "unknown parameter 'dry_rn' ignored" in policy_log
    assert "did you mean 'dry_run'" in policy_log
    assert "did you mean 'controller.kind'" in policy_log


def _bad_image():
    from sensor_msgs.msg import Image

    msg = Image(height=64, width=64, encoding='bogus', step=64 * 3)
    msg.header.stamp.sec = int(time.time())
    msg.data = bytes(10)
    return msg


@pytest.mark.timeout(120)
def test_bad_messages_among_good_ones_do_not_stop_the_arm(tmp_path, listener, bundle):
    """
    Bad messages among good ones do not stop the arm.

    One bad image among good ones used to flip the node between running and holding; now
    it is counted, and only a frame that cannot be built (joints gone) holds.
    """
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    pub = listener.node.create_publisher(Image, '/camera/front/image_raw',
                                         qos_profile_sensor_data)
    procs = start_graph(tmp_path, bundle, {'hold_latch_s': 0.0})
    try:
        assert listener.wait_state('idle', 40.0), procs[1].log_tail()
        listener.command('pick up the red cube')
        assert listener.wait_state('running', 20.0), procs[1].log_tail()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0:  # bad images at ~20 Hz, between the good 30 Hz
            pub.publish(_bad_image())
            time.sleep(0.05)
        window = [s for _, s in listener.since(listener.status, t0 + 0.2)]
        traj = listener.since(listener.traj, t0)
        assert window, 'no status during the bad stream'
        running = sum(s.state_name == 'running' for s in window)
        assert running >= 0.9 * len(window), [(s.state_name, s.reason) for s in window]
        assert not any('bogus' in s.reason for s in window)
        assert len(traj) >= 0.5 * 50 * 3.0, len(traj)  # the arm kept being commanded
        import rclpy
        set_streams(rclpy, listener.node, ['camera', 'audio', 'tactile'])
        t1 = time.monotonic()
        assert listener.wait_state('holding', 5.0), listener.last_status()
        held = time.monotonic() - t1
        assert 'joints' in listener.last_status().reason
        print(f'hold after joints stopped: {held * 1e3:.0f} ms')
        for p in procs:
            p.check_alive()
    finally:
        for p in procs:
            p.stop()


@pytest.mark.timeout(60)
def test_failed_configure_publishes_a_fault_status(tmp_path, listener):
    policy = NodeProcess('vla_policy', ros_args(params={
        'bundle': str(tmp_path / 'no_such_bundle'), 'autostart': True}),
        log_path=tmp_path / 'policy.log')
    with policy:
        assert listener.wait_state('fault', 30.0), policy.log_tail()
        reason = listener.last_status().reason
        assert 'configure failed' in reason and 'no_such_bundle' in reason
