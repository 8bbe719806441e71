"""
BENCH runtime: onnxruntime (fp32, int8) vs torch eager, batch 1, for two policies.

- The large reference config (``ModelConfig()``): one 224x224 camera, 1 s audio (64-mel
  log-mel), two 4x4 taxel pads, 7 joints, H=16, cross_attention fusion, random weights.
- The shipped default bundle (``models/default``, ``default_*`` keys): its policy.onnx in
  onnxruntime vs torch eager on the same architecture (its ``provenance.config``; random
  weights: the time does not depend on them).

Same inputs, same thread count (1), median of timed runs. rss_mb / runtime_total_ms: a
separate process that loads a bundle with PolicyRuntime and runs it on 640x480 frames
without importing torch (peak RSS, median total incl. preprocessing). ``--table`` also prints
the per-fusion docs table. ``pi0_*``: the small pi0-shaped foreign graph's per-chunk latency
split into preprocess / run / postprocess (median, and the total's p95). ``node_*_mb``: VmRSS
(and its anon / file / shmem parts) of a running vla_policy node with the default bundle, fed
by fake_sensors over DDS, 10 s after a command (bench/_node_rss.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100

THREADS = 1
DEFAULT_BUNDLE = ROOT / 'models' / 'default'

RSS_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from vla_ros.core.frame import Frame, TactileLayout
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    rt = PolicyRuntime.from_bundle(sys.argv[1], intra_op_threads=1)
    rng = np.random.default_rng(0)
    names = rt.manifest.joint_names
    frame = Frame(stamp_ns=1, images={c: rng.integers(0, 255, (480, 640, 3), np.uint8)
                                      for c in rt.manifest.cameras},
                  audio=rng.uniform(-.3, .3, 16000).astype(np.float32),
                  tactile=rng.uniform(0, 1, 32).astype(np.float32),
                  tactile_layout=TactileLayout(('l', 'r'), ((4, 4, 1), (4, 4, 1))),
                  joint_names=names, joint_positions=np.zeros(len(names)),
                  joint_velocities=np.zeros(len(names)), command='pick up the cube',
                  present={**{f'image/{c}': True for c in rt.manifest.cameras},
                           'audio': True, 'tactile': True, 'joints': True})
    tot = [rt.infer(frame).timings_ms for _ in range(30)]
    assert 'torch' not in sys.modules
    # VmHWM (peak RSS of this process image; ru_maxrss would carry the forking parent's)
    hwm = next(int(line.split()[1]) for line in open('/proc/self/status')
               if line.startswith('VmHWM:'))
    print(json.dumps({'rss_mb': hwm / 1024,
                      'total_ms': float(np.median([t['total'] for t in tot])),
                      'pre_ms': float(np.median([t['preprocess'] for t in tot]))}))
""")


def _median_ms(fn, n: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t) * 1e3)
    return statistics.median(ts)


def _session(path: Path):
    """Make an onnxruntime CPU session with THREADS intra-op threads (as the runtime does)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = THREADS
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])


def measure(fusion: str, out: Path, n: int, int8: bool) -> dict:
    import numpy as np
    import torch

    from vla_ros.model.config import ModelConfig, tiny_model_config
    from vla_ros.model.export import export_bundle, quantize_int8
    from vla_ros.model.policy import VlaPolicyNet
    from vla_ros.model.text import ByteTextEncoder
    from vla_ros.model.train_utils import count_params, example_inputs

    torch.manual_seed(0)
    torch.set_num_threads(THREADS)
    cfg = S.pick(ModelConfig, tiny_model_config)(fusion=fusion)
    policy = VlaPolicyNet(cfg).eval()
    rep = export_bundle(policy, ByteTextEncoder(cfg.text_dim), out, model_id=f'bench-{fusion}')
    xs = example_inputs(cfg, batch=1, seed=3)
    feeds = {n_: x.numpy() for n_, x in zip(policy.input_names, xs)}
    sess = _session(out / 'policy.onnx')
    with torch.inference_mode():
        torch_ms = _median_ms(lambda: policy(*xs), n)
    ort_ms = _median_ms(lambda: sess.run(None, feeds), n)
    res = {'fusion': fusion, 'params': count_params(policy), 'onnx_mb': rep.policy_bytes / 1e6,
           'torch_ms': torch_ms, 'ort_ms': ort_ms, 'parity': rep.parity_max_abs}
    if int8:
        q = quantize_int8(out / 'policy.onnx', out.parent / f'{fusion}_int8.onnx')
        qs = _session(q)
        res['int8_ms'] = _median_ms(lambda: qs.run(None, feeds), n)
        ref, got = sess.run(None, feeds)[0], qs.run(None, feeds)[0]
        res['int8_err'] = float(np.max(np.abs(ref - got)))
        res['int8_rel'] = float(np.std(ref - got) / np.std(ref))
        res['int8_mb'] = q.stat().st_size / 1e6
    return res


def measure_default(n: int) -> dict:
    """Measure the shipped bundle's policy.onnx vs torch eager on the same architecture."""
    import torch

    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.model.config import ModelConfig
    from vla_ros.model.policy import VlaPolicyNet
    from vla_ros.model.train_utils import count_params, example_inputs

    bundle = load_bundle(DEFAULT_BUNDLE)
    cfg = ModelConfig.from_dict(bundle.manifest.provenance['config'])
    torch.manual_seed(0)
    policy = VlaPolicyNet(cfg).eval()
    xs = example_inputs(cfg, batch=1, seed=3)
    feeds = {n_: x.numpy() for n_, x in zip(policy.input_names, xs)}
    sess = _session(DEFAULT_BUNDLE / 'policy.onnx')
    assert {i.name for i in sess.get_inputs()} == set(feeds), 'config and graph disagree'
    with torch.inference_mode():
        torch_ms = _median_ms(lambda: policy(*xs), n)
    return {'ort_ms': _median_ms(lambda: sess.run(None, feeds), n), 'torch_ms': torch_ms,
            'params': count_params(policy)}


