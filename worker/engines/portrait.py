"""Portraits: a DCGAN face from a seed, or the face in the user's own photo, painted by the fast or Gatys engine.

GAN faces (gan-face-generate==1.1.1, trained on DigiFace-1M: research-only licence): `candidates` latents are
drawn from the seed (truncated normal, worker.core.dcgan.candidates), the face detector scores each 64 px face
and the best is kept (best of K: fewer smeared mouths and mismatched eyes), then Real-ESRGAN x4 enlarges it
(worker.engines.upscale) and a bicubic resize brings it to `size`. Latents are drawn on the CPU from the seed
alone, so the same seed and settings give the same face on every device.

Photos: the faces are found (RetinaFace, worker.core.faces), the largest is aligned by its 5 landmarks and cropped
head-and-shoulders at `size`; no face raises NoFace (the job fails with error code no_face).

Painting keeps the face: a feathered mask over the face (from the landmarks) steers the engine. Fast: the picture
is stylised at full strength and at `face_strength` times it, and the two are blended by the mask. Gatys: the
content loss weighs the face more (per-pixel content weight 1 + FACE_CONTENT_BOOST * (1 - face_strength) on the
mask). The rest of the picture is painted as before.

`out.info` carries what the job records: seed, candidate (the chosen index), candidates, truncation, faces_found
(photos), and `face`: the picture that was painted (the upscaled GAN face or the aligned crop), which the task
stores as jobs/<id>/face.png, with the face's 5 `landmarks` in it.
"""
from __future__ import annotations

import threading
from typing import Optional

import torch
from PIL import Image

from worker import device as devices
from worker import models
from worker import params as contract
from worker.core import faces as facecore
from worker.core.dcgan import Generator, candidates as draw, check_truncation, latents, slerp
from worker.core.images import to_image, to_tensor
from worker.core.retinaface import RetinaFace
from worker.engines import OnProgress, Progress, ShouldCancel

ENGINES = ("fast", "gatys")
# Defaults for the bundled face generator (the contract's, worker/params.py)
TRUNCATION, CANDIDATES = contract.GAN_TRUNCATION, contract.GAN_CANDIDATES
# How strongly the face is painted (0: not at all, 1: like the rest): the contract's default (worker/params.py),
# picked with bench/portraits.py (face detection by another detector family, landmark shift, contact sheets).
FACE_STRENGTH = contract.Portrait.model_fields["face_strength"].default
FACE_CONTENT_BOOST = 20.0  # Gatys: content weight on the face at face_strength 0 (x21), 1 (x1) in between linearly
# Landmarks of a typical DCGAN face in its 64 px frame (the mean over seeds 0..199 of the detector's landmarks):
# the mask's fallback when no candidate is detected as a face.
GAN_LANDMARKS = ((23.0, 30.1), (41.3, 29.8), (32.4, 41.6), (24.8, 50.8), (39.0, 50.6))
_GEN: dict[str, Generator] = {}
_DET: dict[str, RetinaFace] = {}
_LOCK = threading.Lock()


class NoFace(ValueError):
    """The photo has no face the detector can find; the job fails with error code no_face."""


def generator(dev: torch.device) -> Generator:
    """The pinned DCGAN generator on `dev`, loaded from the model cache once per process."""
    with _LOCK:
        if str(dev) not in _GEN:
            tensors, _ = models.load("dcgan_faces")
            net = Generator()
            net.load_state_dict(tensors, strict=False)  # BatchNorm's num_batches_tracked is not stored
            _GEN[str(dev)] = net.eval().requires_grad_(False).to(dev)
        return _GEN[str(dev)]


def detector(dev: torch.device) -> RetinaFace:
    """The RetinaFace face detector on `dev`, loaded from the model cache once per process."""
    with _LOCK:
        if str(dev) not in _DET:
            tensors, _ = models.load("retinaface")
            net = RetinaFace()
            net.load_state_dict(tensors)
            _DET[str(dev)] = net.eval().requires_grad_(False).to(dev)
        return _DET[str(dev)]


def trained(name: str, dev: torch.device) -> torch.nn.Module:
    """A generator made by `train-gan` (MODELS_DIR/generators/NAME), loaded once per process and device."""
    from worker import generators

    with _LOCK:
        key = f"{name}@{dev}"
        if key not in _GEN:
            _GEN[key] = generators.load(name, device=str(dev))[0].requires_grad_(False)
        return _GEN[key]


