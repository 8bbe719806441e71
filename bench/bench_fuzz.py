"""
BENCH fuzz: hostile messages on every subscribed topic of vla_policy and multimodal_sync.

Graph (real processes, real DDS): fake_sensors (the valid stream: 2 cameras 64x64 at 30 Hz,
audio, tactile, joints) -> multimodal_sync and vla_policy (random bundle, dry_run false,
joint limits of config/sim.yaml, max_message_bytes = CAP). This process commands the policy,
listens to ~/frame, ~/action_chunk, ~/status, /diagnostics and the controller topics.

Two phases of FUZZ_SECONDS each (env, default 60) in one run: clean (valid stream only), then
fuzz (the valid stream plus hypothesis-generated messages from bench/_fuzz_msgs.py at
FUZZ_RATE_HZ, default 100: encodings, sizes up to 1.1 x CAP, steps, NaN/Inf, 1e39 / 3e38,
odd stamps, joint names duplicated/missing, foreign tactile layouts, 1 Hz audio, hostile
commands). A fuzzed command (at most one per 5 s) is followed 0.1 s later by the valid command
again (a stop or a
rejected command holds by design). Printed:

    BENCH fuzz messages= rejected= crashes= valid_frame_ratio= policy_chunk_ratio=
    faults_latched= rss_growth_mb= out_of_limits= ...

valid_frame_ratio / policy_chunk_ratio = frames / chunks during fuzz over clean;
faults_latched = transitions of ~/status into 'fault' during fuzz; rss_growth_mb = largest
RSS growth of the two nodes (5 s after the fuzz vs the end of the clean phase);
out_of_limits = controller commands outside the configured position limits (or non-finite).
Exit 1 on a crash. ``FUZZ_SEED`` picks the hypothesis seeds (default 0); ``FUZZ_LOG_DIR``
keeps the node logs.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path
import sys
import tempfile
import threading
import time

from _fuzz_msgs import FuzzMsg, messages
import _policy_graph as G
from _procfs import proc_status, rss_mb
import _smoke as S
from hypothesis import given, HealthCheck, Phase, seed, settings
import numpy as np
from rclpy.qos import qos_profile_sensor_data
from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until
import yaml

SECONDS = float(os.environ.get('FUZZ_SECONDS', S.pick('60', '1.5')))
RATE_HZ = float(os.environ.get('FUZZ_RATE_HZ', '100'))
SEED = int(os.environ.get('FUZZ_SEED', '0'))
CAP = 4 * 1024 * 1024  # max_message_bytes of both nodes
BIG_BYTES = 512 * 1024  # at most BIG_PER_S messages larger than this per second
BIG_PER_S = float(os.environ.get('FUZZ_BIG_PER_S', '2'))
COMMAND_EVERY_S = 5.0  # at most one fuzzed command per this many seconds
RECOMMAND_AFTER_S = 0.1  # > 1 / max_command_rate_hz (20 Hz): not rate-limited
SETTLE_S = S.pick(5.0, 0.5)
RUNNING_S = S.pick(3.0, 0.5)  # running before the clean phase
COMMAND = 'pick up the red cube'
CAMERAS = ['front', 'wrist']
JOINTS = (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT)
SYNC = {'cameras': CAMERAS, 'required_cameras': ['front'], 'max_message_bytes': CAP}


def sim_limits() -> dict:
    """limits.* of vla_policy in config/sim.yaml, flattened to parameters."""
    cfg = yaml.safe_load((G.ROOT / 'config/sim.yaml').read_text())
    lim = cfg['/**/vla_policy']['ros__parameters']['limits']
    return {f'limits.{k}': v for k, v in lim.items()}


class Monitor:
    """Counts frames, chunks, faults, rejects and out-of-limit controller commands."""

    def __init__(self, limits: dict) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        from std_msgs.msg import Float64MultiArray
        from trajectory_msgs.msg import JointTrajectory
        from vla_ros_msgs.msg import ActionChunk, MultimodalFrame, PolicyStatus
        self.lo = dict(zip(limits['limits.joints'], limits['limits.lower']))
        self.hi = dict(zip(limits['limits.joints'], limits['limits.upper']))
        self.node = n = G.rclpy.create_node('bench_fuzz_monitor')
        self.lock = threading.Lock()
        self.frames: list[float] = []
        self.chunks: list[float] = []
        self.faults: list[tuple[float, str]] = []
        self.states = collections.Counter()
        self.reasons = collections.Counter()
        self.commands = 0
        self.out_of_limits: list[str] = []
        self.rejected: dict[str, int] = {}
        self.status = None
        n.create_subscription(MultimodalFrame, '/multimodal_sync/frame',
                              lambda m: self._t(self.frames), 10)
        n.create_subscription(ActionChunk, '/vla_policy/action_chunk',
                              lambda m: self._t(self.chunks), 100)
        n.create_subscription(PolicyStatus, '/vla_policy/status', self._on_status, G.LATCHED)
        n.create_subscription(JointTrajectory, '/arm_controller/joint_trajectory',
                              self._on_traj, 100)
        n.create_subscription(Float64MultiArray, '/gripper_controller/commands',
                              self._on_gripper, 100)
        n.create_subscription(DiagnosticArray, '/diagnostics', self._on_diag, 50)
        self.ex = G.SingleThreadedExecutor()
        self.ex.add_node(n)
        threading.Thread(target=self.ex.spin, daemon=True).start()

    def _t(self, store: list) -> None:
        with self.lock:
            store.append(time.monotonic())

    def _on_status(self, msg) -> None:
        with self.lock:
            prev, self.status = self.status, msg
            self.states[msg.state_name] += 1
            if msg.state_name != 'running':
                self.reasons[msg.reason[:70]] += 1
            if msg.state_name == 'fault' and (prev is None or prev.state_name != 'fault'):
                self.faults.append((time.monotonic(), msg.reason))

    def _check(self, name: str, value: float) -> None:
        lo, hi = self.lo.get(name, -np.inf), self.hi.get(name, np.inf)
        if not (np.isfinite(value) and lo - 1e-9 <= value <= hi + 1e-9):
            self.out_of_limits.append((time.monotonic(), f'{name}={value!r}'))

    def _on_traj(self, msg) -> None:
        with self.lock:
            self.commands += 1
            for p in msg.points:
                for name, v in zip(msg.joint_names, p.positions):
                    self._check(name, v)

    def _on_gripper(self, msg) -> None:
        with self.lock:
            self.commands += 1
            for v in msg.data:
                self._check(C.DEFAULT_GRIPPER_JOINT, v)

    def _on_diag(self, msg) -> None:
        with self.lock:
            for s in msg.status:
                if ': sync ' in s.name and s.name.split(': sync ')[1] != 'frames':
                    vals = {kv.key: kv.value for kv in s.values}
                    if 'rejected' in vals:
                        self.rejected[s.name] = int(vals['rejected'])

    def count(self, store: list, t0: float, t1: float) -> int:
        with self.lock:
            return sum(t0 <= t < t1 for t in store)

    def rejected_by(self, node: str) -> int:
        with self.lock:
            return sum(v for k, v in self.rejected.items() if k.startswith(node + ':'))

    def close(self) -> None:
        self.ex.shutdown()
        self.node.destroy_node()


class Fuzzer:
    """Publishes hypothesis-generated messages at RATE_HZ until a deadline."""

    def __init__(self, node, command_pub) -> None:
        from sensor_msgs.msg import Image, JointState
        from std_msgs.msg import Bool
        from vla_ros_msgs.msg import AudioChunk, TactileArray
        sensor = qos_profile_sensor_data
        self.pubs = {C.camera_topic(c): node.create_publisher(Image, C.camera_topic(c), sensor)
                     for c in CAMERAS}
        self.pubs[C.AUDIO_TOPIC] = node.create_publisher(AudioChunk, C.AUDIO_TOPIC, sensor)
        self.pubs[C.TACTILE_TOPIC] = node.create_publisher(TactileArray, C.TACTILE_TOPIC, sensor)
        self.pubs[C.JOINT_STATES_TOPIC] = node.create_publisher(JointState,
                                                                C.JOINT_STATES_TOPIC, sensor)
        self.pubs[C.COMMAND_TOPIC] = command_pub
        self.pubs[C.ESTOP_TOPIC] = node.create_publisher(Bool, C.ESTOP_TOPIC, G.LATCHED)
        self.clock = node.get_clock()
        self.sent = collections.Counter()
        self.skipped = 0
        self.unsendable = collections.Counter()
        self.bytes = 0
        self._big: collections.deque[float] = collections.deque()
        self._last_command = -1e9
        self.recommand_at: float | None = None
        self.command_pub = command_pub
        self.strategy = messages(cameras=tuple(CAMERAS), joint_names=JOINTS, cap=CAP)

    def warm_up(self) -> None:
        """Draw one message unsent: the strategy's first draw takes ~2 s, not in a phase."""
        settings(max_examples=1, deadline=None, database=None, phases=[Phase.generate],
                 suppress_health_check=list(HealthCheck))(
            given(self.strategy)(lambda m: None))()

    def _size(self, m: FuzzMsg) -> int:
        msg = m.msg
        for attr in ('data', 'values', 'position', 'name'):
            v = getattr(msg, attr, None)
            if v is not None and not isinstance(v, bool):
                return len(v) * (8 if attr in ('position', 'name') else
                                 4 if attr == 'values' else 1)
        return 0

    def send(self, m: FuzzMsg, now: float) -> None:
        size = self._size(m)
        if size > BIG_BYTES:
            while self._big and now - self._big[0] > 1.0:
                self._big.popleft()
            if len(self._big) >= BIG_PER_S:
                self.skipped += 1
                return
            self._big.append(now)
        if m.kind == 'command':
            if now - self._last_command < COMMAND_EVERY_S:
                self.skipped += 1
                return
            self._last_command = now
            self.recommand_at = now + RECOMMAND_AFTER_S
        m.stamp(self.clock.now().nanoseconds)
        try:
            self.pubs[m.topic].publish(m.msg)
        except Exception as e:  # noqa: BLE001 - what rclpy refuses to send is counted
            self.unsendable[type(e).__name__] += 1
            return
        self.sent[m.kind] += 1
        self.bytes += size

    def run(self, until: float) -> None:
        period = 1.0 / RATE_HZ
        state = {'next': time.monotonic()}

        def body(m: FuzzMsg) -> None:
            now = time.monotonic()
            if now >= until:
                return
            if self.recommand_at is not None and now >= self.recommand_at:
                self.recommand_at = None
                self.command_pub.publish(G.String(data=COMMAND))
            self.send(m, now)
            state['next'] += period
            time.sleep(max(0.0, state['next'] - time.monotonic()))

        strategy = self.strategy
        chunk = 0
        while time.monotonic() < until:
            runner = seed(SEED * 100_000 + chunk)(settings(
                max_examples=100, deadline=None, database=None, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))(given(strategy)(body)))
            runner()
            chunk += 1
        if self.recommand_at is not None:
            self.command_pub.publish(G.String(data=COMMAND))


