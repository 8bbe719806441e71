"""
Serving variants of a bundle built by bench_real_vla.py: quantization, threads, optimization.

``python bench/_serve_variants.py out/bench/real_vla/diffusion`` times ``PolicyRuntime.infer``
(one process per variant, as bench_real_vla.py's ``serve``) for: fp32 and int8 (the bench's
bundles) with 1 and 2 intra-op threads and graph optimization ``all`` / ``basic``, and int8
with the convolutions quantized too (``ConvInteger``: the ResNet's; made here as
``<prefix>_int8conv``). Prints one line per variant: p50 / p95 ms and the max deviation from
the fp32 chunk in action std. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
import shutil
import sys

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_real_vla import serve  # noqa: E402, I100  (beside this script)

RUNS = 3


def int8_conv(fp32: Path, dst: Path) -> Path:
    """Quantize MatMul, Gemm and Conv weights (dynamic int8) into a copy of the bundle."""
    from onnxruntime.quantization import quantize_dynamic, QuantType
    from vla_ros.core.bundle.manifest import write_manifest
    import yaml

    if (dst / 'bundle.yaml').exists():
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    logging.getLogger().setLevel(logging.ERROR)
    quantize_dynamic(str(fp32 / 'policy.onnx'), str(dst / 'policy.onnx'),
                     weight_type=QuantType.QInt8, op_types_to_quantize=['MatMul', 'Gemm', 'Conv'])
    raw = yaml.safe_load((fp32 / 'bundle.yaml').read_text())
    raw['provenance']['int8'] = 'MatMul, Gemm, Conv'
    raw.pop('files', None)
    write_manifest(dst, raw)
    return dst


def main() -> int:
    prefix = Path(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else RUNS
    fp32, int8 = Path(f'{prefix}_fp32'), Path(f'{prefix}_int8')
    conv = int8_conv(fp32, Path(f'{prefix}_int8conv'))
    import yaml

    std = np.asarray(yaml.safe_load((fp32 / 'bundle.yaml').read_text())
                     ['action']['normalization']['std'])
    ref = None
    for bundle, threads, opt in ((fp32, 1, 'all'), (int8, 1, 'all'), (conv, 1, 'all'),
                                 (int8, 1, 'basic'), (fp32, 2, 'all'), (int8, 2, 'all')):
        os.environ['VLA_BENCH_GRAPH_OPT'] = opt
        res, chunk = serve(bundle, threads, runs)
        ref = chunk if ref is None else ref
        err = float(np.max(np.abs(chunk - ref) / std))
        print(f'{bundle.name} threads={threads} opt={opt}: p50 {res["p50"]:.0f} ms '
              f'p95 {res["p95"]:.0f} ms rss {res["rss_mb"]:.0f} MB err_std {err:.3f} '
              f'load1 {os.getloadavg()[0]:.1f}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
