"""
Diffusion Policy's widest UNet convolution in four onnxruntime forms, and torch, per call [ms].

``Conv1d(2048, 2048, k=5)`` over a length-4 sequence (the UNet's deepest level at horizon 16),
batch 1, 1 intra-op thread: onnxruntime ``Conv`` fp32, ``ConvInteger`` (dynamic int8 /
uint8 weights), the same product as im2col ``MatMul`` fp32 and int8 (``MatMulInteger``), and
torch's ``conv1d``. Why the Diffusion export writes its UNet convolutions as MatMuls
(vla_ros/lerobot_io/diffusion_export.py). ``python bench/_conv_forms.py``.
"""

from __future__ import annotations

import logging
from pathlib import Path
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto
import onnxruntime as ort
from onnxruntime.quantization import quantize_dynamic, QuantType

C, LENGTH, K, LAYERS, RUNS = 2048, 4, 5, 3, 10


def _model(path: Path, weights: list[np.ndarray], *, conv: bool) -> None:
    shape = [1, C, LENGTH] if conv else [1, LENGTH, C * K]
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, shape)
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, None)
    if conv:
        nodes = [helper.make_node('Conv', ['x' if i == 0 else f'y{i - 1}', f'w{i}'],
                                  ['y' if i == LAYERS - 1 else f'y{i}'], pads=[K // 2] * 2,
                                  kernel_shape=[K]) for i in range(LAYERS)]
        inits = [numpy_helper.from_array(w, f'w{i}') for i, w in enumerate(weights)]
    else:  # one product per weight, summed (the same bytes streamed as the Conv chain)
        nodes = [helper.make_node('MatMul', ['x', f'w{i}'], [f'y{i}']) for i in range(LAYERS)]
        nodes.append(helper.make_node('Sum', [f'y{i}' for i in range(LAYERS)], ['y']))
        inits = [numpy_helper.from_array(w.transpose(2, 1, 0).reshape(K * C, C).copy(), f'w{i}')
                 for i, w in enumerate(weights)]
    graph = helper.make_graph(nodes, 'g', [x], [y], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)]), str(path))


def _ms(path: Path, shape: list[int]) -> float:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    s = ort.InferenceSession(str(path), so, providers=['CPUExecutionProvider'])
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for _ in range(3):
        s.run(None, {'x': x})
    ts = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        s.run(None, {'x': x})
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)) * 1e3 / LAYERS


def main() -> int:
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((C, C, K)) * 0.01).astype(np.float32) for _ in range(LAYERS)]
    logging.getLogger().setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _model(d / 'conv.onnx', weights, conv=True)
        _model(d / 'mm.onnx', weights, conv=False)
        for src, dst, op, wt in (('conv', 'conv_s8', 'Conv', QuantType.QInt8),
                                 ('conv', 'conv_u8', 'Conv', QuantType.QUInt8),
                                 ('mm', 'mm_s8', 'MatMul', QuantType.QInt8)):
            quantize_dynamic(str(d / f'{src}.onnx'), str(d / f'{dst}.onnx'), weight_type=wt,
                             op_types_to_quantize=[op])
        res = {name: _ms(d / f'{name}.onnx', [1, C, LENGTH] if 'conv' in name
                         else [1, LENGTH, C * K])
               for name in ('conv', 'conv_s8', 'conv_u8', 'mm', 'mm_s8')}
    try:
        # optional heavy dependency: torch
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        x = torch.randn(1, C, LENGTH)
        ts = []
        with torch.no_grad():
            for i in range(RUNS + 3):
                t0 = time.perf_counter()
                torch.nn.functional.conv1d(x, torch.from_numpy(weights[i % LAYERS]),
                                           padding=K // 2)
                ts.append(time.perf_counter() - t0)
        res['torch'] = float(np.median(ts[3:])) * 1e3
    print(' '.join(f'{k}_ms={v:.1f}' for k, v in res.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