def start(tmp: Path, bundle: Path, limits: dict) -> dict[str, NodeProcess]:
    """Start the three nodes; logs in FUZZ_LOG_DIR if set (kept), else in ``tmp``."""
    tmp = Path(os.environ.get('FUZZ_LOG_DIR', tmp))
    tmp.mkdir(parents=True, exist_ok=True)
    # joint sines inside the limits of config/sim.yaml (gripper 0.005..0.035 m)
    sensors = {'cameras': CAMERAS, 'image_width': 64, 'image_height': 64,
               'camera_rate_hz': 30.0, 'joint_center': [0.0] * 6 + [0.02],
               'joint_amplitude': [0.3] * 6 + [0.015]}
    policy = {**G.POLICY, **SYNC, **limits, 'bundle': str(bundle),
              'gripper.controller': 'gripper_controller', 'status_rate_hz': 10.0}
    return {'fake_sensors': NodeProcess('fake_sensors', ros_args(params=sensors),
                                        log_path=tmp / 'fs.log').start(),
            'multimodal_sync': NodeProcess('multimodal_sync', ros_args(params=SYNC),
                                           log_path=tmp / 'sync.log').start(),
            'vla_policy': NodeProcess('vla_policy', ros_args(params=policy),
                                      log_path=tmp / 'vp.log').start()}


