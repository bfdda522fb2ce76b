"""Faces in pictures: find them (RetinaFace), align the largest to a head-and-shoulders crop, and a soft face mask.

Pure torch, no file I/O: the caller passes the detector network (worker.engines.portrait loads it once).

- `find`: faces in a photo, largest first. Big photos are searched at `max_side` (a face of a portrait is large;
  it keeps a 12 MP photo fast); coordinates come back in the photo's pixels.
- `score`: how face-like each small picture is (the detector's best confidence), for best-of-K GAN faces. A face
  that fills its whole frame is harder to detect than one with margins (the anchors expect context), so each is
  enlarged and padded by replication before detection.
- `align`: the similarity transform (rotation, uniform scale, shift; Umeyama 1991) that maps the 5 landmarks
  best onto TEMPLATE, applied with one bilinear resample. TEMPLATE is the ArcFace 112 px face template
  (Deng et al. 2019) shrunk to a head-and-shoulders frame: eyes level at 40% height, the inter-ocular distance
  16% of the width, so hair, chin, neck and shoulder tops are in the picture.
- `mask`: a feathered ellipse over the face (brows to chin, cheek to cheek) computed from the 5 landmarks,
  1 on the face and 0 away from it.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from worker.core.images import resize
from worker.core.retinaface import Detection, RetinaFace, detect

# ArcFace's 5-point template for a 112x112 face crop: eye, eye, nose, mouth corner, mouth corner (image left first).
ARCFACE_112 = ((38.2946, 51.6963), (73.5318, 51.5014), (56.0252, 71.7366), (41.5493, 92.3655), (70.7299, 92.2041))
# Head and shoulders in a square of side 1: the ArcFace template scaled by SCALE about its eye centre, which
# lands at (0.5, EYE_Y). Chosen by looking at crops of the sample photos: the top of the hair and the shoulder
# line both inside the frame.
SCALE, EYE_Y = 0.5, 0.40
_EYE_C = ((ARCFACE_112[0][0] + ARCFACE_112[1][0]) / 2, (ARCFACE_112[0][1] + ARCFACE_112[1][1]) / 2)
TEMPLATE = tuple((0.5 + (x - _EYE_C[0]) / 112 * SCALE, EYE_Y + (y - _EYE_C[1]) / 112 * SCALE) for x, y in ARCFACE_112)


def _prepare(image: torch.Tensor) -> torch.Tensor:
    if image.dim() != 4 or image.shape[1] != 3:
        raise ValueError(f"expected a (N, 3, H, W) RGB tensor, not {tuple(image.shape)}")
    return image.float().clamp(0, 1)


def find(net: RetinaFace, image: torch.Tensor, *, threshold: float = 0.5, max_side: int = 640) -> list[Detection]:
    """Faces in one (1, 3, H, W) RGB 0..1 image, largest first, in the image's pixels."""
    image = _prepare(image)
    h, w = image.shape[-2:]
    k = min(1.0, max_side / max(h, w))
    small = resize(image, (max(1, round(w * k)), max(1, round(h * k)))) if k < 1 else image
    sx, sy = w / small.shape[-1], h / small.shape[-2]
    found = [_scaled(d, sx, sy, 0, 0) for d in detect(net, small, threshold=threshold)[0]]
    return sorted(found, key=lambda d: -d.area)


def _scaled(d: Detection, sx: float, sy: float, dx: float, dy: float) -> Detection:
    x0, y0, x1, y1 = d.box
    return Detection(d.score, ((x0 - dx) * sx, (y0 - dy) * sy, (x1 - dx) * sx, (y1 - dy) * sy),
                     tuple(((x - dx) * sx, (y - dy) * sy) for x, y in d.landmarks))


