"""The request contract (worker/params.py): the rules the API, the worker and the CLI all validate with."""
from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import Field

from worker import params as P
from worker import presets


def parse(kind, fields, **files):
    return P.parse(kind, fields, files)


def refused(kind, fields, **files) -> P.ParamError:
    with pytest.raises(P.ParamError) as e:
        parse(kind, fields, **files)
    return e.value


def test_contract_imports_without_torch_or_flask():
    code = "import sys, worker.params; print(sorted({'torch', 'flask'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_gatys_defaults_are_the_effective_values():
    p = parse("stylize", {"seed": "7"}, content=1, style=2)
    defaults = {name: f.default for name, f in P.Gatys.model_fields.items() if f.default is not None}
    assert P.record(p) == {**defaults, "seed": 7, "style_weights": [0.5, 0.5]}
    assert defaults["size"] == P.DEFAULT_SIZE and set(P.record(p)) == set(P.Gatys.model_fields) - {"upscale"}
    assert 0 <= parse("stylize", {}, content=1, style=1).seed <= P.SEED_MAX  # random, then recorded


@pytest.mark.parametrize("kind,engine,queue", [("stylize", "fast", "fast"), ("stylize", "translate", "fast"),
                                               ("stylize", "gatys", "slow"), ("portrait", "fast", "slow")])
def test_queue_for(kind, engine, queue):
    assert P.queue_for(kind, engine) == queue


@pytest.mark.parametrize("engine,least", [("fast", 32), ("gatys", 16), ("translate", 16)])
def test_size_floor_is_each_engines_own(engine, least):
    extra = {"fast": {"preset": "1"}, "gatys": {}, "translate": {"model": "m"}}[engine]
    files = {"content": 1, **({"style": 1} if engine == "gatys" else {})}
    assert parse("stylize", {"engine": engine, "size": str(least), **extra}, **files).size == least
    e = refused("stylize", {"engine": engine, "size": str(least - 1), **extra}, **files)
    assert e.field == "size" and f"from {least} to {P.MAX_SIZE} (default 512)" in e.message
    assert P.MIN_SIZE["portrait"] == 64 and refused("portrait", {"size": "63", "preset": "1"}).field == "size"


@pytest.mark.parametrize("fields,files,code", [
    ({"engine": "fast"}, {"content": 1}, "style_or_preset"),
    ({"engine": "fast", "preset": "2"}, {"content": 1, "style": 1}, "style_or_preset"),
    ({"preset": "2"}, {"content": 1}, "preset_needs_fast"),
    ({}, {"content": 1}, "style_required"),
    ({}, {"content": 1, "style": 5}, "too_many_styles"),
    ({"engine": "gatys", "model": "m"}, {"content": 1, "style": 1}, "not_for_engine"),
    ({"engine": "translate", "preset": "1", "model": "m"}, {"content": 1}, "not_for_engine"),
    ({"engine": "translate"}, {"content": 1}, "model_required"),
    ({"engine": "fast", "preset": "1", "steps": "3"}, {"content": 1}, "not_for_engine"),
    ({"strength": "0.3"}, {"content": 1, "style": 1}, "not_for_engine"),
    ({"style_weights": "1,1,1"}, {"content": 1, "style": 2}, "invalid_parameter"),
    ({"content_weight": "0", "style_weight": "0"}, {"content": 1, "style": 1}, "invalid_parameter"),
    ({"colour": "red"}, {"content": 1, "style": 1}, "unknown_field"),
    ({"content": "text"}, {"style": 1}, "file_required"),
])
def test_stylize_cross_field_rules(fields, files, code):
    assert refused("stylize", fields, **files).code == code


@pytest.mark.parametrize("fields,files,code", [
    ({"seed": "1"}, {}, "style_or_preset"),
    ({"engine": "gatys", "preset": "1"}, {}, "preset_needs_fast"),
    ({"preset": "1", "seed": "4"}, {"photo": 1}, "photo_or_seed"),
    ({"preset": "1", "generator": "g"}, {"photo": 1}, "photo_or_seed"),
    ({"preset": "1", "model": "m"}, {}, "unknown_field"),
])
def test_portrait_cross_field_rules(fields, files, code):
    assert refused("portrait", fields, **files).code == code


