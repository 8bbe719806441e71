"""
``BENCH real_vla``: LeRobot's SmolVLA and Diffusion Policy at real size, served, against LeRobot.

A randomly initialised SmolVLA (450 M parameters; built by LeRobot's classes with a SmolVLM2-500M
stand-in, docs/lerobot.md) and Diffusion Policy (263 M, LeRobot's defaults: ResNet18, UNet
512/1024/2048, 100 DDPM steps, 2 observations) are saved with LeRobot's ``save_pretrained`` into
``out/bench/real_vla/<type>_ckpt``, exported with ``vla-ros export --from-lerobot`` (parity with
LeRobot's pipeline in units of the action std) and quantized (int8 dynamic MatMul weights).
All are cached there: delete ``<type>_*`` to rebuild (the exports take minutes). Keys are
prefixed by the policy type; ``--only smolvla`` / ``--only diffusion`` runs one of them (the
line then has that type's keys only).

Per chunk, one 640x480 camera (the dataset size: no resize before the graph), a command, the
state: p50 / p95 of ``PolicyRuntime.infer`` (fp32 and int8, ``--threads`` intra-op threads
(default 1), each in a fresh process; peak RSS = its VmHWM) and of LeRobot's own preprocessor
-> ``predict_action_chunk`` -> postprocessor in torch with the same thread count, same run.
``served`` is the faster onnxruntime configuration; ``int8_err_std`` the int8 chunk's max
deviation from fp32 in units of the action std. The load average is printed: the machine is shared.

``<type>_node_rss_mb``: the running ``vla_policy`` node's VmRSS with the served bundle
(bench/_node_rss.py).

``--smoke``: the reduced test-size policies, 2 runs each (a quick check that it all runs).
``VLA_BENCH_REAL_VLA_CACHE=DIR``: take the cache from DIR instead (``<type>_ckpt``,
``<type>_fp32``, ``<type>_export.json`` prebuilt there are used, the rest is built there):
test/test_bench_smoke.py passes the reduced exports the LeRobot tests already made.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _smoke as S  # noqa: E402, I100  (beside this script)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / 'out' / 'bench' / 'real_vla'
CACHE_ENV = 'VLA_BENCH_REAL_VLA_CACHE'  # a cache directory to use instead of OUT
THREADS = 1  # vla_policy's shipped intra-op setting (a core left to the control thread)
RUNS = 5
CAMERA = 'front=480x640'
FIRST_CHUNK_S = 300.0  # session open + a first chunk of seconds on a loaded machine
# per policy type: dataset fps (Diffusion: its 2 observations 1 / fps apart), files beside the
# graph, runs at full size (a Diffusion chunk is 100 UNet passes: seconds)
# int8: onnxruntime's quantize_dynamic for SmolVLA; for Diffusion each shared weight quantized
# once (vla_ros/lerobot_io/onnx_tidy.py: quantize_dynamic did not finish its 100-step graph)
POLICIES = {'smolvla': {'fps': 30.0, 'files': ['tokenizer.json'], 'runs': RUNS,
                        'shared_int8': False},
            'diffusion': {'fps': 10.0, 'files': [], 'runs': 3, 'shared_int8': True}}

CHILD = r"""
import json, os, sys, time
import numpy as np
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
rt = PolicyRuntime.from_bundle(sys.argv[1], intra_op_threads=int(sys.argv[2]),
                               graph_optimization=os.environ.get('VLA_BENCH_GRAPH_OPT', 'all'))
m = rt.manifest
img = next(s for s in m.inputs if s.kind == 'image').preprocessing['size']
names = m.joint_names
ms, out = [], None
for i in range(int(sys.argv[3]) + 1):
    f = Frame(stamp_ns=1_000_000_000, images={'front': np.random.default_rng(i).integers(
              0, 256, (*img, 3), np.uint8)}, joint_names=names,
              joint_positions=np.linspace(-0.3, 0.3, len(names)),
              joint_velocities=np.zeros(len(names)), command='pick up the red cube',
              present={'image/front': True, 'joints': True, 'language': True})
    t0 = time.monotonic()
    a = rt.infer(f).actions
    if i:
        ms.append((time.monotonic() - t0) * 1e3)
    else:
        out = a