def rss(procs: dict[str, NodeProcess]) -> dict[str, float]:
    return {k: rss_mb(procs[k].proc.pid) for k in ('multimodal_sync', 'vla_policy')}


def rss_parts(procs: dict[str, NodeProcess]) -> dict[str, str]:
    """anon/shmem split of the RSS [MB] (shared-memory transport pages count as shmem)."""
    out = {}
    for k in ('multimodal_sync', 'vla_policy'):
        st = proc_status(procs[k].proc.pid)
        out[k] = f'anon {st.get("RssAnon", 0) / 1024:.0f} shmem {st.get("RssShmem", 0) / 1024:.0f}'
    return out


def main() -> int:
    from vla_ros.model.config import tiny_model_config
    G.rclpy.init()
    limits = sim_limits()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = S.random_bundle(tmp / 'bundle', tiny_model_config(cameras=tuple(CAMERAS)))
        load0 = G.load_avg()
        mon = Monitor(limits)
        cmd_pub = mon.node.create_publisher(G.String, C.COMMAND_TOPIC, G.LATCHED)
        fuzzer = Fuzzer(mon.node, cmd_pub)
        procs = start(tmp, bundle, limits)
        fuzzer.warm_up()  # while the nodes start
        crashed: list[str] = []
        try:
            if not (wait_until(lambda: mon.status is not None
                               and mon.status.state_name == 'idle', 60.0)
                    and wait_until(lambda: len(mon.frames) > 10, 30.0)):
                for p in procs.values():
                    print(f'--- {p.executable}\n{p.log_tail(3000)}', file=sys.stderr)
                return 1
            cmd_pub.publish(G.String(data=COMMAND))
            wait_until(lambda: mon.status.state_name == 'running', 20.0)
            time.sleep(RUNNING_S)
            t0 = time.monotonic()
            time.sleep(SECONDS)
            t1 = time.monotonic()
            parts0 = rss_parts(procs)
            rss0, rej0 = rss(procs), (mon.rejected_by('multimodal_sync'),
                                      mon.rejected_by('vla_policy'))
            faults0 = len(mon.faults)
            fuzzer.run(t1 + SECONDS)
            t2 = time.monotonic()
            time.sleep(SETTLE_S)
            rss1, parts1 = rss(procs), rss_parts(procs)
            rej1 = (mon.rejected_by('multimodal_sync'), mon.rejected_by('vla_policy'))
            crashed = [k for k, p in procs.items() if not p.alive()]
        finally:
            codes = {k: p.stop() for k, p in procs.items()}
            mon.close()
        ool = [t for t, _ in mon.out_of_limits]
        ool_clean = sum(t < t1 for t in ool)
        clean_f, fuzz_f = mon.count(mon.frames, t0, t1), mon.count(mon.frames, t1, t2)
        clean_c, fuzz_c = mon.count(mon.chunks, t0, t1), mon.count(mon.chunks, t1, t2)
        growth = {k: rss1[k] - rss0[k] for k in rss0}
        sent = sum(fuzzer.sent.values())
        print(f'fuzz sent by kind {dict(fuzzer.sent)}, skipped (rate caps) {fuzzer.skipped}, '
              f'unsendable {dict(fuzzer.unsendable)}, {fuzzer.bytes / 1e6:.0f} MB; '
              f'frames clean/fuzz {clean_f}/{fuzz_f}, chunks {clean_c}/{fuzz_c}; '
              f'rss before {rss0} {parts0} after {rss1} {parts1}; '
              f'exit codes {codes}; crashed {crashed}; '
              f'faults {mon.faults[faults0:][:5]}; states {dict(mon.states)}; '
              f'non-running reasons {mon.reasons.most_common(8)}; '
              f'out of limits (first) {[v for _, v in mon.out_of_limits[:5]]}', file=sys.stderr)
        print(f'BENCH fuzz messages={sent} rejected={rej1[0] - rej0[0]} '
              f'crashes={len(crashed)} valid_frame_ratio={fuzz_f / max(1, clean_f):.3f} '
              f'policy_chunk_ratio={fuzz_c / max(1, clean_c):.3f} '
              f'faults_latched={len(mon.faults) - faults0} '
              f'rss_growth_mb={max(growth.values()):.1f} '
              f'out_of_limits={len(mon.out_of_limits)} '
              f'out_of_limits_before_fuzz={ool_clean} rejected_policy={rej1[1] - rej0[1]} '
              f'rss_growth_mb_sync={growth["multimodal_sync"]:.1f} '
              f'rss_growth_mb_policy={growth["vla_policy"]:.1f} '
              f'controller_commands={mon.commands} seconds={SECONDS:.0f} '
              f'rate_hz={sent / max(1e-9, t2 - t1):.0f} seed={SEED} '
              f'load1={load0:.1f}..{G.load_avg():.1f}{S.tag()}')
        return 1 if crashed else 0


if __name__ == '__main__':
    sys.exit(main())
