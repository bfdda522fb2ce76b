"""Portraits: seeded truncated best-of-K faces, the photo path, no-face failures, the face mask steering the engines,
`urls.face`, the CLI, and the back-projection upscaler."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tests import fake_engine
from tests.service_util import image_bytes
from tests.test_api import client, make, post, var  # noqa: F401 (the API fixtures)
from tests.test_faces import gan_photo
from worker import tasks
from worker.core import dcgan, faces as fc
from worker.core.images import to_image, to_tensor
from worker.core.upscale import upscale
from worker.engines import portrait

CPU = torch.device("cpu")


def test_fast_portrait_size_seed_and_first_preview():
    events = []
    out = portrait.run(11, preset="2:0.5,9:0.5", size=96, device="cpu", on_progress=events.append)
    assert out.size == (96, 96) and out.info["seed"] == 11
    assert out.info["truncation"] == portrait.TRUNCATION and out.info["candidates"] == portrait.CANDIDATES
    assert events[0].preview is not None and events[0].preview.size == (96, 96)
    assert events[0].losses["seed"] == 11 and out.info["face"] is events[0].preview
    again = portrait.run(11, preset="2:0.5,9:0.5", size=96, device="cpu")
    assert np.array_equal(np.asarray(out), np.asarray(again)) and again.info["candidate"] == out.info["candidate"]
    with pytest.raises(ValueError, match="engine"):
        portrait.run(1, engine="oil")
    with pytest.raises(ValueError, match="size"):
        portrait.run(1, size=4096)
    with pytest.raises(ValueError, match="style image"):
        portrait.run(1, engine="gatys")
    with pytest.raises(ValueError, match="seed.*photo"):
        portrait.run(1, photo=Image.new("RGB", (64, 64)))


def test_candidates_are_seeded_truncated_and_renormalised():
    a = dcgan.candidates(5, 8, 1.0)
    assert a.shape == (8, 100, 1, 1) and torch.equal(a, dcgan.candidates(5, 8, 1.0))
    assert not torch.equal(a, dcgan.candidates(6, 8, 1.0)) and not torch.equal(a[0], a[1])
    assert torch.allclose(a.flatten(1).norm(dim=1), torch.full((8,), 10.0))  # the typical norm of 100 normals
    # |z| <= 1 before rescaling by 10 / |z| (|z| of 100 truncated normals is ~5.4): no component near 2.5
    assert a.abs().max() < 2.2
    plain = dcgan.candidates(5, 8)
    assert plain.abs().max() > 2.2  # an untruncated draw of 800 normals has some
    assert torch.equal(plain[0], dcgan.latents([5])[0])  # no truncation, candidate 0: the face a seed always gave
    with pytest.raises(ValueError, match="truncation"):
        dcgan.candidates(5, 2, -1.0)
    with pytest.raises(ValueError, match="candidates"):
        dcgan.candidates(5, 0)


def test_best_of_k_keeps_the_face_the_detector_rates_best():
    got = portrait.best_face(9, truncation=1.0, candidates=6, device="cpu")
    again = portrait.best_face(9, truncation=1.0, candidates=6, device="cpu")
    assert got["candidate"] == again["candidate"] and torch.equal(got["face"], again["face"])
    faces = portrait._render(portrait.generator(CPU), dcgan.candidates(9, 6, 1.0), CPU)
    scores, _ = fc.score(portrait.detector(CPU), faces)
    assert got["candidate"] == int(scores.argmax()) and got["score"] == pytest.approx(float(scores.max()))
    assert torch.equal(got["face"][0], faces[got["candidate"]]) and len(got["landmarks"]) == 5


def region_change(out: Image.Image, info: dict) -> tuple[float, float]:
    """Mean |painted - face| on the face (mask > 0.9) and away from it (mask < 0.1)."""
    m = fc.mask(info["landmarks"], out.width, out.height)[0, 0]
    d = (to_tensor(out) - to_tensor(info["face"])).abs().mean(1)[0]
    return float(d[m > 0.9].mean()), float(d[m < 0.1].mean())


def test_fast_paints_the_face_less_than_the_rest():
    soft = portrait.run(4, preset=17, size=128, device="cpu", face_strength=0.2)
    full = portrait.run(4, preset=17, size=128, device="cpu", face_strength=1.0)
    (s_in, s_out), (f_in, f_out) = region_change(soft, soft.info), region_change(full, full.info)
    assert s_in < 0.5 * f_in and s_in < 0.5 * s_out  # the face keeps more of itself...
    m = fc.mask(soft.info["landmarks"], 128, 128)[0, 0]
    away = (m == 0).numpy()
    assert np.array_equal(np.asarray(soft)[away], np.asarray(full)[away])  # ...and the rest is painted in full


def test_gatys_content_mask_keeps_the_masked_region():
    """The real Gatys core at a small size: a per-pixel content weight high on the face changes the face less."""
    from worker.core import gatys
    from worker.engines.gatys import vgg

    face = portrait.faces([4], device="cpu")
    content = F.interpolate(face, size=(128, 128), mode="bicubic").clamp(0, 1)
    style = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    lm = [(x * 2, y * 2) for x, y in portrait.GAN_LANDMARKS]
    m = fc.mask(lm, 128, 128)
    kw = dict(vgg=vgg("cpu"), size=128, steps=30, seed=0, init="content", schedule=((1.0, 1.0),), min_size=128)
    plain = gatys.stylize(content, [style], **kw).image
    kept = gatys.stylize(content, [style], content_mask=1 + 20 * m, **kw).image
    inside, outside = m[0, 0] > 0.9, m[0, 0] < 0.1
    change = lambda x, where: float((x - content).abs().mean(1)[0][where].mean())  # noqa: E731
    # measured: plain 0.287 face / 0.293 rest; masked 0.088 / 0.105. The weight reaches past the mask (relu4_2
    # sees ~100 px around each feature, and the face fills this picture), but the face keeps the most.
    assert change(kept, inside) < 0.5 * change(plain, inside)
    assert change(kept, inside) / change(kept, outside) < 0.9 * change(plain, inside) / change(plain, outside)
    assert change(kept, outside) > 0.2 * change(plain, outside)  # the rest is still painted
    with pytest.raises(ValueError, match="content_mask"):
        gatys.stylize(content, [style], content_mask=-m, **kw)


def test_gatys_portrait_hands_the_face_and_its_mask_to_gatys(monkeypatch):
    from worker.engines import gatys

    seen = {}

    def fake_run(content, styles, **kw):  # unit test: the Gatys engine itself is tested by its owner
        seen.update(content=content, styles=styles, **kw)
        return content

    monkeypatch.setattr(gatys, "run", fake_run)
    style = Image.new("RGB", (32, 32), (200, 40, 40))
    out = portrait.run(5, style, engine="gatys", size=128, device="cpu", snapshot_every=3, face_strength=0.25)
    assert seen["content"].size == (128, 128) and seen["styles"] == [style]
    assert seen["size"] == 128 and seen["seed"] == 5 and seen["snapshot_every"] == 3
    w = seen["content_mask"]
    assert w.shape == (1, 1, 128, 128) and w.min() == 1  # the rest: the usual content weight
    assert w.max() == pytest.approx(1 + portrait.FACE_CONTENT_BOOST * 0.75)  # the face: more
    assert out.info["seed"] == 5


def test_photo_portrait_paints_the_largest_face():
    photo = to_image(gan_photo(seeds=(7, 8), sizes=(90, 170), at=((20, 60), (220, 80)), shape=(320, 460)))
    out = portrait.run(photo=photo, preset=3, size=128, device="cpu")
    assert out.size == (128, 128) and out.info["faces_found"] == 2 and "seed" not in out.info
    big = fc.find(portrait.detector(CPU), to_tensor(photo))[0]
    assert big.box[0] > 200  # the big face, on the right
    crop, _ = fc.align(to_tensor(photo), big.landmarks, 128)
    assert np.array_equal(np.asarray(out.info["face"]), np.asarray(to_image(crop)))  # the face that was painted
    with pytest.raises(ValueError, match="photos"):
        portrait.run(photo=photo, preset=3, size=64, device="cpu", candidates=4)


def test_a_photo_without_a_face_raises_no_face():
    flat = Image.new("RGB", (200, 150), (120, 130, 140))
    with pytest.raises(portrait.NoFace, match="no face"):
        portrait.run(photo=flat, preset=3, size=64, device="cpu")
    assert issubclass(portrait.NoFace, ValueError)


def test_no_face_fails_the_job_with_code_no_face(client):  # noqa: F811
    r = post(client, "/api/portrait", photo=image_bytes(size=(90, 120)), preset="2")
    fake_engine.RAISE.append(portrait.NoFace("no face was found in the photo"))
    assert tasks.run_job(r.json["id"]) == "failed"
    assert client.get(r.json["urls"]["get"]).json["error"] == {"code": "no_face",
                                                                "message": "no face was found in the photo"}


def test_a_portrait_job_exposes_its_face_and_records_the_choice(client, monkeypatch):  # noqa: F811
    painted = fake_engine.run

    def run(*args, **kw):  # the fake engine's picture, with what the real engine puts in info
        out = painted(*args, **kw)
        out.info.update(face=Image.new("RGB", (64, 64), (1, 2, 3)), candidate=3, candidates=8, truncation=1.0)
        return out

    monkeypatch.setattr(fake_engine, "run", run)
    job = client.post("/api/portrait", json={"seed": 3, "preset": 2}).json
    assert job["urls"]["face"] == f"/api/jobs/{job['id']}/face"
    assert client.get(job["urls"]["face"]).json["error"]["code"] == "face_not_ready"  # 409 until it has run
    assert tasks.run_job(job["id"]) == "succeeded"
    done = client.get(job["urls"]["get"]).json
    assert done["params"]["candidate"] == 3 and done["params"]["candidates"] == 8 and done["params"]["seed"] == 3
    r = client.get(job["urls"]["face"])
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert Image.open(io.BytesIO(r.data)).getpixel((5, 5)) == (1, 2, 3)
    stylize = post(client, content=image_bytes(), engine="fast", preset="1").json
    assert "face" not in stylize["urls"]


def test_portrait_cli_reports_the_seed_and_paints_a_photo(tmp_path, capsys):
    from worker.__main__ import main

    assert main(["portrait", "-o", str(tmp_path / "p.png"), "--seed", "3", "--preset", "4", "--size", "64",
                 "--json"]) == 0
    assert '"seed": 3' in capsys.readouterr().out
    assert Image.open(tmp_path / "p.png").size == (64, 64)
    assert main(["portrait", "-o", str(tmp_path / "p2.png"), "--seed", "3", "--preset", "4", "--size", "64",
                 "--upscale", "2"]) == 0  # print size after the engine, as the service does it
    assert Image.open(tmp_path / "p2.png").size == (128, 128)
    capsys.readouterr()
    to_image(gan_photo()).save(tmp_path / "me.png")
    assert main(["portrait", "--photo", str(tmp_path / "me.png"), "-o", str(tmp_path / "q.png"), "--preset", "7",
                 "--size", "96", "--json"]) == 0
    assert '"faces_found": 1' in capsys.readouterr().out and Image.open(tmp_path / "q.png").size == (96, 96)
    Image.new("RGB", (80, 80), (50, 60, 70)).save(tmp_path / "wall.png")
    assert main(["portrait", "--photo", str(tmp_path / "wall.png"), "-o", str(tmp_path / "r.png"),
                 "--preset", "7", "--size", "64"]) == 1
    assert "no face" in capsys.readouterr().err


def test_upscale_is_consistent_with_the_source_and_sharper_than_bicubic():
    x = portrait.faces([2], device="cpu")  # (1, 3, 64, 64)
    y = upscale(x, 256)
    bic = F.interpolate(x, size=(256, 256), mode="bicubic", align_corners=False).clamp(0, 1)
    assert y.shape == (1, 3, 256, 256)
    down = lambda t: F.interpolate(t, size=(64, 64), mode="bicubic", antialias=True, align_corners=False)  # noqa
    assert (down(y) - x).abs().mean() < (down(bic) - x).abs().mean()  # back-projection: closer to the source
    grad = lambda t: (t[..., 1:, :] - t[..., :-1, :]).abs().mean()  # noqa: E731
    assert grad(y) > grad(bic)
    assert upscale(torch.rand(1, 3, 10, 20), 40).shape == (1, 3, 20, 40)
    with pytest.raises(ValueError, match="size"):
        upscale(x, 0)