np.save(sys.argv[4], out)
hwm = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM'))
print(json.dumps({'p50': float(np.percentile(ms, 50)), 'p95': float(np.percentile(ms, 95)),
                  'rss_mb': hwm / 1024}))
"""


def _load() -> str:
    return '{:.1f}'.format(os.getloadavg()[0])


def build(out: Path, kind: str, *, reduced: bool) -> dict:
    """Checkpoint (LeRobot side), fp32 bundle with parity, int8 bundle; cached in ``out``."""
    from vla_ros.core.bundle.manifest import write_manifest
    from vla_ros.lerobot_io.onnx_tidy import quantize_shared_matmuls
    from vla_ros.lerobot_io.runner import run_worker
    from vla_ros.lerobot_io.to_bundle import from_lerobot
    from vla_ros.model.export import quantize_int8
    import yaml

    ckpt, fp32, int8 = out / f'{kind}_ckpt', out / f'{kind}_fp32', out / f'{kind}_int8'
    info = out / f'{kind}_export.json'
    if not (ckpt / 'model.safetensors').exists():
        run_worker([f'{kind}-checkpoint', str(ckpt),
                    *(['--reduced'] if reduced else ['--camera', CAMERA])], quiet=True)
    if not info.exists():
        shutil.rmtree(fp32, ignore_errors=True)
        b = from_lerobot(ckpt, fp32, run_worker=lambda a: run_worker(a, quiet=True),
                         fps=POLICIES[kind]['fps'], model_id=f'lerobot-{kind}')
        info.write_text(json.dumps({'parity_std': b.parity_std}))
    if not (int8 / 'bundle.yaml').exists():
        shutil.rmtree(int8, ignore_errors=True)
        int8.mkdir(parents=True)
        if POLICIES[kind]['shared_int8']:
            quantize_shared_matmuls(fp32 / 'policy.onnx', int8 / 'policy.onnx')
        else:
            quantize_int8(fp32 / 'policy.onnx', int8 / 'policy.onnx')
        for f in POLICIES[kind]['files']:
            shutil.copyfile(fp32 / f, int8 / f)
        raw = yaml.safe_load((fp32 / 'bundle.yaml').read_text())
        raw['provenance']['int8'] = True
        raw.pop('files', None)
        write_manifest(int8, raw)
    raw = yaml.safe_load((fp32 / 'bundle.yaml').read_text())
    return {**json.loads(info.read_text()), 'params': raw['provenance']['params'],
            'fp32': fp32, 'int8': int8, 'ckpt': ckpt,
            'std': np.asarray(raw['action']['normalization']['std'])}


def serve(bundle: Path, threads: int, runs: int) -> tuple[dict, np.ndarray]:
    """Latency of PolicyRuntime in a fresh process; its first chunk."""
    npy = bundle.parent / f'{bundle.name}_chunk.npy'
    res = subprocess.run([sys.executable, '-c', CHILD, str(bundle), str(threads), str(runs),
                          str(npy)], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1]), np.load(npy)


def onnx_mb(bundle: Path) -> float:
    return sum(f.stat().st_size for f in bundle.iterdir() if 'onnx' in f.name) / 1e6


def node_rss_mb(bundle: Path) -> str:
    """Return the running vla_policy's VmRSS [MB] with ``bundle`` ('nan' when it cannot run)."""
    import _node_rss
    import _policy_graph as G

    from vla_ros.core.bundle.manifest import load_bundle

    cams = list(load_bundle(bundle).manifest.cameras)  # the policy syncs only what it reads
    G.rclpy.init()
    try:
        m = _node_rss.node_rss(bundle, {'cameras': cams, 'required_cameras': cams},
                               first_chunk_s=FIRST_CHUNK_S)
        return f'{m["rss"]:.0f}'
    except RuntimeError as e:  # the node did not start / run: say so on stderr, keep the line
        print(f'node_rss of {bundle.name} failed: {str(e)[-400:]}', file=sys.stderr)
        return 'nan'
    finally:
        G.rclpy.try_shutdown()