def measure_pi0(out: Path, n: int) -> dict:
    """
    Per-chunk latency split of the small pi0-shaped foreign graph (issue 12).

    The graph of vla_ros/model/reference_graphs.py (stacked front + wrist in [-1, 1], 24
    prompt tokens, state padded to 32, 5 unrolled flow steps, 50 x 32 actions sliced to 7)
    made into a bundle with ``vla-ros bundle init`` + edits; timed by ``bundle check``
    (640x480 frames).
    """
    from vla_ros.core.runtime.bundle_check import check_bundle_dir
    from vla_ros.model.reference_bundles import make_pi0_bundle

    with contextlib.redirect_stdout(io.StringIO()):  # bundle init prints its FILL_IN list
        bundle = make_pi0_bundle(out)
    return check_bundle_dir(bundle, runs=n).timings_ms


def _child(bundle: Path) -> dict:
    """Peak RSS and PolicyRuntime total of ``bundle`` in a torch-free process."""
    child = subprocess.run([sys.executable, '-c', RSS_CHILD, str(bundle)],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    if child.returncode != 0:
        raise RuntimeError(child.stderr[-2000:])
    return json.loads(child.stdout.strip().splitlines()[-1])


def _node_rss() -> dict:
    """Measure the VmRSS [MB] of a running vla_policy node, default bundle (_node_rss.py)."""
    child = subprocess.run([sys.executable, str(ROOT / 'bench' / '_node_rss.py')],
                           capture_output=True, text=True, cwd=ROOT, timeout=300)
    if child.returncode != 0:
        raise RuntimeError(child.stderr[-2000:])
    last = child.stdout.strip().splitlines()[-1]
    return {k: float(v) for k, v in (kv.split('=') for kv in last.split())}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--table', action='store_true', help='also time every fusion (docs)')
    ap.add_argument('-n', type=int, default=S.pick(60, 3), help='timed runs per measurement')
    args = ap.parse_args()
    import logging
    import warnings
    warnings.filterwarnings('ignore')
    logging.getLogger().setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        r = measure('cross_attention', Path(tmp) / 'xattn', args.n, int8=True)
        d = measure_default(args.n)
        p = measure_pi0(Path(tmp) / 'pi0', args.n)
        try:
            c, dc = _child(Path(tmp) / 'xattn'), _child(DEFAULT_BUNDLE)
            node = _node_rss()
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return 1
        rows = []
        if args.table:
            for f in ('early', 'late', 'cross_attention', 'moe'):
                rows.append(measure(f, Path(tmp) / f, args.n, int8=True))
    if rows:
        print('| fusion | params | policy.onnx fp32 | int8 | torch eager | ORT fp32 | ORT int8 '
              '| int8 error (max abs / % std) |')
        print('|---|---|---|---|---|---|---|---|')
        for x in rows:
            print(f"| {x['fusion']} | {x['params'] / 1e6:.2f} M | {x['onnx_mb']:.1f} MB | "
                  f"{x['int8_mb']:.1f} MB | {x['torch_ms']:.2f} ms | {x['ort_ms']:.2f} ms | "
                  f"{x['int8_ms']:.2f} ms | {x['int8_err']:.3f} / {100 * x['int8_rel']:.1f} % |")
    print(f"BENCH runtime ort_ms={r['ort_ms']:.2f} torch_ms={r['torch_ms']:.2f} "
          f"ratio={r['ort_ms'] / r['torch_ms']:.2f} int8_ms={r['int8_ms']:.2f} "
          f"int8_ratio={r['int8_ms'] / r['torch_ms']:.2f} int8_err={r['int8_err']:.4f} "
          f"int8_err_pct_std={100 * r['int8_rel']:.1f} rss_mb={c['rss_mb']:.0f} "
          f"runtime_total_ms={c['total_ms']:.2f} preprocess_ms={c['pre_ms']:.2f} "
          f"params_m={r['params'] / 1e6:.2f} threads={THREADS} "
          f"default_ort_ms={d['ort_ms']:.2f} default_torch_ms={d['torch_ms']:.2f} "
          f"default_ratio={d['ort_ms'] / d['torch_ms']:.2f} "
          f"default_runtime_total_ms={dc['total_ms']:.2f} default_rss_mb={dc['rss_mb']:.0f} "
          f"default_params_m={d['params'] / 1e6:.2f} "
          f"pi0_preprocess_ms={p['preprocess'][0]:.2f} pi0_run_ms={p['run'][0]:.2f} "
          f"pi0_postprocess_ms={p['postprocess'][0]:.2f} pi0_total_ms={p['total'][0]:.2f} "
          f"pi0_total_p95_ms={p['total'][1]:.2f} node_rss_mb={node['rss']:.0f} "
          f"node_anon_mb={node['anon']:.0f} node_file_mb={node['file']:.0f} "
          f"node_shmem_mb={node['shmem']:.0f}{S.tag()}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
