"""The fast engine's 26 presets: id, a name a person understands, and a default strength.

Torch-free on purpose: the API (app/, which never imports torch), the request contract and the CLI all resolve a
preset through this module. The default strength is the largest that keeps the photo's subject (content distance
at relu4_2 <= 1.5 on the sample photos: bench/presets.py measures it); a client's `strength` still overrides it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    id: int
    name: str
    strength: float  # default pixel blend with the photo, 0..1


PRESETS: tuple[Preset, ...] = (
    Preset(0, "Sunny pop art", 1.00),
    Preset(1, "Comic outlines", 0.65),
    Preset(2, "Charcoal sketch", 0.95),
    Preset(3, "Abstract strokes", 0.35),
    Preset(4, "Red and gold poster", 0.70),
    Preset(5, "Warm brushwork", 0.85),
    Preset(6, "Blue cells", 0.70),
    Preset(7, "Primary blocks", 0.80),
    Preset(8, "Pastel line drawing", 0.65),
    Preset(9, "Mosaic", 0.70),
    Preset(10, "Sepia oil", 1.00),
    Preset(11, "Gold etching", 0.90),
    Preset(12, "Pastel haze", 1.00),
    Preset(13, "Acid green", 0.65),
    Preset(14, "Blue watercolour", 1.00),
    Preset(15, "Stained glass", 0.50),
    Preset(16, "Blue impressionist", 0.90),
    Preset(17, "Woven bricks", 0.30),
    Preset(18, "Woodcut", 1.00),
    Preset(19, "Bold swirls", 0.50),
    Preset(20, "Fiery red", 0.80),
    Preset(21, "Cut-paper collage", 0.60),
    Preset(22, "Ink and red", 0.85),
    Preset(23, "Dark oil", 1.00),
    Preset(24, "Navy engraving", 0.90),
    Preset(25, "Fine brushwork", 0.70),
)
COUNT = len(PRESETS)
_BY_NAME = {p.name.casefold(): p.id for p in PRESETS}


def allowed() -> str:
    """The allowed values, for error messages."""
    return f"an id 0..{COUNT - 1} or one of the names " + ", ".join(repr(p.name) for p in PRESETS)


def resolve(value: int | str) -> int:
    """A preset id (int or digits) or a name (case-insensitive) -> the id; ValueError naming the allowed values."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"preset must be {allowed()}, not {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if text.casefold() in _BY_NAME:
            return _BY_NAME[text.casefold()]
        if not text.isdigit():
            raise ValueError(f"preset must be {allowed()}, not {value!r}")
        value = int(text)
    if not 0 <= value < COUNT:
        raise ValueError(f"preset must be {allowed()}, not {value!r}")
    return value


def get(value: int | str) -> Preset:
    """The Preset for an id or a name."""
    return PRESETS[resolve(value)]


def parse(spec: int | str) -> dict[int, float]:
    """One preset (id or name) or a blend "3:0.5,Ink wash:0.5" -> {id: weight} with weights summing to 1."""
    if isinstance(spec, bool) or not isinstance(spec, (int, str)):
        raise ValueError(f"preset must be {allowed()}, or a blend like '3:0.5,12:0.5', not {spec!r}")
    if isinstance(spec, int) or spec.strip().casefold() in _BY_NAME or ":" not in spec and "," not in spec:
        return {resolve(spec): 1.0}
    weights: dict[int, float] = {}
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        key, _, weight = part.rpartition(":") if ":" in part else (part, "", "1")
        try:
            w = float(weight)
        except ValueError:
            raise ValueError(f"blend weight must be a number in {part!r} (blend like '3:0.5,12:0.5')") from None
        if not 0 <= w < float("inf"):
            raise ValueError(f"blend weight must be a finite number >= 0 in {part!r}")
        i = resolve(key)
        weights[i] = weights.get(i, 0.0) + w
    total = sum(weights.values())
    if not weights or total <= 0:
        raise ValueError(f"preset weights must not all be zero: {spec!r}")
    return {i: w / total for i, w in weights.items()}


def default_strength(spec: int | str) -> float:
    """The default strength of a preset, or of a blend: the blend-weighted mean of its presets' defaults."""
    return sum(w * PRESETS[i].strength for i, w in parse(spec).items())
