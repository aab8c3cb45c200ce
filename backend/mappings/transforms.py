"""Transforms: each op of a rule's pipeline, checked once when the rule is compiled and then
applied as a plain function `(value, payload) -> value`.

A step raises `FieldFailure` for a value it cannot convert; the engine records that as the
rule's error and goes on. A null passes through every step except `coalesce` and `template`,
so a missing value reaches the rule's `default` or `required` check unchanged.

Regexes run on RE2 (google-re2): linear time in the input whatever the pattern, so no
pattern can backtrack catastrophically. Inputs and outputs are still bounded so a step's
cost stays proportional to a small, known size.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import zoneinfo
from collections.abc import Callable
from typing import Any

import msgspec
import re2

from backend.mappings import schemas
from backend.mappings.paths import SourceError, compile_source

Step = Callable[[Any, Any], Any]

# Longest text a regex step reads, and longest text any step may produce.
MAX_REGEX_INPUT = 100_000
MAX_TEXT_OUTPUT = 1_000_000
# RE2's memory budget per compiled pattern (its default is 8 MiB as well).
REGEX_MAX_MEM = 8 << 20
_MAX_NUMBER_TEXT = 100


class FieldFailure(Exception):
    """A value the step cannot turn into its output; the message names why."""


class TransformInvalid(ValueError):
    """A transform that can never work (bad regex, unknown zone); `field` is its own
    field name, such as `pattern`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _show(value: Any) -> str:
    """A short description of a value for an error message (payloads can be large)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _text(value: Any, op: str) -> str:
    if not isinstance(value, str):
        raise FieldFailure(f"{op}: expected text, got {_kind(value)}")
    return value


def _bounded(text: str, op: str) -> str:
    if len(text) > MAX_TEXT_OUTPUT:
        raise FieldFailure(f"{op}: the result is longer than {MAX_TEXT_OUTPUT} characters")
    return text


# -- scalar conversions ---------------------------------------------------------------------


def trim(value: Any, payload: Any = None) -> Any:
    return None if value is None else _text(value, "trim").strip()


def lower(value: Any, payload: Any = None) -> Any:
    return None if value is None else _text(value, "lower").lower()


def upper(value: Any, payload: Any = None) -> Any:
    return None if value is None else _text(value, "upper").upper()


_INTEGER = re.compile(r"[+-]?[0-9]+")


def to_int(value: Any, payload: Any = None) -> Any:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise FieldFailure(f"to_int: {_show(value)} is not a whole number")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= _MAX_NUMBER_TEXT:
            if _INTEGER.fullmatch(text):
                return int(text)
            number = _parse_float(text)
            if number is not None and number.is_integer():
                return int(number)
        raise FieldFailure(f"to_int: {_show(value)} is not a whole number")
    raise FieldFailure(f"to_int: expected a number or text, got {_kind(value)}")


def _parse_float(text: str) -> float | None:
    """A finite decimal number (no `nan`, `inf`, hex or underscores)."""
    if not re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def to_float(value: Any, payload: Any = None) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        number = float(value) if abs(value) < 1e308 else math.inf
    elif isinstance(value, str):
        text = value.strip()
        parsed = _parse_float(text) if len(text) <= _MAX_NUMBER_TEXT else None
        if parsed is None:
            raise FieldFailure(f"to_float: {_show(value)} is not a number")
        number = parsed
    else:
        raise FieldFailure(f"to_float: expected a number or text, got {_kind(value)}")
    if not math.isfinite(number):
        raise FieldFailure(f"to_float: {_show(value)} is not a finite number")
    return number


_TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
_FALSE = frozenset({"false", "f", "no", "n", "off", "0"})


def to_bool(value: Any, payload: Any = None) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise FieldFailure(f"to_bool: {_show(value)} is not a boolean")


def to_string(value: Any, payload: Any = None) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldFailure(f"to_string: {_show(value)} is not a finite number")
        return str(value)
    try:
        return _bounded(msgspec.json.encode(value).decode(), "to_string")
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise FieldFailure(f"to_string: cannot write {_kind(value)} as text") from exc


# -- time -----------------------------------------------------------------------------------

_NAMED_FORMATS = frozenset({"unix_s", "unix_ms", "iso8601"})
# Unix times within datetime's years 1..9999.
_MIN_UNIX = -62_135_596_800
_MAX_UNIX = 253_402_300_799


def rfc3339(moment: dt.datetime) -> str:
    """UTC, `Z`, microseconds only when there are some."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _from_unix(value: Any, scale: int, op: str) -> dt.datetime:
    if isinstance(value, str):
        text = value.strip()
        number = _parse_float(text) if len(text) <= _MAX_NUMBER_TEXT else None
        if number is None:
            raise FieldFailure(f"{op}: {_show(value)} is not a Unix time")
        value = int(text) if _INTEGER.fullmatch(text) else number
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldFailure(f"{op}: expected a Unix time, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldFailure(f"{op}: {_show(value)} is not a Unix time")
    seconds = value / scale if scale != 1 else value
    if not _MIN_UNIX <= seconds <= _MAX_UNIX:
        raise FieldFailure(f"{op}: {_show(value)} is out of range")
    if isinstance(value, int):
        whole, rest = divmod(value, scale)
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=whole, microseconds=rest * 1_000_000 // scale
        )
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def _from_iso(value: Any, op: str) -> dt.datetime:
    text = _text(value, op).strip()
    if len(text) > 64:
        raise FieldFailure(f"{op}: {_show(value)} is not an ISO 8601 time")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise FieldFailure(f"{op}: {_show(value)} is not an ISO 8601 time") from None


def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise TransformInvalid("tz", f"unknown time zone {name!r}") from None


