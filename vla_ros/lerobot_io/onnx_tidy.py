"""
Tidy an exported graph before it goes into a bundle (robot side; onnx only, torch-free).

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
