"""Total helpers for provider `normalize` functions.

A stored delivery is authentic but its shape is the provider's business: these helpers read
nested fields without ever raising on an unexpected type, so a payload we do not fully
understand still becomes an event (only invalid JSON is an error, as `ValueError`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from typing import Any

import msgspec

from backend.connectors.base import NormalizedEvent
from backend.connectors.paths import walk

Scalar = str | int | float | bool | None
# `dig(value, "a", 0, "b")`: the one path walker (backend/connectors/paths.py), by its
# name in normalizers.
dig = walk


def load_json(body: bytes) -> Any:
    """The whole JSON document; invalid JSON → ValueError (the worker records the failure)."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError("the body is not valid JSON") from exc


def load_object(body: bytes) -> dict[str, Any]:
    """A JSON object, or an empty dict for other valid JSON values."""
    value = load_json(body)
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str | None:
    """A string field as str; numbers become their decimal text; anything else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def scalar(value: Any) -> Scalar:
    return value if isinstance(value, str | int | float | bool) or value is None else None


def scalars(payload: Any) -> dict[str, Scalar]:
    """The top-level scalar fields of an object: the generic envelope's data."""
    if not isinstance(payload, dict):
        return {}
    return {
        k: v for k, v in payload.items() if isinstance(v, str | int | float | bool) or v is None
    }


def from_unix(value: Any, *, millis: bool = False) -> dt.datetime | None:
    """A UTC time from unix seconds (or milliseconds) given as a number or numeric text."""
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value) if isinstance(value, str | int | float) else None
    except ValueError:
        return None
    if seconds is None:
        return None
    if millis:
        seconds /= 1000
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def from_iso(value: Any) -> dt.datetime | None:
    """A UTC time from RFC 3339 text (nanosecond fractions, as Pub/Sub sends, are cut)."""
    if not isinstance(value, str) or not value:
        return None
    head, dot, rest = value.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}" if digits else head + rest
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def from_http_date(value: Any) -> dt.datetime | None:
    """A UTC time from an RFC 2822 / HTTP date (channel expirations, Twilio timestamps)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def generic_event(event_type: str, payload: Any, subject: str | None = None) -> NormalizedEvent:
    """The envelope for types we do not model: type passed through, top-level scalars."""
    return NormalizedEvent(type=event_type, subject=subject, time=None, data=scalars(payload))