def test_portrait_photo_has_no_seed_and_seed_is_random_without_one():
    assert parse("portrait", {"preset": "1"}, photo=1).seed is None
    assert isinstance(parse("portrait", {"preset": "1"}).seed, int)


@pytest.mark.parametrize("raw,value", [("3", 3), (3, 3), ("3:0.5, 12:0.5", "3:0.5,12:0.5"), ("3:1,3:1", 3),
                                       ("3:1,12:3", "3:0.25,12:0.75"), (presets.PRESETS[7].name, 7), ("7:1", 7)])
def test_presets_normalise_to_ids(raw, value):
    assert parse("stylize", {"engine": "fast", "preset": raw}, content=1).preset == value


@pytest.mark.parametrize("raw", ["26", "-1", "²", "٣", "3;1", "1:0,2:0", "1:0", " 3", "3:1e3", True, "x" * 2000,
                                 ",".join(f"{i % 26}:1" for i in range(27))])
def test_bad_presets_are_refused_with_the_allowed_values(raw):
    e = refused("stylize", {"engine": "fast", "preset": raw}, content=1)
    assert e.code == "invalid_parameter" and e.field == "preset" and len(e.message) < 200


def test_fast_strength_defaults_to_the_presets_own():
    p = parse("stylize", {"engine": "fast", "preset": "3:0.5,12:0.5"}, content=1)
    assert p.strength == pytest.approx(presets.default_strength("3:0.5,12:0.5"))
    assert parse("stylize", {"engine": "fast"}, content=1, style=1).strength == 1.0


def test_style_side_stays_under_the_cap():
    assert parse("stylize", {"size": "256", "style_scale": "4"}, content=1, style=1).style_scale == 4
    e = refused("stylize", {"size": "512", "style_scale": "2.5"}, content=1, style=1)
    assert e.field == "style_scale" and str(P.STYLE_SIDE_MAX) in e.message and "up to 2" in e.message


def test_json_values_are_typed():
    assert P.parse("portrait", {"preset": 1, "seed": 5}, {}, strict=True).seed == 5
    for bad in ({"preset": 1, "seed": True}, {"preset": 1, "seed": "5"}, {"preset": 1, "size": 256.5}):
        with pytest.raises(P.ParamError):
            P.parse("portrait", bad, {}, strict=True)


def test_deployment_caps_lower_the_contracts():
    assert P.parse("stylize", {"steps": "800"}, {"content": 1, "style": 1}).steps == 800
    with pytest.raises(P.ParamError, match="at most 500"):
        P.parse("stylize", {"steps": "800"}, {"content": 1, "style": 1}, {"max_steps": 500})


def test_load_revalidates_a_record_and_kwargs_are_the_engine_call():
    rec = P.record(parse("stylize", {"engine": "fast", "preset": "4"}, content=1))
    p = P.load("stylize", rec, {"content": "uploads/x/content.png", "styles": []})
    assert p.kwargs() == {"size": 512, "preset": 4, "strength": presets.PRESETS[4].strength, "preserve_color": False}
    portrait = P.load("portrait", {"seed": 3, "preset": 1}, {"styles": []})
    assert portrait.kwargs() == {"engine": "fast", "size": 512, "seed": 3, "preset": 1,
                                 "face_strength": P.Portrait.model_fields["face_strength"].default}
    with pytest.raises(P.ParamError):  # a record the contract refuses fails the job (invalid_params)
        P.load("stylize", {"engine": "fast", "preset": 99}, {"content": "k", "styles": []})


def test_a_new_field_is_one_line():
    class Fast(P.Fast):
        upscale: int = Field(1, ge=1, le=4, description="enlarge the result")

    engines = P.ENGINES["stylize"]
    try:
        P.ENGINES["stylize"] = {**engines, "fast": Fast}
        p = parse("stylize", {"engine": "fast", "preset": "1", "upscale": "2"}, content=1)
        assert p.kwargs()["upscale"] == 2 and P.record(p)["upscale"] == 2
        assert "1 to 4 (default 1)" in refused("stylize", {"engine": "fast", "preset": "1", "upscale": "9"},
                                               content=1).message
    finally:
        P.ENGINES["stylize"] = engines