def build_parse_datetime(spec: schemas.ParseDatetimeOp) -> Step:
    """Naive times are read in `tz` with PEP 495's fold=0: a wall time repeated when clocks
    go back is its first occurrence, one skipped when they go forward keeps the offset from
    before the change."""
    zone: dt.tzinfo = _zone(spec.tz) if spec.tz else dt.UTC
    fmt = spec.format
    op = "parse_datetime"
    if fmt is not None and fmt not in _NAMED_FORMATS:
        if "%" not in fmt:
            raise TransformInvalid("format", "a strptime format needs at least one % directive")
        try:
            dt.datetime(2001, 2, 3, 4, 5, 6).strftime(fmt)
        except ValueError as exc:
            raise TransformInvalid("format", f"not a strptime format: {exc}") from None

    def read(value: Any) -> dt.datetime:
        if fmt == "unix_s":
            return _from_unix(value, 1, op)
        if fmt == "unix_ms":
            return _from_unix(value, 1000, op)
        if fmt == "iso8601":
            return _from_iso(value, op)
        if fmt is None:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return _from_unix(value, 1, op)
            return _from_iso(value, op)
        text = _text(value, op)
        if len(text) > 200:
            raise FieldFailure(f"{op}: {_show(value)} does not match {fmt!r}")
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            raise FieldFailure(f"{op}: {_show(value)} does not match {fmt!r}") from None

    def parse_datetime(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        moment = read(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        try:
            return rfc3339(moment)
        except OverflowError:
            raise FieldFailure(f"{op}: {_show(value)} is out of range") from None

    return parse_datetime


# -- regexes --------------------------------------------------------------------------------


def compile_pattern(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = REGEX_MAX_MEM
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise TransformInvalid("pattern", f"not a valid RE2 pattern: {reason}") from None
    except (TypeError, ValueError) as exc:
        raise TransformInvalid("pattern", f"not a valid RE2 pattern: {exc}") from None


def _regex_input(value: Any, op: str) -> str:
    text = _text(value, op)
    if len(text) > MAX_REGEX_INPUT:
        raise FieldFailure(f"{op}: text longer than {MAX_REGEX_INPUT} characters")
    return text


def build_regex_extract(spec: schemas.RegexExtractOp) -> Step:
    compiled = compile_pattern(spec.pattern)
    group: int | str = spec.group if spec.group is not None else (1 if compiled.groups else 0)
    if isinstance(group, int) and not 0 <= group <= compiled.groups:
        raise TransformInvalid("group", f"the pattern has {compiled.groups} group(s)")
    if isinstance(group, str) and group not in compiled.groupindex:
        raise TransformInvalid("group", f"the pattern has no group named {group!r}")

    def regex_extract(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        found = compiled.search(_regex_input(value, "regex_extract"))
        return None if found is None else found.group(group)

    return regex_extract


# Backslash escapes a replacement may use: a group by number or name, or a backslash.
_REPLACEMENT_ESCAPE = re.compile(r"\\(?:g<([^>]*)>|([0-9]{1,2})|(\\)|(.?))", re.DOTALL)


def _check_replacement(replacement: str, compiled: Any) -> None:
    for match in _REPLACEMENT_ESCAPE.finditer(replacement):
        name, number, _, other = match.groups()
        if other is not None:
            raise TransformInvalid(
                "replacement", "use \\1 or \\g<name> for groups and \\\\ for a backslash"
            )
        if number is not None and not 1 <= int(number) <= compiled.groups:
            raise TransformInvalid("replacement", f"no group {number} in the pattern")
        if name is not None:
            if name.isdigit():
                if int(name) > compiled.groups:
                    raise TransformInvalid("replacement", f"no group {name} in the pattern")
            elif name not in compiled.groupindex:
                raise TransformInvalid("replacement", f"no group named {name!r} in the pattern")


def build_regex_replace(spec: schemas.RegexReplaceOp) -> Step:
    compiled = compile_pattern(spec.pattern)
    _check_replacement(spec.replacement, compiled)
    replacement = spec.replacement
    references = sum(1 for m in _REPLACEMENT_ESCAPE.finditer(replacement) if m.group(3) is None)

    def regex_replace(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        text = _regex_input(value, "regex_replace")
        # Matches do not overlap, so groups copy at most the text once per reference; the
        # literal part is added once per match. Count matches only when that could overflow.
        copied = len(text) * (1 + references)
        if copied + (len(text) + 1) * len(replacement) > MAX_TEXT_OUTPUT:
            matches = sum(1 for _ in compiled.finditer(text))
            if copied + matches * len(replacement) > MAX_TEXT_OUTPUT:
                raise FieldFailure("regex_replace: the result would be too long")
        return compiled.sub(replacement, text)

    return regex_replace


# -- arrays ---------------------------------------------------------------------------------


def build_split(spec: schemas.SplitOp) -> Step:
    sep = spec.sep

    def split(value: Any, payload: Any = None) -> Any:
        return None if value is None else _text(value, "split").split(sep)

    return split


def build_join(spec: schemas.JoinOp) -> Step:
    sep = spec.sep

    def join(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        if not isinstance(value, list):
            raise FieldFailure(f"join: expected an array, got {_kind(value)}")
        parts = []
        for item in value:
            if item is None:
                continue
            if isinstance(item, dict | list):
                raise FieldFailure("join: the array holds objects or arrays")
            parts.append(to_string(item))
        return _bounded(sep.join(parts), "join")

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
            raise FieldFailure(f"lookup: expected text or a number, got {_kind(value)}")
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
        return _bounded("".join(out), "template")

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
            raise FieldFailure(f"minor_to_major: {_show(value)} is not a whole amount")
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
