"""`parse_datetime`: Unix times, ISO 8601 or a strptime pattern, read in a zone, written
as RFC 3339 UTC."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from typing import Any

from backend.mappings import schemas
from backend.mappings.steps import (
    INTEGER,
    MAX_NUMBER_TEXT,
    FieldFailure,
    Step,
    TransformInvalid,
    kind,
    parse_float,
    require_text,
    show,
)

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
        number = parse_float(text) if len(text) <= MAX_NUMBER_TEXT else None
        if number is None:
            raise FieldFailure(f"{op}: {show(value)} is not a Unix time")
        value = int(text) if INTEGER.fullmatch(text) else number
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldFailure(f"{op}: expected a Unix time, got {kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldFailure(f"{op}: {show(value)} is not a Unix time")
    seconds = value / scale if scale != 1 else value
    if not _MIN_UNIX <= seconds <= _MAX_UNIX:
        raise FieldFailure(f"{op}: {show(value)} is out of range")
    if isinstance(value, int):
        whole, rest = divmod(value, scale)
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=whole, microseconds=rest * 1_000_000 // scale
        )
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def _from_iso(value: Any, op: str) -> dt.datetime:
    text = require_text(value, op).strip()
    if len(text) > 64:
        raise FieldFailure(f"{op}: {show(value)} is not an ISO 8601 time")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise FieldFailure(f"{op}: {show(value)} is not an ISO 8601 time") from None


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
        text = require_text(value, op)
        if len(text) > 200:
            raise FieldFailure(f"{op}: {show(value)} does not match {fmt!r}")
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            raise FieldFailure(f"{op}: {show(value)} does not match {fmt!r}") from None

    def parse_datetime(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        moment = read(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        try:
            return rfc3339(moment)
        except OverflowError:
            raise FieldFailure(f"{op}: {show(value)} is out of range") from None

    return parse_datetime
