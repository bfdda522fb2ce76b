"""The 26 presets: names a person reads, ids or names accepted, default strengths used by the fast engine and
served by GET /api/styles."""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from tests.test_api import client, make, var  # noqa: F401 (the same fixtures as the API tests)
from worker import presets
from worker.convert import demo_scene
from worker.core.images import to_image


def test_26_presets_with_unique_descriptive_names_and_strengths_in_range():
    assert [p.id for p in presets.PRESETS] == list(range(26)) == list(range(presets.COUNT))
    names = [p.name for p in presets.PRESETS]
    assert len({n.casefold() for n in names}) == 26
    # words, not "3: dark pink": no ids, no colons or commas (those separate a blend)
    assert all(re.fullmatch(r"[A-Z][a-z]+(?:[ -][a-z]+)*", n) for n in names), names
    assert all(0.0 < p.strength <= 1.0 for p in presets.PRESETS)
    assert any(p.strength < 1.0 for p in presets.PRESETS)  # some presets wipe out the photo at full strength


def test_resolve_takes_an_id_or_a_name_in_any_case():
    first, last = presets.PRESETS[0], presets.PRESETS[25]
    assert presets.resolve(7) == presets.resolve("7") == presets.resolve(" 7 ") == 7
    assert presets.resolve(first.name) == presets.resolve(first.name.upper()) == 0
    assert presets.resolve(f"  {last.name.lower()} ") == 25
    assert presets.get(last.name) is last


@pytest.mark.parametrize("bad", [26, -1, "26", "Nope", "", True, 2.0, None, "3.0"])
def test_resolve_refuses_with_the_allowed_values(bad):
    with pytest.raises(ValueError) as e:
        presets.resolve(bad)
    assert "0..25" in str(e.value) and presets.PRESETS[19].name in str(e.value)


def test_blends_by_id_or_name_and_their_weighted_default_strength():
    a, b = presets.PRESETS[3], presets.PRESETS[12]
    assert presets.parse(f"3:1,{b.name.upper()}:3") == {3: 0.25, 12: 0.75}
    assert presets.parse(a.name) == {3: 1.0}
    assert presets.default_strength(f"{a.name}:1,12:3") == pytest.approx(0.25 * a.strength + 0.75 * b.strength)
    assert presets.default_strength(3) == a.strength
    for bad, msg in (("3:x", "number"), ("3:0,12:0", "zero"), ("3:-1", ">= 0"), ("Nope:1", "0..25")):
        with pytest.raises(ValueError, match=msg):
            presets.parse(bad)


def test_the_fast_engine_uses_the_default_strength_unless_given():
    from worker.engines import fast

    weak = min(presets.PRESETS, key=lambda p: p.strength)
    assert weak.strength < 1.0
    photo = to_image(demo_scene(64)[0])
    run = lambda **kw: np.asarray(fast.run(photo, size=64, device="cpu", **kw), dtype=np.int16)  # noqa: E731
    default = run(preset=weak.name)
    assert np.array_equal(default, run(preset=weak.id, strength=weak.strength))
    full = run(preset=weak.id, strength=1.0)
    assert np.abs(default - full).mean() > 5  # the override is honoured: a different picture
    # a blend's default is the weighted mean of its presets' defaults
    strong = max(presets.PRESETS, key=lambda p: p.strength)
    spec = f"{weak.id}:1,{strong.id}:1"
    assert np.array_equal(run(preset=spec), run(preset=spec, strength=(weak.strength + strong.strength) / 2))


def test_api_styles_lists_names_and_default_strengths(client, var):  # noqa: F811
    r = client.get("/api/styles")
    assert r.status_code == 200 and r.json["count"] == 26
    assert r.json["styles"][19] == {"id": 19, "name": presets.PRESETS[19].name,
                                    "strength": presets.PRESETS[19].strength, "thumbnail": "/api/styles/19.jpg"}
    assert [s["name"] for s in r.json["styles"]] == [p.name for p in presets.PRESETS]
    # the names need no model cache; a thumbnail does
    assert client.get("/api/styles/19.jpg").json["error"]["code"] == "models_missing"
    thumbs = var / "models" / "thumbnails"
    thumbs.mkdir(parents=True)
    (thumbs / "index.json").write_text('[{"id": 19, "name": "x", "file": "19.jpg"}]')
    Image.new("RGB", (8, 8)).save(thumbs / "19.jpg")
    t = client.get("/api/styles/19.jpg")
    assert t.status_code == 200 and t.mimetype == "image/jpeg"
