"""CLI flags from the request contract (worker/params.py): one `--name` per model field, its type, choices and
help (description, range, default) read from the model, so a new parameter there is a new flag here.

A flag left out is None (the engine then applies the contract's default), except a choice, whose default shows.
"""
from __future__ import annotations

import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic_core import PydanticUndefined

from worker import params


def _base(annotation: Any) -> Any:
    """Optional[Annotated[X, ...]] -> X."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) > 1:  # e.g. a preset: an id or a name
                return str
            annotation = rest[0]
        else:
            return annotation


def help_text(model: type[params.Params], name: str) -> str:
    field = model.model_fields[name]
    allowed = params.allowed(model, name)
    text = allowed if not field.description or allowed.startswith(field.description) else \
        f"{field.description}: {allowed}"
    return text.replace("%", "%%")  # argparse formats help with %


def add_flags(p, model: type[params.Params], names: typing.Iterable[str], helps: dict | None = None) -> None:
    """Add --name for each field name of model (in that order)."""
    for name in names:
        field = model.model_fields[name]
        kind = _base(field.annotation)
        kw: dict[str, Any] = {"help": (helps or {}).get(name) or help_text(model, name), "default": None}
        if kind is bool:
            kw.update(action="store_true", default=False, help=(helps or {}).get(name) or field.description)
        elif get_origin(kind) is Literal:
            choices = get_args(kind)
            kw.update(choices=choices, type=type(choices[0]))
            if field.default is not PydanticUndefined and field.default is not None:
                kw["default"] = field.default
        elif get_origin(kind) is list:
            kw.update(nargs="+", type=get_args(kind)[0], metavar="W")
        elif kind in (int, float):
            kw.update(type=kind, metavar={"size": "PX"}.get(name, "N" if kind is int else "X"))
        else:
            kw.update(type=str, metavar=name.upper())
        p.add_argument("--" + name.replace("_", "-"), **kw)


def given(args, model: type[params.Params], skip: typing.Iterable[str] = ()) -> dict:
    """The model's fields the user set on the command line (None and False left out)."""
    return {k: v for k in model.model_fields if k not in skip
            for v in [getattr(args, k, None)] if v is not None and v is not False}
