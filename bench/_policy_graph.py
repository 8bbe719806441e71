"""Shared by bench_control and bench_e2e: a fake_sensors + vla_policy graph and a listener."""

from __future__ import annotations

import os
import pathlib
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(ROOT / 'config/fastdds_shm.xml'))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(150 + os.getpid() % 50))

import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402
from std_msgs.msg import String  # noqa: E402
from trajectory_msgs.msg import JointTrajectory  # noqa: E402
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until  # noqa: E402
from vla_ros.qos import LATCHED_QOS, SENSOR_QOS  # noqa: E402
from vla_ros_msgs.msg import ActionChunk, PolicyStatus  # noqa: E402

LATCHED = LATCHED_QOS  # the command topic's profile (bench_fuzz uses G.LATCHED too)
SENSORS = {'cameras': ['front'], 'image_width': 640, 'image_height': 480,
           'camera_rate_hz': 30.0}
POLICY = {'autostart': True, 'dry_run': False, 'control_rate_hz': 50.0,
          'cameras': ['front'], 'required_cameras': ['front'], 'scheduler.smoothing': 'none',
          'status_rate_hz': 50.0}


def start(tmp: pathlib.Path, bundle: pathlib.Path, policy: dict,
          sensors: dict | None = None) -> list[NodeProcess]:
    return [NodeProcess('fake_sensors', ros_args(params={**SENSORS, **(sensors or {})}),
                        log_path=tmp / 'fs.log').start(),
            NodeProcess('vla_policy', ros_args(params={**POLICY, 'bundle': str(bundle),
                                                       **policy}),
                        log_path=tmp / 'vp.log').start()]


class Recorder:
    """Receipt times (wall ns) of trajectories, chunks, status and (optionally) images."""

    def __init__(self, images: bool = False) -> None:
        self.node = rclpy.create_node('bench_policy_listener')
        self.lock = threading.Lock()
        self.traj, self.chunks, self.status, self.images = [], [], [], []
        self.probe = []  # the bare-timer baseline (bench/_timer_probe.py)
        self.recording = True
        n = self.node
        n.create_subscription(JointTrajectory, '/arm_controller/joint_trajectory',
                              self._rec(self.traj), 100)
        n.create_subscription(JointTrajectory, '/bench_probe/joint_trajectory',
                              self._rec(self.probe), 100)
        n.create_subscription(ActionChunk, '/vla_policy/action_chunk', self._rec(self.chunks),
                              100)
        n.create_subscription(PolicyStatus, '/vla_policy/status', self._rec(self.status), 100)
        if images:
            n.create_subscription(Image, '/camera/front/image_raw', self._rec(self.images),
                                  SENSOR_QOS)
        self.cmd = n.create_publisher(String, '/vla/command', LATCHED)
        self.ex = SingleThreadedExecutor()
        self.ex.add_node(n)
        threading.Thread(target=self.ex.spin, daemon=True).start()

    def _rec(self, store):
        def cb(msg):
            t = time.time_ns()
            if self.recording:
                with self.lock:
                    store.append((t, msg))
        return cb

    def wait_state(self, name: str, timeout_s: float) -> bool:
        return wait_until(lambda: bool(self.status) and
                          self.status[-1][1].state_name == name, timeout_s)

    def close(self) -> None:
        self.ex.shutdown()
        self.node.destroy_node()


def load_avg() -> float:
    """1-minute load average of the machine (the benches run on a shared one)."""
    return os.getloadavg()[0]


def jitter_ms(receipt_ns, period_s: float = 0.02):
    """|receipt period - period| [ms] of receipt times [ns] (numpy array)."""
    import numpy as np
    t = np.asarray(receipt_ns, dtype=np.float64) * 1e-9
    return np.abs(np.diff(t) - period_s) * 1e3


def stamp_ns(t) -> int:
    return t.sec * 1_000_000_000 + t.nanosec