def _render(net: torch.nn.Module, z: torch.Tensor, dev: torch.device) -> torch.Tensor:
    with torch.inference_mode():
        return ((net(z.to(dev)).float() + 1) / 2).clamp(0, 1).cpu()


def faces(seeds: list[int], device: str = "auto", net: Optional[torch.nn.Module] = None) -> torch.Tensor:
    """(N, 3, 64, 64) raw faces in 0..1 (plain normal latents, candidate 0), one per seed, as one batch."""
    dev = devices.pick(device)
    return _render(net if net is not None else generator(dev), latents(seeds), dev)


def face(seed: int, device: str = "auto") -> Image.Image:
    """The raw 64x64 face for `seed`."""
    return to_image(faces([seed], device)[0])


def best_face(seed: int, *, truncation: Optional[float] = TRUNCATION, candidates: int = CANDIDATES,
              device: str = "auto", net: Optional[torch.nn.Module] = None) -> dict:
    """The best of `candidates` faces drawn from `seed`: {face (1, 3, 64, 64), candidate, score, landmarks
    (64 px frame, or None when no candidate looks like a face)}. Ties go to the lowest index."""
    dev = devices.pick(device)
    z = draw(seed, candidates, truncation or None)
    out = _render(net if net is not None else generator(dev), z, dev)
    if candidates == 1 and net is not None:  # a trained generator, one candidate: nothing to choose
        return {"face": out, "candidate": 0, "score": None, "landmarks": None}
    scores, dets = facecore.score(detector(dev), out)
    i = int(torch.argmax(scores))  # the first maximum
    det = dets[i]
    return {"face": out[i:i + 1], "candidate": i, "score": float(scores[i]),
            "landmarks": det.landmarks if det is not None else None}


def interpolate(a: int, b: int, frames: int, device: str = "auto") -> list[Image.Image]:
    """Faces along the spherical path between the latents of seeds a and b; the ends are exactly their faces."""
    if isinstance(frames, bool) or not isinstance(frames, int) or not 2 <= frames <= 240:
        raise ValueError(f"frames must be an integer from 2 to 240, not {frames!r}")
    za, zb = latents([a, b])
    z = torch.stack([slerp(za, zb, i / (frames - 1)) for i in range(frames)])
    dev = devices.pick(device)
    return [to_image(x) for x in _render(generator(dev), z, dev)]


def enlarge(raw: torch.Tensor, size: int, device: str) -> Image.Image:
    """The 64 px face at `size`: Real-ESRGAN x4, then a bicubic resize (antialiased when shrinking)."""
    from worker.core.images import resize
    from worker.engines import upscale

    big = to_tensor(upscale.enlarge(to_image(raw), 4, device=device))
    return to_image(resize(big, (size, size)))


def photo_face(photo: Image.Image, size: int, device: str = "auto") -> dict:
    """The largest face of `photo`, aligned and cropped head-and-shoulders: {face (PIL, size x size), landmarks
    (in the crop), faces_found}. NoFace when there is none."""
    pixels = to_tensor(photo.convert("RGB"))
    found = facecore.find(detector(devices.pick(device)), pixels)
    if not found:
        raise NoFace("no face was found in the photo; use a photo where a face is clearly visible (frontal, "
                     "not too small)")
    crop, landmarks = facecore.align(pixels, found[0].landmarks, size)
    return {"face": to_image(crop), "landmarks": landmarks.tolist(), "faces_found": len(found)}


