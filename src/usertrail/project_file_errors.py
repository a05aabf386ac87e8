"""A project file's validation errors as a person fixes them: one line per real problem.

pydantic reports the consequences of an error too: a list whose only item is invalid is also
"too short", and a misspelt key is both "extra" and, for the key it meant, "required". Those
cascades are dropped, and a misspelt key gets the nearest key the place allows.
"""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Loc = tuple[int | str, ...]


def readable_errors(model: type[BaseModel], errors: list[ErrorDetails]) -> list[str]:
    """`where: what` lines, cascades dropped, typos with a suggestion."""
    guesses = _typo_guesses(model, errors)
    meant = {(*loc[:-1], key) for loc, key in guesses.items()}
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        if _is_cascade(error, errors) or (error["type"] == "missing" and loc in meant):
            continue
        lines.append(f"{_where(loc)}: {_message(error, guesses.get(loc))}")
    return lines


def _is_cascade(error: ErrorDetails, errors: list[ErrorDetails]) -> bool:
    """A collection "too short" only because some of its items failed on their own: with
    those items counted it is long enough (pydantic counts only the items that passed)."""
    if error["type"] != "too_short":
        return False
    loc, ctx = tuple(error["loc"]), error.get("ctx", {})
    failed = {e["loc"][len(loc)] for e in errors if _inside(tuple(e["loc"]), loc)}
    return bool(failed) and ctx.get("actual_length", 0) + len(failed) >= ctx.get("min_length", 0)


def _inside(loc: Loc, parent: Loc) -> bool:
    return len(loc) > len(parent) and loc[: len(parent)] == parent


def _message(error: ErrorDetails, guess: str | None) -> str:
    if error["type"] == "extra_forbidden":
        hint = f"; did you mean {guess!r}?" if guess else ""
        return f"unknown key{hint}"
    if error["type"] == "too_short":
        ctx = error.get("ctx", {})
        return f"needs at least {ctx.get('min_length')} item(s), has {ctx.get('actual_length')}"
    return error["msg"].replace("valid tuple", "valid list")  # YAML has lists, not tuples


def _where(loc: Loc) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _typo_guesses(model: type[BaseModel], errors: list[ErrorDetails]) -> dict[Loc, str]:
    """For each unknown key, the closest key its mapping allows (if one is close)."""
    guesses = {}
    for error in errors:
        if error["type"] != "extra_forbidden":
            continue
        loc = tuple(error["loc"])
        allowed = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        if close:
            guesses[loc] = close[0]
    return guesses


def _keys_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model found at `loc`, walking dicts, tuples and optionals."""
    annotation: Any = model
    for part in loc:
        annotation = _step(annotation, part)
        if annotation is None:
            return []
    found = _model_of(annotation)
    return list(found.model_fields) if found else []


def _step(annotation: Any, part: int | str) -> Any:
    found = _model_of(annotation)
    if found is not None:
        field = found.model_fields.get(str(part))
        return field.annotation if field else None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is dict and len(args) == 2:
        return args[1]
    if origin is tuple and args:
        return args[0]
    return None


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model in `X`, `X | None`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        models = [m for a in get_args(annotation) if (m := _model_of(a)) is not None]
        return models[0] if len(models) == 1 else None
    return None
