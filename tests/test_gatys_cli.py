"""`python -m worker stylize` and the Gatys engine's PIL-level run(): flags, --json, --repeat, snapshots, errors."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from PIL import Image

from worker import params
from worker.__main__ import main
from worker.cli import stylize as cli
from worker.engines import Canceled, gatys

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the suite shares 2 busy cores (see test_gatys.py)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def files(tmp_path):
    content = Image.linear_gradient("L").resize((48, 32)).convert("RGB")
    style = Image.new("RGB", (40, 40), (20, 40, 200))
    for x in range(0, 40, 6):
        style.paste((250, 240, 30), (x, 0, x + 3, 40))
    c, s, s2 = tmp_path / "c.png", tmp_path / "s.png", tmp_path / "s2.jpg"
    content.save(c)
    style.save(s)
    style.rotate(90).save(s2)
    return tmp_path, str(c), str(s), str(s2)


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_progress_bar_keeps_one_bar_from_the_step_0_preview_and_restarts_when_steps_go_back():
    import io
    from types import SimpleNamespace as P

    out = io.StringIO()
    bar = cli.Bar(out)
    for step in (0, 1, 2, 3, 0, 1, 2, 3):  # two runs of 3 steps, each opening with the fast preview (step 0)
        bar(P(step=step, total=3, losses={}))
    text = out.getvalue()
    assert text.count("3/3") == 2 and text.count("0/3") == 2  # one bar per run: no restart at step 1


def test_json_repeat_and_output(files, capsys):
    tmp, c, s, _ = files
    out = tmp / "out.png"
    assert main(["stylize", c, s, "-o", str(out), "--size", "40", "--steps", "2", "--repeat", "2", "--json"]) == 0
    cap = capsys.readouterr()
    info = last_json(cap.out)
    assert set(info) == {"output", "engine", "size", "steps", "seconds", "load_seconds"}
    assert info["output"] == str(out) and info["engine"] == "gatys" and info["steps"] == 2
    assert info["size"] == [40, 27] and Image.open(out).size == (40, 27)
    assert info["seconds"] > 0 and info["load_seconds"] >= 0
    assert cap.err.count("2/2") == 2  # the progress bar on stderr, once per repeat


def test_all_gatys_flags_reach_the_engine(files, monkeypatch, capsys):
    tmp, c, s, s2 = files
    seen = {}

    def fake_run(content, styles, **kw):
        seen.update(kw, styles=len(styles))
        return Image.new("RGB", (10, 8))

    monkeypatch.setattr(gatys, "run", fake_run)
    argv = ["stylize", c, s, s2, "-o", str(tmp / "o.jpg"), "--engine", "gatys", "--size", "64", "--steps", "7",
            "--style-weights", "0.25", "0.75", "--content-weight", "2", "--style-weight", "30", "--tv-weight",
            "0.5", "--preserve-color", "--init", "noise", "--style-scale", "1.5", "--seed", "9", "--device", "cpu"]
    assert main(argv) == 0
    assert seen["styles"] == 2 and seen["style_weights"] == [0.25, 0.75]
    assert {k: seen[k] for k in ("size", "steps", "content_weight", "style_weight", "tv_weight", "preserve_color",
                                 "init", "style_scale", "seed", "device")} == dict(
        size=64, steps=7, content_weight=2.0, style_weight=30.0, tv_weight=0.5, preserve_color=True, init="noise",
        style_scale=1.5, seed=9, device="cpu")
    assert seen["snapshot_every"] == 0
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--json"]) == 0
    # unset: the engine falls back on the core defaults; --init's default is the contract's (worker/params.py)
    assert seen["steps"] is None and seen["init"] == params.Gatys.model_fields["init"].default == "fast"
    assert last_json(capsys.readouterr().out)["steps"] == gatys.defaults()["steps"]


def test_snapshots_dir_gets_intermediate_images(files):
    tmp, c, s, _ = files
    snaps = tmp / "snaps"
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--size", "32", "--steps", "20",
                 "--snapshots", str(snaps)]) == 0
    names = sorted(p.name for p in snaps.iterdir())
    # step 0: the fast network's picture the default init=fast starts from (the first preview)
    assert names == ["step00000.png", "step00010.png", "step00020.png"] and cli.SNAPSHOT_EVERY == 10
    assert Image.open(snaps / names[0]).size == (32, 21)


@pytest.mark.parametrize("argv, message", [
    (["--style-weights", "1", "2"], "one weight per STYLE image"),
    (["--size", "5000"], "1024 px on CPU"),
    (["--steps", "0"], "steps must be"),
    (["--style-scale", "20"], "style_scale must be"),
    (["--repeat", "0"], "--repeat must be"),
    (["--content-weight", "-1"], "content_weight must be"),
])
def test_bad_values_exit_2_with_a_clear_message(files, capsys, argv, message):
    tmp, c, s, _ = files
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--size", "32", "--steps", "1", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unreadable_input_and_missing_style(files, capsys):
    tmp, c, s, _ = files
    (tmp / "bad.png").write_bytes(b"not an image")
    assert main(["stylize", str(tmp / "bad.png"), s, "-o", str(tmp / "o.png")]) == 2
    assert "cannot read image" in capsys.readouterr().err
    assert main(["stylize", str(tmp / "nope.png"), s, "-o", str(tmp / "o.png")]) == 2
    assert "no such image file" in capsys.readouterr().err
    assert main(["stylize", c, "-o", str(tmp / "o.png")]) == 2
    assert "needs at least one STYLE" in capsys.readouterr().err


def test_choices_are_checked_by_the_parser(files, capsys):
    tmp, c, s, _ = files
    for flag, value in (("--init", "zeros"), ("--device", "tpu"), ("--engine", "magic")):
        with pytest.raises(SystemExit) as e:
            main(["stylize", c, s, "-o", str(tmp / "o.png"), flag, value])
        assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_fast_engine_missing_gives_not_available_yet(files, capsys, monkeypatch):
    tmp, c, s, _ = files
    monkeypatch.setattr(cli, "_fast_engine", lambda: None)
    assert main(["stylize", c, "-o", str(tmp / "o.png"), "--preset", "3"]) == 2
    assert "not available yet" in capsys.readouterr().err
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--engine", "fast"]) == 2
    assert "not available yet" in capsys.readouterr().err


def test_preset_and_engine_fast_call_the_fast_engine(files, capsys, monkeypatch):
    tmp, c, s, _ = files
    calls = []

    class Fake:
        @staticmethod
        def net(name, dev):
            calls.append(("net", name))

        @staticmethod
        def run(content, style=None, **kw):
            calls.append(("run", style is not None, kw["preset"], kw["size"]))
            return Image.new("RGB", (kw["size"], kw["size"] // 2))

    monkeypatch.setattr(cli, "_fast_engine", lambda: Fake)
    assert main(["stylize", c, "-o", str(tmp / "o.png"), "--preset", "3", "--size", "64", "--json"]) == 0
    assert last_json(capsys.readouterr().out)["engine"] == "fast"
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--engine", "fast", "--size", "32"]) == 0
    assert calls == [("net", "multistyle26"), ("run", False, 3, 64),
                     ("net", "arbitrary_predict"), ("net", "arbitrary_transform"), ("run", True, None, 32)]
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--preset", "3"]) == 2  # both: refused
    assert "exactly one of" in capsys.readouterr().err


def test_engine_run_defaults_progress_and_cancel(files):
    _, c, s, _ = files
    content, style = Image.open(c), Image.open(s)
    assert gatys.defaults()["steps"] > 0
    seen = []
    out = gatys.run(content, [style], size=40, steps=4, snapshot_every=2, on_progress=seen.append)
    assert out.size == (40, 27) and [p.step for p in seen] == [0, 1, 2, 3, 4]  # 0: the fast preview (init=fast)
    assert [p.preview.size for p in seen if p.preview is not None] == [(40, 27)] * 3
    polls = []
    with pytest.raises(Canceled):
        gatys.run(content, [style], size=40, steps=6, should_cancel=lambda: polls.append(1) or len(polls) > 2)
    assert len(polls) == 3  # before the run, after step 1, after step 2: cancelled between steps


def test_module_entry_point_runs_as_a_process(files):
    tmp, c, s, _ = files
    run = subprocess.run([sys.executable, "-m", "worker", "stylize", c, s, "-o", str(tmp / "p.png"), "--size", "32",
                          "--steps", "1", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr
    assert last_json(run.stdout)["size"] == [32, 21]


def test_flags_and_help_come_from_the_request_contract(files, monkeypatch, capsys):
    from pydantic import Field

    from worker import params
    from worker.__main__ import parser

    def helptext():  # argparse wraps lines: compare with single spaces
        return " ".join(parser()._subparsers._group_actions[0].choices["stylize"].format_help().split())

    text = helptext()
    for name in cli.gatys_fields() + cli.fast_fields():
        assert "--" + name.replace("_", "-") in text
    assert "1 to 1000 (default 10)" in text and "0.1 to 4 (default 1.0)" in text  # ranges and defaults
    assert "{" + ",".join(params.INITS) + "}" in text

    class Gatys(params.Gatys):  # a new parameter: one line in the contract
        detail: float = Field(0.5, ge=0, le=1, description="how much fine detail")

    monkeypatch.setattr(params, "Gatys", Gatys)
    text = helptext()
    assert "--detail X" in text and "how much fine detail: a number from 0 to 1 (default 0.5)" in text
    seen = {}
    monkeypatch.setattr(gatys, "run", lambda content, styles, **kw: seen.update(kw) or Image.new("RGB", (8, 8)))
    tmp, c, s, _ = files
    assert main(["stylize", c, s, "-o", str(tmp / "o.png"), "--detail", "0.7"]) == 0
    assert seen["detail"] == 0.7  # it reaches the engine by name


def test_preset_by_name_or_id(files, capsys, monkeypatch):
    tmp, c, _, _ = files
    seen = []

    class Fake:
        net = staticmethod(lambda name, dev: None)

        @staticmethod
        def run(content, style=None, **kw):
            seen.append(kw["preset"])
            return Image.new("RGB", (8, 8))

    monkeypatch.setattr(cli, "_fast_engine", lambda: Fake)
    for value in ("Mosaic", "mosaic", "9", "3:1,12:1"):
        assert main(["stylize", c, "-o", str(tmp / "o.png"), "--preset", value]) == 0
    assert seen == [9, 9, 9, "3:0.5,12:0.5"]
    assert main(["stylize", c, "-o", str(tmp / "o.png"), "--preset", "Nope"]) == 2
    assert "preset name" in capsys.readouterr().err