def _check_strength(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise ValueError(f"face_strength must be a number from 0 to 1, not {v!r}")
    return float(v)


def paint(content: Image.Image, mask: torch.Tensor, style: Image.Image | None, *, preset=None, engine: str,
          size: int, face_strength: float, seed: int, device: str, report: OnProgress,
          should_cancel: Optional[ShouldCancel], snapshot_every: int, on_progress: Optional[OnProgress]):
    """Paint `content` with the face (mask (1, 1, H, W) 0..1) painted at face_strength, the rest in full."""
    if engine == "fast":
        from worker import presets as preset_table
        from worker.engines import fast

        kw = dict(preset=None if style is not None else (preset if preset is not None else 0), size=size,
                  device=device, should_cancel=should_cancel)
        full = preset_table.default_strength(kw["preset"]) if kw["preset"] is not None else 1.0
        total = 1 if face_strength >= 1 else 2
        out = fast.run(content, style, strength=full, **kw)
        report(Progress(1, total))
        if face_strength >= 1:
            return out
        soft = fast.run(content, style, strength=full * face_strength, **kw)
        report(Progress(2, total))
        m = torch.nn.functional.interpolate(mask, size=(out.height, out.width), mode="bilinear",
                                            align_corners=False)
        return to_image(m * to_tensor(soft) + (1 - m) * to_tensor(out))
    from worker.engines import gatys

    weight = 1 + mask * FACE_CONTENT_BOOST * (1 - face_strength)
    return gatys.run(content, [style], size=size, seed=seed, device=device, on_progress=on_progress,
                     should_cancel=should_cancel, snapshot_every=snapshot_every, content_mask=weight)


def run(seed: Optional[int] = None, style: Image.Image | None = None, *, photo: Optional[Image.Image] = None,
        preset=None, engine: str = "fast", size: int = 512, face_strength: Optional[float] = None,
        truncation: Optional[float] = None, candidates: Optional[int] = None, device: str = "auto",
        on_progress: Optional[OnProgress] = None, should_cancel: Optional[ShouldCancel] = None,
        snapshot_every: int = 0, generator: str | torch.nn.Module | None = None) -> Image.Image:
    """Paint the face of `seed` (a generated face) or of `photo` (the largest face in it).

    `generator`: the name of a generator made by train-gan, or a DCGAN-layout module, instead of the pinned one;
    truncation / candidates default to TRUNCATION / CANDIDATES for the pinned generator and to off / 1 for a
    trained one (so its faces stay those of its sample grid). truncation 0 is off. Without style or preset the
    fast engine uses preset 0."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if style is not None and preset is not None:
        raise ValueError("give a style image or a preset, not both")
    if engine == "gatys" and style is None:
        raise ValueError("the gatys engine needs a style image (presets belong to the fast engine)")
    lo, hi = contract.MIN_SIZE["portrait"], contract.ENGINE_MAX_SIZE["cpu"]["portrait"]
    if isinstance(size, bool) or not isinstance(size, int) or not lo <= size <= hi:
        raise ValueError(f"size must be an integer from {lo} to {hi} pixels, not {size!r}")
    if (photo is None) == (seed is None):
        raise ValueError("give a seed (a generated face) or a photo, not both and not neither")
    face_strength = _check_strength(FACE_STRENGTH if face_strength is None else face_strength)
    report = on_progress or (lambda p: None)
    info: dict = {}
    if photo is not None:
        if generator is not None or truncation is not None or candidates is not None:
            raise ValueError("generator, truncation and candidates are for generated faces, not photos")
        got = photo_face(photo, size, device)
        content, landmarks = got["face"], got["landmarks"]
        info["faces_found"] = got["faces_found"]
        seed_ = 0  # Gatys' noise seed; a photo portrait has no face seed
    else:
        custom = generator is not None
        if isinstance(generator, str):
            generator = trained(generator, devices.pick(device))
        t = (None if custom else TRUNCATION) if truncation is None else truncation
        k = (1 if custom else CANDIDATES) if candidates is None else candidates
        check_truncation(t or None)
        best = best_face(seed, truncation=t, candidates=k, device=device, net=generator)
        content = enlarge(best["face"], size, device)
        lm = best["landmarks"] or GAN_LANDMARKS
        landmarks = [(x * size / 64, y * size / 64) for x, y in lm]
        info.update(seed=seed, candidate=best["candidate"], candidates=k, truncation=t or 0)
        seed_ = seed
    mask = facecore.mask(landmarks, content.width, content.height)
    tag = {"seed": float(seed)} if seed is not None else {}
    report(Progress(0, 1, tag, preview=content))
    out = paint(content, mask, style, preset=preset, engine=engine, size=size, face_strength=face_strength,
                seed=seed_, device=device, should_cancel=should_cancel, snapshot_every=snapshot_every,
                on_progress=on_progress, report=lambda p: report(Progress(p.step, p.total, tag)))
    out.info.update(info, face=content, face_strength=face_strength, landmarks=[list(x) for x in landmarks])
    return out
