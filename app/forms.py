"""Form/JSON field parsing: each helper returns a typed value or raises a 422 naming the allowed values."""
from __future__ import annotations

import math
import re

from app.errors import APIError

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")
PRESETS = 26
BLEND = re.compile(r"^\s*\d+\s*:\s*[0-9.]+\s*(,\s*\d+\s*:\s*[0-9.]+\s*)*$")


def bad(field: str, message: str) -> APIError:
    return APIError(422, "invalid_parameter", f"{field}: {message}", field=field)


def integer(form, field: str, default, lo: int, hi: int):
    raw = form.get(field)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise bad(field, f"must be a whole number from {lo} to {hi}, not {str(raw)[:40]!r}")
    if not lo <= value <= hi:
        raise bad(field, f"must be from {lo} to {hi}, not {value}")
    return value


def number(form, field: str, default, lo: float, hi: float):
    raw = form.get(field)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        raise bad(field, f"must be a number from {lo:g} to {hi:g}, not {str(raw)[:40]!r}")
    if not math.isfinite(value) or not lo <= value <= hi:
        raise bad(field, f"must be from {lo:g} to {hi:g}, not {value:g}")
    return value


def boolean(form, field: str, default: bool) -> bool:
    raw = form.get(field)
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise bad(field, f"must be true or false, not {str(raw)[:40]!r}")


def choice(form, field: str, default: str, allowed: tuple[str, ...]) -> str:
    raw = form.get(field)
    if raw is None or str(raw).strip() == "":
        return default
    value = str(raw).strip().lower()
    if value not in allowed:
        raise bad(field, f"must be one of {', '.join(allowed)}, not {str(raw)[:40]!r}")
    return value


def preset(form, field: str = "preset"):
    """None, an id 0..25 (int), or a normalised blend string "3:0.5,12:0.5"."""
    raw = form.get(field)
    if raw is None or str(raw).strip() == "":
        return None
    text = str(raw).strip()
    if text.isdigit():
        value = int(text)
        if value >= PRESETS:
            raise bad(field, f"must be a preset id from 0 to {PRESETS - 1}, not {value}")
        return value
    if not BLEND.match(text):
        raise bad(field, f"must be a preset id 0-{PRESETS - 1} or a blend like 3:0.5,12:0.5, not {text[:40]!r}")
    parts = []
    for item in text.split(","):
        ident, weight = (s.strip() for s in item.split(":"))
        if int(ident) >= PRESETS:
            raise bad(field, f"preset ids run from 0 to {PRESETS - 1}, not {ident}")
        try:
            w = float(weight)
        except ValueError:
            raise bad(field, f"blend weight {weight!r} is not a number")
        if not math.isfinite(w) or w < 0:
            raise bad(field, f"blend weights must be zero or more, not {weight}")
        parts.append((int(ident), w))
    if sum(w for _, w in parts) <= 0:
        raise bad(field, "blend weights must not all be zero")
    return ",".join(f"{i}:{w:g}" for i, w in parts)


def weights(form, field: str, count: int):
    raw = form.get(field)
    if raw is None or str(raw).strip() == "":
        return None
    try:
        values = [float(s) for s in str(raw).split(",")]
    except ValueError:
        raise bad(field, f"must be comma-separated numbers like 0.7,0.3, not {str(raw)[:40]!r}")
    if len(values) != count:
        raise bad(field, f"needs one weight per style image: {count} style(s), {len(values)} weight(s)")
    if any(not math.isfinite(v) or v < 0 for v in values) or sum(values) <= 0:
        raise bad(field, "weights must be zero or more and not all zero")
    return values
