"""
Smaller ONNX files for frozen pretrained weights: fp16 storage, fp32 compute.

The TorchScript exporter writes the frozen MiniLM weights as ``Constant`` nodes (90 MB). They
become fp16 initializers behind one ``Cast`` to fp32 each: half the file, every operator still
runs in fp32 (onnxruntime folds the casts once, when the session is created), and the output
differs from the fp32 graph by float16 rounding of the weights only (checked by the exporter's
parity step).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MIN_FP16_ELEMENTS = 1024  # smaller tensors (shapes, scalars, biases of size < 1k) stay as they are


def store_weights_fp16(path: Path) -> tuple[int, int]:
    """
    Rewrite ``path`` with its large fp32 constants stored as fp16 (+ Cast to fp32).

    Returns (bytes before, bytes after).
    """
    # optional heavy dependency: onnx
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    before = path.stat().st_size
    model = onnx.load(str(path))
    graph = model.graph
    nodes, casts, inits = [], [], []
    for node in graph.node:
        value = _constant_value(node)
        if value is not None and value.dtype == np.float32 and value.size >= MIN_FP16_ELEMENTS:
            half = f'{node.output[0]}__fp16'
            inits.append(numpy_helper.from_array(value.astype(np.float16), half))
            casts.append(helper.make_node('Cast', [half], [node.output[0]],
                                          to=TensorProto.FLOAT))
        else:
            nodes.append(node)
    for init in graph.initializer:
        value = numpy_helper.to_array(init)
        if value.dtype == np.float32 and value.size >= MIN_FP16_ELEMENTS:
            half = f'{init.name}__fp16'
            inits.append(numpy_helper.from_array(value.astype(np.float16), half))
            casts.append(helper.make_node('Cast', [half], [init.name], to=TensorProto.FLOAT))
        else:
            inits.append(init)
    del graph.node[:]
    graph.node.extend(casts + nodes)
    del graph.initializer[:]
    graph.initializer.extend(inits)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return before, path.stat().st_size


def _constant_value(node) -> np.ndarray | None:
    # optional heavy dependency: onnx
    from onnx import numpy_helper
    if node.op_type != 'Constant' or len(node.attribute) != 1:
        return None
    attr = node.attribute[0]
    return numpy_helper.to_array(attr.t) if attr.name == 'value' else None
