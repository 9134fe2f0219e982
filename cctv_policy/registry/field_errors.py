"""The models' field errors in people's words: what the field expects, with "did you mean".

pydantic reports an error by type ("string_pattern_mismatch", "model_type"...); each becomes a
messages.INPUT key with the field, the value written and, where one is close, a suggestion, so
no message shows a regular expression or a Python type. `salvage` keeps what could be read of a
document, for `check` to evaluate the rest of it.
"""

from __future__ import annotations

import copy
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from cctv_policy.messages import did_you_mean
from cctv_policy.output import printable
from cctv_policy.registry.types import DOCUMENT_ID, PERSON_ID

FieldPath = tuple[str | int, ...]

_PATTERN_KEYS = {
    f"^{PERSON_ID}$": "person_id",
    f"^{DOCUMENT_ID}$": "document_id",
    r"^[0-9a-f]{64}$": "sha256",
}
_TYPE_KEYS = {
    "list_type": "needs_list",
    "string_type": "needs_text",
    "int_type": "needs_number",
    "int_parsing": "needs_number",
    "int_from_float": "needs_number",
    "bool_type": "needs_yes_no",
    "bool_parsing": "needs_yes_no",
    "missing": "missing_field",
    "time_format": "time_format",
    "time_no_offset": "time_no_offset",
    "time_invalid": "time_invalid",
    "time_range": "time_range",
    "time_zone": "time_zone",
    "kept_copies_need_hold": "kept_copies_need_hold",
}


@dataclass(frozen=True)
class FieldProblem:
    loc: FieldPath
    key: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.loc) or "(document)"


def describe(
    model: type[BaseModel], errors: Sequence[Any], person_names: Mapping[str, str]
) -> list[FieldProblem]:
    """One problem per error; a misspelt field and the required field it meant are one."""
    problems = [_problem(model, error, person_names) for error in errors]
    meant = {
        (p.loc[:-1], p.params["choice"])
        for p in problems
        if p.key == "unknown_field" and "choice" in p.params
    }
    return [
        p
        for p in problems
        if not (p.key == "missing_field" and p.loc and (p.loc[:-1], str(p.loc[-1])) in meant)
    ]


def _problem(model: type[BaseModel], error: Any, person_names: Mapping[str, str]) -> FieldProblem:
    raw_loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden" and raw_loc:
        # The unknown key is the user's text, whatever it looks like (never a union branch).
        loc = (*_clean_loc(raw_loc[:-1]), raw_loc[-1])
    else:
        loc = _clean_loc(raw_loc)
    where = ".".join(str(p) for p in loc) or "(document)"
    value = error.get("input")
    params = {"field": where, "value": _shown(value)}
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        close = did_you_mean(str(loc[-1]), _field_names(model, loc[:-1])) if loc else None
        return FieldProblem(loc, "unknown_field", params | ({"choice": close} if close else {}))
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        expected = ", ".join(_field_names(model, loc)) or "..."
        return FieldProblem(loc, "needs_fields", params | {"expected": expected})
    if kind in ("literal_error", "enum"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        close = did_you_mean(str(value), choices)
        return FieldProblem(
            loc,
            "choice",
            params | {"choices": ", ".join(choices)} | ({"choice": close} if close else {}),
        )
    if kind == "too_short":
        return FieldProblem(loc, "empty_list" if isinstance(value, list) else "empty_text", params)
    if kind in ("greater_than_equal", "greater_than"):
        return FieldProblem(
            loc, "number_min", params | {"limit": str(ctx.get("ge", ctx.get("gt")))}
        )
    if kind in ("less_than_equal", "less_than"):
        return FieldProblem(
            loc, "number_max", params | {"limit": str(ctx.get("le", ctx.get("lt")))}
        )
    if kind == "string_pattern_mismatch":
        key = _PATTERN_KEYS.get(str(ctx.get("pattern")), "slug")
        if str(ctx.get("pattern")).startswith("^(ssh-"):
            key = "ssh_key"
        if key == "person_id":
            close = person_names.get(str(value).strip().lower()) or did_you_mean(
                str(value).lower(), person_names.values()
            )
            params |= {"choice": close} if close else {}
        return FieldProblem(loc, key, params)
    if kind in _TYPE_KEYS:
        return FieldProblem(loc, _TYPE_KEYS[kind], params)
    detail = str(error.get("msg", "")).removeprefix("Value error, ")
    return FieldProblem(loc, "invalid_value", params | {"detail": detail})


def _clean_loc(loc: Sequence[Any]) -> FieldPath:
    parts = tuple(p for p in loc if not str(p).startswith("function-"))
    # pydantic names a union branch in the path ("ThirdParty"); it is not a field.
    return tuple(p for p in parts if not (isinstance(p, str) and p[:1].isupper()))


def _shown(value: Any) -> str:
    text = printable(value if isinstance(value, str) else repr(value))
    return text if len(text) <= 60 else text[:57] + "..."


def _field_names(model: type[BaseModel], loc: FieldPath) -> list[str]:
    """The field names (as written in YAML) of the model found at `loc`, or []."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        inner = _model_in(current)
        if inner is None:
            return []
        fields = {f.alias or name: f for name, f in inner.model_fields.items()}
        if part not in fields:
            return []
        current = fields[str(part)].annotation
    inner = _model_in(current)
    if inner is None:
        return []
    return [f.alias or name for name, f in inner.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as Purpose, Purpose | None or list[Person]."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def salvage(data: dict[str, Any], problems: Sequence[FieldProblem]) -> dict[str, Any]:
    """A copy of the document without the fields that have problems, and without nulls (as
    the input the policies see leaves out what is not set)."""
    kept = copy.deepcopy(data)
    for problem in problems:
        _drop(kept, problem.loc)
    cleaned: dict[str, Any] = _without_nulls(kept)
    return cleaned


def _without_nulls(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_nulls(v) for v in data if v is not None]
    return data


def _drop(data: Any, loc: FieldPath) -> None:
    for depth in range(len(loc), 0, -1):
        parent: Any = data
        for part in loc[: depth - 1]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        last = loc[depth - 1]
        if isinstance(parent, dict) and last in parent:
            del parent[last]
            return
        if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            parent[last] = None  # keeps the other items' indexes; nulls are dropped after
            return
