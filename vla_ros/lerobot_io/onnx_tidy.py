"""
Tidy an exported graph before it goes into a bundle (robot side; onnx only, torch-free).

:func:`quantize_shared_matmuls` is the int8 of graphs too large for onnxruntime's quantizer.

The TorchScript exporter de-duplicates a weight used in several places -- SmolVLA's action
expert, unrolled over ``num_steps`` denoising steps, uses each weight once per step -- by
feeding one initializer through an ``Identity`` node per use. onnxruntime removes those
nodes when it opens the session, but its dynamic quantizer runs on the file and quantizes only
MatMuls whose weight *is* an initializer: with the Identity nodes in place, int8 left the whole
language model and action expert in fp32. :func:`fold_identities` feeds such consumers the
initializer directly (exact: an Identity copies).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TWO_GB = 2 ** 31


def fold_identities(src: Path, dst: Path) -> int:
    """
    Write ``src`` to ``dst`` with every ``Identity`` of an initializer folded away.

    Chains of them (the exporter's Identity of an Identity, e.g. Diffusion Policy's GroupNorm
    constants shared across the unrolled UNet steps) fold to the initializer too. Returns the
    number of nodes removed. Graphs over 2 GB keep their weights in external data
    (``dst`` + ``.data``).
    """
    # optional heavy dependency: onnx
    import onnx

    model = onnx.load(str(src))
    g = model.graph
    inits = {i.name for i in g.initializer}
    outputs = {o.name for o in g.output}
    ident = {n.output[0]: n.input[0] for n in g.node
             if n.op_type == 'Identity' and n.output[0] not in outputs}
    alias = {}
    for out, src in ident.items():  # chains (Identity of an Identity) end at the initializer
        while src in ident:
            src = ident[src]
        if src in inits:
            alias[out] = src
    if alias:
        keep = [n for n in g.node if not (n.op_type == 'Identity' and n.output[0] in alias)]
        for n in keep:
            for i, name in enumerate(n.input):
                if name in alias:
                    n.input[i] = alias[name]
        del g.node[:]
        g.node.extend(keep)
    big = sum(len(i.raw_data) for i in g.initializer) >= TWO_GB - 2 ** 26  # + the graph
    onnx.save_model(model, str(dst), save_as_external_data=big, all_tensors_to_one_file=True,
                    location=Path(dst).name + '.data', size_threshold=1024)
    return len(alias)


def quantize_shared_matmuls(src: Path, dst: Path) -> int:
    """
    Write ``src`` with every MatMul on a float initializer as int8 ``DynamicQuantizeMatMul``.

    Each weight is quantized once (symmetric per tensor, zero point 0) however many MatMuls
    share it -- what onnxruntime's ``quantize_dynamic`` makes of a MatMul, without its per-node
    graph scans, which did not finish a 100-step unrolled Diffusion Policy graph in 13 min.
    Returns the number of MatMuls rewritten.
    """
    # optional heavy dependency: onnx
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    done: dict[str, tuple[str, str, str]] = {}
    nodes, n = [], 0
    for node in g.node:
        w = inits.get(node.input[1]) if node.op_type == 'MatMul' else None
        if w is None or w.data_type != onnx.TensorProto.FLOAT or len(w.dims) != 2:
            nodes.append(node)
            continue
        if w.name not in done:
            a = numpy_helper.to_array(w)
            scale = np.float32(max(float(np.abs(a).max()), 1e-12) / 127.0)
            q = np.clip(np.rint(a / scale), -127, 127).astype(np.int8)
            names = (f'{w.name}_int8', f'{w.name}_scale', f'{w.name}_zero')
            g.initializer.extend([numpy_helper.from_array(q, names[0]),
                                  numpy_helper.from_array(np.array(scale, np.float32),
                                                          names[1]),
                                  numpy_helper.from_array(np.array(0, np.int8), names[2])])
            done[w.name] = names
        nodes.append(helper.make_node('DynamicQuantizeMatMul', [node.input[0], *done[w.name]],
                                      list(node.output), name=node.name + '_int8',
                                      domain='com.microsoft'))
        n += 1
    used = {i for node in nodes for i in node.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(keep)
    if not any(o.domain == 'com.microsoft' for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid('com.microsoft', 1))
    big = sum(len(i.raw_data) for i in g.initializer) >= TWO_GB - 2 ** 26
    onnx.save_model(model, str(dst), save_as_external_data=big, all_tensors_to_one_file=True,
                    location=Path(dst).name + '.data', size_threshold=1024)
    return n
