"""
Resident memory of a running ``vla_policy`` node (``node_rss_mb`` of BENCH runtime).

fake_sensors (two 640x480 rgb8 cameras at 30 Hz, audio, tactile, joint states) -> vla_policy
with the bundle, its shipped parameters and the launch files' Fast DDS profile
(config/fastdds_policy.xml) (commanding, 50 Hz) over DDS; a command is given
and, after ``WARMUP_S`` of running, the node process's ``VmRSS`` is read from /proc, with its
parts (``RssAnon``: heap, arenas, buffers; ``RssFile``: code and mapped files; ``RssShmem``:
the Fast DDS shared-memory segments it maps, the camera publisher's included).
``python bench/_node_rss.py [BUNDLE] [param=value ...]`` prints the figures for experiments.
"""

from __future__ import annotations

from pathlib import Path
import sys
import tempfile
import time

import _policy_graph as G
from _procfs import proc_status
import _smoke as S
from vla_ros.harness.procs import NodeProcess, ros_args
import yaml

WARMUP_S = S.pick(10.0, 0.5)
SENSORS = {'cameras': ['front', 'wrist'], 'image_width': 640, 'image_height': 480,
           'camera_rate_hz': 30.0}
POLICY = {'autostart': True, 'dry_run': False, 'control_rate_hz': 50.0,
          'cameras': ['front', 'wrist'], 'required_cameras': ['front', 'wrist']}
# what the launch files give vla_policy (launch argument fastdds_profile)
POLICY_ENV = {'FASTDDS_DEFAULT_PROFILES_FILE': str(G.ROOT / 'config' / 'fastdds_policy.xml')}


def node_rss(bundle: Path, params: dict | None = None, warmup_s: float = WARMUP_S,
             first_chunk_s: float = 30.0) -> dict:
    """
    Start the graph, command the robot, return the node's memory [MB] after ``warmup_s``.

    The warm-up starts at the first chunk (waited for up to ``first_chunk_s``).

    Keys: rss, anon, file, shmem (MB), chunks (received during the warm-up).
    Needs rclpy initialised; raises RuntimeError with the node's log when it does not start.
    """
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        procs = [NodeProcess('fake_sensors', ros_args(params=SENSORS),
                             log_path=tmp / 'fs.log').start(),
                 NodeProcess('vla_policy', ros_args(params={**POLICY, 'bundle': str(bundle),
                                                            **(params or {})}),
                             log_path=tmp / 'vp.log', env=POLICY_ENV).start()]
        rec = G.Recorder()
        try:
            if not rec.wait_state('idle', 120.0):
                raise RuntimeError(procs[1].log_tail())
            rec.cmd.publish(G.String(data='pick up the red cube'))
            # the first chunk, not the state: a chunk slower than its own span (a real VLA
            # on this CPU) arrives stale and the policy holds, but the session has run
            if not G.wait_until(lambda: bool(rec.chunks), first_chunk_s):
                raise RuntimeError(procs[1].log_tail())
            time.sleep(warmup_s)
            st = proc_status(procs[1].proc.pid)
            chunks = len(rec.chunks)
        finally:
            rec.close()
            for p in procs:
                p.stop()
    if not st:
        raise RuntimeError('vla_policy exited during the measurement')
    rss, anon, shmem = st['VmRSS'] / 1024, st['RssAnon'] / 1024, st['RssShmem'] / 1024
    return {'rss': rss, 'anon': anon, 'file': rss - anon - shmem, 'shmem': shmem,
            'chunks': chunks}


def main() -> int:
    args = sys.argv[1:]
    bundle = Path(args.pop(0)) if args and '=' not in args[0] else G.ROOT / 'models' / 'default'
    params = {k: yaml.safe_load(v) for k, v in (a.split('=', 1) for a in args)}
    G.rclpy.init()
    try:
        m = node_rss(bundle, params)
    finally:
        G.rclpy.try_shutdown()
    print(' '.join(f'{k}={v:.1f}' if isinstance(v, float) else f'{k}={v}'
                   for k, v in m.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
