"""What every transform shares: the step signature, its two errors, and the scalar
conversions (text case and whitespace, numbers, booleans, text).

A step raises `FieldFailure` for a value it cannot convert; the engine records that as the
rule's error and goes on. A null passes through every step except `coalesce` and `template`,
so a missing value reaches the rule's `default` or `required` check unchanged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import msgspec

Step = Callable[[Any, Any], Any]

# Longest text any step may produce.
MAX_TEXT_OUTPUT = 1_000_000
MAX_NUMBER_TEXT = 100


class FieldFailure(Exception):
    """A value the step cannot turn into its output; the message names why."""


class TransformInvalid(ValueError):
    """A transform that can never work (bad regex, unknown zone); `field` is its own
    field name, such as `pattern`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def show(value: Any) -> str:
    """A short description of a value for an error message (payloads can be large, so
    only a prefix of text is ever written out, and containers only by kind)."""
    if isinstance(value, dict | list):
        return f"an {kind(value)}"
    if isinstance(value, int) and value.bit_length() > 128:
        return "a very large number"
    text = repr(value[:40] if isinstance(value, str) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def kind(value: Any) -> str:
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


def require_text(value: Any, op: str) -> str:
    if not isinstance(value, str):
        raise FieldFailure(f"{op}: expected text, got {kind(value)}")
    return value


def bounded(text: str, op: str) -> str:
    if len(text) > MAX_TEXT_OUTPUT:
        raise FieldFailure(f"{op}: the result is longer than {MAX_TEXT_OUTPUT} characters")
    return text


# -- scalar conversions ---------------------------------------------------------------------


def trim(value: Any, payload: Any = None) -> Any:
    return None if value is None else require_text(value, "trim").strip()


def lower(value: Any, payload: Any = None) -> Any:
    return None if value is None else require_text(value, "lower").lower()


def upper(value: Any, payload: Any = None) -> Any:
    return None if value is None else require_text(value, "upper").upper()


INTEGER = re.compile(r"[+-]?[0-9]+")


def to_int(value: Any, payload: Any = None) -> Any:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise FieldFailure(f"to_int: {show(value)} is not a whole number")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= MAX_NUMBER_TEXT:
            if INTEGER.fullmatch(text):
                return int(text)
            number = parse_float(text)
            if number is not None and number.is_integer():
                return int(number)
        raise FieldFailure(f"to_int: {show(value)} is not a whole number")
    raise FieldFailure(f"to_int: expected a number or text, got {kind(value)}")


def parse_float(text: str) -> float | None:
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
        parsed = parse_float(text) if len(text) <= MAX_NUMBER_TEXT else None
        if parsed is None:
            raise FieldFailure(f"to_float: {show(value)} is not a number")
        number = parsed
    else:
        raise FieldFailure(f"to_float: expected a number or text, got {kind(value)}")
    if not math.isfinite(number):
        raise FieldFailure(f"to_float: {show(value)} is not a finite number")
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
    raise FieldFailure(f"to_bool: {show(value)} is not a boolean")


def to_string(value: Any, payload: Any = None) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldFailure(f"to_string: {show(value)} is not a finite number")
        return str(value)
    try:
        return bounded(msgspec.json.encode(value).decode(), "to_string")
    except (TypeError, ValueError, OverflowError, RecursionError) as exc:
        raise FieldFailure(f"to_string: cannot write {kind(value)} as text") from exc
