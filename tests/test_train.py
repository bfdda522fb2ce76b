"""DCGAN training and the shared training loop, on 200 generated 32x32 shape images, a few CPU steps each."""
from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from tests.shapes import single_thread, write_shapes  # noqa: F401 (autouse fixture)
from worker import generators
from worker.__main__ import main as cli
from worker.core.dcgan import Generator, latents
from worker.engines import Canceled
from worker.train import data, dcgan, loop

CPU = torch.device("cpu")
TINY = dcgan.Options(ngf=8, ndf=8)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    return write_shapes(tmp_path_factory.mktemp("shapes"), n=200, size=32)


@pytest.fixture(scope="module")
def images(shapes):
    return data.load_folder(shapes, 64)


def task(images, root, name="t"):
    torch.manual_seed(0)
    return dcgan.GanTask(images, TINY, CPU, name, root)


def test_folder_loads_every_image_square(shapes, images):
    assert images.shape == (200, 3, 64, 64) and images.dtype == torch.uint8
    assert len(data.list_images(shapes)) == 200


def test_folder_errors_name_what_is_expected(tmp_path):
    with pytest.raises(ValueError, match="not a directory"):
        data.list_images(tmp_path / "nope")
    (tmp_path / "one.png").write_bytes(b"")
    with pytest.raises(ValueError, match="at least 2"):
        data.list_images(tmp_path)
    (tmp_path / "two.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="readable"):
        data.load_folder(tmp_path, 64)


def test_steps_give_finite_losses_and_change_the_samples(images, tmp_path):
    t = task(images, tmp_path)
    with torch.no_grad():
        before = t.nets["G"].eval()(t.fixed)  # the sample grid's pixels, as floats
    res = loop.fit(t, tmp_path / "run", epochs=1, batch=8, max_steps=3, device=CPU, stream=io.StringIO())
    assert res.step == 3 and res.total == 25
    assert set(res.losses) == {"G", "D", "D(fake)"} and all(math.isfinite(v) for v in res.losses.values())
    with torch.no_grad():
        after = t.nets["G"].eval()(t.fixed)
    # eval-mode BatchNorm starts from unit running variance, so the first samples are near grey and grow as the
    # running statistics catch up: a change many times the starting amplitude
    assert (after - before).abs().mean() > max(10 * before.abs().mean(), 1e-4)
    grid = Image.open(res.samples[-1])
    assert grid.size == (8 * 66 + 2, 8 * 66 + 2)  # 8x8 grid of 64 px tiles, 2 px gaps
    tile = np.asarray(grid)[2:66, 2:66].astype(np.float32) / 127.5 - 1  # seed 0's cell
    assert np.abs(tile - after[0].permute(1, 2, 0).numpy()).max() < 0.01


def test_checkpoint_round_trips_weights_and_adam_state(images, tmp_path):
    t = task(images, tmp_path)
    loop.fit(t, tmp_path / "run", epochs=1, batch=8, max_steps=2, device=CPU, stream=io.StringIO())
    fresh = task(images, tmp_path, "u")
    meta = loop.load_checkpoint(tmp_path / "run", fresh.nets, fresh.opts, CPU)
    assert meta["step"] == 2 and meta["config"] == t.config
    for k in t.nets:
        for (name, a), b in zip(t.nets[k].state_dict().items(), fresh.nets[k].state_dict().values()):
            assert torch.equal(a, b), name
    for k in t.opts:
        sa, sb = t.opts[k].state_dict(), fresh.opts[k].state_dict()
        assert sa["param_groups"] == sb["param_groups"]
        for i in sa["state"]:
            for key in ("step", "exp_avg", "exp_avg_sq"):
                assert torch.equal(torch.as_tensor(sa["state"][i][key]), torch.as_tensor(sb["state"][i][key]))
    assert not list((tmp_path / "run").glob("*.pt*")), "no pickle files in a run dir"


def test_resume_continues_from_the_saved_step_and_matches_an_unbroken_run(images, tmp_path):
    broken = task(images, tmp_path)
    loop.fit(broken, tmp_path / "a", epochs=1, batch=8, max_steps=2, device=CPU, stream=io.StringIO())
    broken = task(images, tmp_path)  # a new process: fresh nets, state comes from the checkpoint
    res = loop.fit(broken, tmp_path / "a", epochs=1, batch=8, max_steps=2, device=CPU, stream=io.StringIO())
    assert (res.resumed_from, res.step) == (2, 4)
    steps = [row["step"] for row in json.loads((tmp_path / "a" / "checkpoint.json").read_text())["history"]]
    assert steps == sorted(steps) and steps[-1] == 4
    whole = task(images, tmp_path)
    loop.fit(whole, tmp_path / "b", epochs=1, batch=8, max_steps=4, device=CPU, stream=io.StringIO())
    # same data order and noise per step: resumed weights equal the uninterrupted run's
    for a, b in zip(broken.nets["G"].parameters(), whole.nets["G"].parameters()):
        assert torch.allclose(a, b, atol=1e-5)


def test_resume_refuses_a_different_config(images, tmp_path):
    loop.fit(task(images, tmp_path), tmp_path / "run", epochs=1, batch=8, max_steps=1, device=CPU,
             stream=io.StringIO())
    with pytest.raises(ValueError, match="different run"):
        loop.fit(task(images, tmp_path), tmp_path / "run", epochs=1, batch=4, max_steps=1, device=CPU,
                 stream=io.StringIO())


def test_cancel_saves_then_raises(images, tmp_path):
    calls = []
    with pytest.raises(Canceled):
        loop.fit(task(images, tmp_path), tmp_path / "run", epochs=1, batch=8, device=CPU, stream=io.StringIO(),
                 on_progress=calls.append, should_cancel=lambda: len(calls) >= 2)
    assert loop.read_meta(tmp_path / "run")["step"] == 2
    assert calls[-1].preview is not None and calls[-1].step == 2


class NanTask(loop.Task):
    def __init__(self):
        self.nets, self.opts, self.n, self.config = {}, {}, 4, {"kind": "nan"}

    def step(self, idx, gen):
        return {"G": float("nan")}


def test_a_nan_loss_stops_with_a_clear_error(tmp_path):
    with pytest.raises(FloatingPointError, match="NaN"):
        loop.fit(NanTask(), tmp_path / "run", epochs=1, batch=2, device=CPU, stream=io.StringIO())


def test_exported_generator_is_listed_and_loads_as_the_bundled_family(images, tmp_path):
    t = task(images, tmp_path, "mine")
    loop.fit(t, tmp_path / "run", epochs=1, batch=8, max_steps=1, device=CPU, stream=io.StringIO())
    rows = generators.listing(tmp_path)
    assert [r["name"] for r in rows] == ["mine"] and rows[0]["size"] == 64 and rows[0]["step"] == 1
    net, conf = generators.load("mine", models_root=tmp_path)
    assert isinstance(net, Generator) and conf["ngf"] == 8 and not net.training
    with torch.no_grad():
        faces = net(latents([0, 1]))
        want = t.nets["G"].eval()(latents([0, 1]))
    assert faces.shape == (2, 3, 64, 64) and torch.allclose(faces, want)
    with pytest.raises(ValueError, match="available: mine"):
        generators.load("other", models_root=tmp_path)
    with pytest.raises(ValueError, match="letters, digits"):
        generators.load("../mine", models_root=tmp_path)


def test_options_are_checked(images, tmp_path):
    with pytest.raises(ValueError, match="size must be one of 64"):
        dcgan.GanTask(images, dcgan.Options(size=32), CPU, "x", tmp_path)
    with pytest.raises(ValueError, match="letters, digits"):
        loop.check_name("a/b")


def test_loss_plot_and_progress_bar(tmp_path):
    history = [{"step": s, "G": 2.0 - s / 10, "D": 0.5 + s / 20} for s in range(1, 11)]
    img = loop.plot_losses(history)
    assert img.size == (800, 420)
    colours = {c for _, c in img.getcolors(1 << 16)}
    first, second = ("#1f77b4", "#ff7f0e")  # matplotlib's first two line colours
    assert tuple(int(first[i:i + 2], 16) for i in (1, 3, 5)) in colours  # one line per loss
    assert tuple(int(second[i:i + 2], 16) for i in (1, 3, 5)) in colours
    assert len(loop.plot_losses([]).getcolors(1 << 16)) > 2  # an empty history still draws (axes, a note)
    out = io.StringIO()
    bar = loop.progress_bar(10, 0, out)
    for s in range(1, 11):
        bar.set_description_str("epoch 1/1")
        bar.set_postfix_str("G=1.000")
        bar.update(1)
    bar.close()
    assert "100% epoch 1/1 step 10/10" in out.getvalue() and "G=1.000" in out.getvalue()


def test_cli_trains_exports_and_resumes(shapes, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    args = ["train-gan", "--data", str(shapes), "--ngf", "8", "--ndf", "8", "--batch", "50", "--epochs", "1",
            "--steps", "2", "--out", "cli", "--run-dir", str(tmp_path / "run"), "--json"]
    assert cli(args) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert first["step"] == 2 and all(math.isfinite(v) for v in first["losses"].values())
    assert cli(args) == 0  # the rest of the epoch (4 steps of 50), resumed
    second = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (second["resumed_from"], second["step"], second["total"]) == (2, 4, 4)
    assert (tmp_path / "run" / "samples" / "epoch-0001.png").is_file()
    assert Image.open(tmp_path / "run" / "losses.png").size == (800, 420)
    assert (tmp_path / "models" / "generators" / "cli" / "weights.safetensors").is_file()
    assert cli(["train-gan", "--data", str(tmp_path / "none"), "--out", "x"]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_a_trained_generator_paints_portraits_by_name(shapes, tmp_path, monkeypatch, capsys, models_dir):
    from worker.engines import portrait

    models = tmp_path / "models"  # the real cache's files, plus a generator of our own
    models.mkdir()
    for f in models_dir.iterdir():
        (models / f.name).symlink_to(f)
    monkeypatch.setenv("MODELS_DIR", str(models))
    assert cli(["train-gan", "--data", str(shapes), "--ngf", "8", "--ndf", "8", "--batch", "50", "--epochs", "1",
                "--steps", "1", "--out", "mine", "--run-dir", str(tmp_path / "run")]) == 0
    previews = []
    portrait.run(5, preset=0, size=64, generator="mine", device="cpu", on_progress=lambda p: previews.append(p))
    net, _ = generators.load("mine")
    with torch.no_grad():
        want = portrait.enlarge(((net(latents([5])) + 1) / 2).clamp(0, 1), 64, "cpu")  # as the engine enlarges
    bundled = portrait.face(5, device="cpu").resize((64, 64))
    assert previews[0].preview.tobytes() == want.tobytes()
    assert previews[0].preview.tobytes() != bundled.tobytes()
    out = tmp_path / "p.png"
    assert cli(["portrait", "--generator", "mine", "--preset", "0", "--size", "64", "--seed", "5", "-o", str(out)]) == 0
    assert Image.open(out).size == (64, 64)
    assert cli(["portrait", "--generator", "nope", "--size", "64", "-o", str(out)]) != 0
    assert "available: mine" in capsys.readouterr().err


def test_train_flags_come_from_the_trainer_options(monkeypatch):
    import dataclasses

    from worker.__main__ import parser
    from worker.cli import train as train_cli
    from worker.train import cyclegan, options

    args = parser().parse_args(["train-pix2pix", "--data", "x"])
    flagged = [f for f in dataclasses.fields(options.Pix2Pix) if f.metadata.get("help")]
    assert {f.name for f in flagged} >= {"size", "lr", "ngf", "ndf", "downs", "l1", "real_label", "direction"}
    assert all(getattr(args, f.name) == f.default for f in flagged)  # defaults: the dataclass's, nowhere else
    assert (args.epochs, args.batch) == (options.RUNS["pix2pix"].epochs, options.RUNS["pix2pix"].batch)
    seen = {}
    monkeypatch.setattr(cyclegan, "build", lambda a, b, opt, *rest: seen.update(a=a, b=b, opt=opt))
    args = parser().parse_args(["train-cyclegan", "--a", "pa", "--b", "pb", "--cycle", "5", "--blocks", "6"])
    train_cli.build(args, CPU, None)
    assert seen["a"] == "pa" and seen["b"] == "pb"
    assert seen["opt"] == cyclegan.Options(cycle=5.0, blocks=6)  # every flag reaches the trainer's options