def score(net: RetinaFace, faces: torch.Tensor, *, side: int = 128, pad: float = 0.25,
          threshold: float = 0.05) -> tuple[torch.Tensor, list[Optional[Detection]]]:
    """(N,) best face confidence per image of (N, 3, h, w) 0..1 (0 where none), and that face in the image's
    pixels (None where none). Each image is enlarged to `side` and padded by `pad` of it on every side."""
    faces = _prepare(faces)
    h, w = faces.shape[-2:]
    big = F.interpolate(faces, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
    p = round(side * pad)
    big = F.pad(big, (p, p, p, p), mode="replicate")
    dets = detect(net, big, threshold=threshold)
    best = [max(d, key=lambda x: x.score) if d else None for d in dets]
    scores = torch.tensor([d.score if d else 0.0 for d in best])
    return scores, [_scaled(d, w / side, h / side, p, p) if d else None for d in best]


def similarity(src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """(2, 3) least-squares similarity transform mapping points src (K, 2) onto dst (K, 2) (Umeyama 1991)."""
    src, dst = src.double(), dst.double()
    ms, md = src.mean(0), dst.mean(0)
    s, d = src - ms, dst - md
    cov = d.T @ s / len(src)
    u, sig, vt = torch.linalg.svd(cov)
    e = torch.ones(2, dtype=torch.float64)
    if torch.det(u) * torch.det(vt) < 0:  # a reflection: flip the weakest axis
        e[-1] = -1
    r = u @ torch.diag(e) @ vt
    scale = (sig * e).sum() / s.pow(2).sum(1).mean()
    t = md - scale * r @ ms
    return torch.cat([scale * r, t[:, None]], 1).float()


def apply(m: torch.Tensor, pts) -> torch.Tensor:
    """Points (K, 2) through the (2, 3) transform m."""
    pts = torch.as_tensor(pts, dtype=torch.float32)
    return pts @ m[:, :2].T + m[:, 2]


def align(image: torch.Tensor, landmarks, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The head-and-shoulders crop (1, 3, size, size) of the face with these 5 landmarks (image pixels), and the
    landmarks in the crop's pixels. Outside the photo the edge pixels are repeated."""
    image = _prepare(image)
    src = torch.as_tensor(landmarks, dtype=torch.float32)
    dst = torch.tensor(TEMPLATE) * size
    m = similarity(src, dst)  # photo -> crop
    scale = float(m[:, :2].det().abs().sqrt())
    if scale < 0.5:  # the crop shrinks the photo more than 2x: shrink with an antialiased filter first
        h, w = image.shape[-2:]
        k = scale * 1.5
        image = resize(image, (max(1, round(w * k)), max(1, round(h * k))))
        src = src * torch.tensor([image.shape[-1] / w, image.shape[-2] / h])
        m = similarity(src, dst)
    h, w = image.shape[-2:]
    # crop pixel centres -> photo pixel coordinates -> grid_sample's -1..1 (align_corners=False)
    full = torch.cat([m, torch.tensor([[0.0, 0.0, 1.0]])]).double()
    inv = torch.linalg.inv(full)[:2].float()
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    pts = torch.stack([xs, ys], -1).reshape(-1, 2) @ inv[:, :2].T + inv[:, 2]
    grid = (pts / torch.tensor([w, h]) * 2 - 1).reshape(1, size, size, 2)
    crop = F.grid_sample(image, grid.to(image.device), mode="bilinear", padding_mode="border", align_corners=False)
    return crop.clamp(0, 1), apply(m, src)


def mask(landmarks, width: int, height: int, *, feather: float = 0.35) -> torch.Tensor:
    """(1, 1, height, width) soft face mask from 5 landmarks (pixels): 1 inside an ellipse over brows to chin and
    cheek to cheek, falling smoothly to 0 over `feather` of the ellipse's radius."""
    p = torch.as_tensor(landmarks, dtype=torch.float32)
    eyes, mouth = (p[0] + p[1]) / 2, (p[3] + p[4]) / 2
    iod = float((p[1] - p[0]).norm()) or 1.0
    down = mouth - eyes
    d = float(down.norm()) or iod
    down = down / d
    across = torch.stack([-down[1], down[0]])  # perpendicular to the face's vertical axis
    centre = eyes + down * 0.45 * d  # between the brows and the chin
    rx, ry = 1.1 * iod, 1.55 * d
    ys, xs = torch.meshgrid(torch.arange(height) + 0.5, torch.arange(width) + 0.5, indexing="ij")
    v = torch.stack([xs, ys], -1) - centre
    r = ((v @ across / rx) ** 2 + (v @ down / ry) ** 2).sqrt()
    t = ((1 + feather / 2 - r) / feather).clamp(0, 1)
    return (t * t * (3 - 2 * t))[None, None]  # smoothstep


def eye_distance(landmarks) -> float:
    p = torch.as_tensor(landmarks, dtype=torch.float32)
    return float((p[1] - p[0]).norm())


def shift(a, b) -> float:
    """Mean distance between two sets of 5 landmarks, in inter-ocular distances of `a`."""
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    return float((a - b).norm(dim=1).mean()) / max(eye_distance(a), 1e-6)


