"""Transforms: each op of a rule's pipeline, checked once when the rule is compiled and then
applied as a plain function `(value, payload) -> value` (see steps.py for the contract).

This module holds the array, lookup and composition ops and `build_step`, the one table from
an op to its function; scalar conversions live in steps.py, time in datetimes.py, regexes in
regexes.py.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable
from typing import Any

from backend.mappings import schemas
from backend.mappings.datetimes import build_parse_datetime
from backend.mappings.paths import SourceError, compile_source
from backend.mappings.regexes import build_regex_extract, build_regex_replace
from backend.mappings.steps import (
    FieldFailure,
    Step,
    TransformInvalid,
    bounded,
    kind,
    lower,
    require_text,
    show,
    to_bool,
    to_float,
    to_int,
    to_string,
    trim,
    upper,
)

# -- arrays ---------------------------------------------------------------------------------


def build_split(spec: schemas.SplitOp) -> Step:
    sep = spec.sep

    def split(value: Any, payload: Any = None) -> Any:
        return None if value is None else require_text(value, "split").split(sep)

    return split


def build_join(spec: schemas.JoinOp) -> Step:
    sep = spec.sep

    def join(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        if not isinstance(value, list):
            raise FieldFailure(f"join: expected an array, got {kind(value)}")
        parts = []
        for item in value:
            if item is None:
                continue
            if isinstance(item, dict | list):
                raise FieldFailure("join: the array holds objects or arrays")
            parts.append(to_string(item))
        return bounded(sep.join(parts), "join")

    return join


# -- lookups and composition ----------------------------------------------------------------


def _key(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return str(to_string(value))
    return None


def build_lookup(spec: schemas.LookupOp) -> Step:
    table, default = dict(spec.table), spec.default

    def lookup(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        key = _key(value)
        if key is None:
            raise FieldFailure(f"lookup: expected text or a number, got {kind(value)}")
        return table.get(key, default)

    return lookup


_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


def _template_parts(template: str, names: set[str]) -> list[tuple[bool, str]]:
    """The template as literal text and placeholder names, in order."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append((False, template[position : match.start()]))
        token, name = match.group(0), match.group(1)
        if token in ("{{", "}}"):
            parts.append((False, token[0]))
        elif name is None:
            raise TransformInvalid("template", "a lone brace: write {{ or }} for a literal one")
        elif name != "value" and name not in names:
            raise TransformInvalid("template", f"{{{name}}} is not named in values")
        else:
            parts.append((True, name))
        position = match.end()
    if position < len(template):
        parts.append((False, template[position:]))
    return parts


def _compile_expressions(field: str, expressions: dict[str, str]) -> dict[str, Any]:
    compiled = {}
    for name, expression in expressions.items():
        try:
            compiled[name] = compile_source(expression)
        except SourceError as exc:
            raise TransformInvalid(f"{field}.{name}" if name else field, str(exc)) from None
    return compiled


def _fill(value: Any) -> str:
    if value is None:
        return ""
    text = to_string(value)
    assert isinstance(text, str)
    return text


def build_template(spec: schemas.TemplateOp) -> Step:
    for name in spec.values:
        if not name.isidentifier() or name == "value":
            raise TransformInvalid(f"values.{name}", "names are identifiers other than value")
    getters = _compile_expressions("values", spec.values)
    parts = _template_parts(spec.template, set(getters))

    def template(value: Any, payload: Any = None) -> Any:
        out = []
        for is_name, text in parts:
            if not is_name:
                out.append(text)
            elif text == "value":
                out.append(_fill(value))
            else:
                out.append(_fill(getters[text](payload)))
        return bounded("".join(out), "template")

    return template


def build_coalesce(spec: schemas.CoalesceOp) -> Step:
    getters = list(
        _compile_expressions("sources", {str(i): s for i, s in enumerate(spec.sources)}).values()
    )

    def coalesce(value: Any, payload: Any = None) -> Any:
        if value is not None:
            return value
        for get in getters:
            found = get(payload)
            if found is not None:
                return found
        return None

    return coalesce


# ISO 4217 currencies whose minor unit is not 1/100 (Stripe's zero-decimal list included).
_EXPONENTS = {
    **{
        code: 0
        for code in (
            *("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"),
            *("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
        )
    },
    **{code: 3 for code in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")},
    "CLF": 4,
    "UYW": 4,
}


def build_minor_to_major(spec: schemas.MinorToMajorOp) -> Step:
    currency = _compile_expressions("currency", {"": spec.currency})[""] if spec.currency else None

    def minor_to_major(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            value = to_int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldFailure(f"minor_to_major: {show(value)} is not a whole amount")
        code = currency(payload) if currency is not None else None
        exponent = _EXPONENTS.get(code.upper(), 2) if isinstance(code, str) else 2
        if abs(value) >= 10**300:
            raise FieldFailure("minor_to_major: the amount is out of range")
        return value if exponent == 0 else float(decimal.Decimal(value).scaleb(-exponent))

    return minor_to_major


_SIMPLE: dict[type[schemas._Op], Step] = {
    schemas.TrimOp: trim,
    schemas.LowerOp: lower,
    schemas.UpperOp: upper,
    schemas.ToIntOp: to_int,
    schemas.ToFloatOp: to_float,
    schemas.ToBoolOp: to_bool,
    schemas.ToStringOp: to_string,
}
_BUILDERS: dict[type[schemas._Op], Callable[[Any], Step]] = {
    schemas.ParseDatetimeOp: build_parse_datetime,
    schemas.RegexExtractOp: build_regex_extract,
    schemas.RegexReplaceOp: build_regex_replace,
    schemas.SplitOp: build_split,
    schemas.JoinOp: build_join,
    schemas.LookupOp: build_lookup,
    schemas.TemplateOp: build_template,
    schemas.CoalesceOp: build_coalesce,
    schemas.MinorToMajorOp: build_minor_to_major,
}


def build_step(spec: schemas._Op) -> Step:
    """The function for one transform; raises TransformInvalid when it can never work."""
    simple = _SIMPLE.get(type(spec))
    if simple is not None:
        return simple
    return _BUILDERS[type(spec)](spec)