def measure(kind: str, out: Path, threads: int, runs: int | None) -> str:
    """Build (cached), time fp32 / int8 / LeRobot torch; return this type's BENCH keys."""
    from vla_ros.lerobot_io.runner import run_worker

    runs = S.pick(runs or POLICIES[kind]['runs'], 2)
    b = build(out, kind, reduced=S.SMOKE)
    fp32, c32 = serve(b['fp32'], threads, runs)
    int8, c8 = serve(b['int8'], threads, runs)
    torch = json.loads(run_worker(['time', str(b['ckpt']), '--runs', str(runs), '--threads',
                                   str(threads)], quiet=True).strip().splitlines()[-1])
    best, name = (int8, 'int8') if int8['p50'] < fp32['p50'] else (fp32, 'fp32')
    err = float(np.max(np.abs(c8 - c32) / b['std']))
    rss = node_rss_mb(b[name])
    print(f'{kind} fp32: p50 {fp32["p50"]:.0f} ms p95 {fp32["p95"]:.0f} ms rss '
          f'{fp32["rss_mb"]:.0f} MB; int8: p50 {int8["p50"]:.0f} ms p95 {int8["p95"]:.0f} ms rss '
          f'{int8["rss_mb"]:.0f} MB; torch: p50 {torch["torch_ms_p50"]:.0f} ms p95 '
          f'{torch["torch_ms_p95"]:.0f} ms rss {torch["peak_rss_mb"]:.0f} MB; load1 {_load()}',
          file=sys.stderr)
    k = kind
    return (f'{k}_params_m={b["params"] / 1e6:.0f} {k}_parity={b["parity_std"]:.1e} '
            f'{k}_onnx_mb={onnx_mb(b["fp32"]):.0f} {k}_int8_onnx_mb={onnx_mb(b["int8"]):.0f} '
            f'{k}_fp32_ms_p50={fp32["p50"]:.0f} {k}_fp32_ms_p95={fp32["p95"]:.0f} '
            f'{k}_served_ms_p50={best["p50"]:.0f} {k}_served_ms_p95={best["p95"]:.0f} '
            f'{k}_served={name} {k}_torch_ms_p50={torch["torch_ms_p50"]:.0f} '
            f'{k}_torch_ms_p95={torch["torch_ms_p95"]:.0f} '
            f'{k}_speedup_vs_torch={torch["torch_ms_p50"] / best["p50"]:.2f} '
            f'{k}_int8_err_std={err:.3f} {k}_ort_rss_mb={best["rss_mb"]:.0f} '
            f'{k}_torch_rss_mb={torch["peak_rss_mb"]:.0f} {k}_node_rss_mb={rss}')


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=THREADS)
    ap.add_argument('--runs', type=int, default=None, help='per type (smolvla 5, diffusion 3)')
    ap.add_argument('--only', choices=sorted(POLICIES), action='append',
                    help='run this policy type only (repeatable)')
    a = ap.parse_args()
    out = Path(os.environ[CACHE_ENV]) if os.environ.get(CACHE_ENV) else S.out_dir(OUT)
    out.mkdir(parents=True, exist_ok=True)
    load0 = _load()
    keys = [measure(k, out, a.threads, a.runs) for k in (a.only or list(POLICIES))]
    print(f'BENCH real_vla {" ".join(keys)} threads={a.threads} load1={load0}..{_load()}'
          f'{S.tag()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
