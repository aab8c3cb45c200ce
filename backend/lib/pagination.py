"""List queries: keyset (cursor) pagination over (time, id), newest first, and the query
parameters every list shares.

A cursor is the position of the last row of a page; the next page is everything strictly
before it, so pages stay stable while new rows arrive and rows leave a filter. Clients treat
it as opaque, but its shape is a documented pattern (microseconds since the epoch, a dash,
the row id in hex) so the OpenAPI document can say exactly which strings are cursors: any
string of that shape names a position, and any other is refused with 400.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import msgspec
from litestar.params import Parameter
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from backend.lib.errors import validation_error

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

# 17 digits of microseconds reach the year 5138, inside what datetime and PostgreSQL hold.
CURSOR_PATTERN = r"^[0-9]{1,17}-[0-9a-f]{32}$"
# PostgreSQL text cannot hold U+0000: no filter value may contain it.
TEXT_PATTERN = r"^[^\x00]*$"
# JSON Schema patterns are searched, and a Python `$` also matches before a final newline.
_CURSOR = re.compile(r"([0-9]{1,17})-([0-9a-f]{32})\n?")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MIN_UTC = dt.datetime.min.replace(tzinfo=dt.UTC)
_MAX_UTC = dt.datetime.max.replace(tzinfo=dt.UTC)

# RFC 3339 section 5.6 `date-time`, the only time format the API accepts.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))\n?"
)


class Page(msgspec.Struct):
    items: list[Any]
    next_cursor: str | None


def cursor_parameter() -> Any:
    return Parameter(
        default=None,
        pattern=CURSOR_PATTERN,
        description="`next_cursor` of the previous page (opaque; omit for the first page).",
    )


def filter_parameter(description: str) -> Any:
    return Parameter(default=None, pattern=TEXT_PATTERN, description=description)


def choice_parameter(choices: tuple[str, ...], description: str) -> Any:
    """An enumerated filter. Typed `str` in the handler (see `parse_choice`): Litestar would
    turn `?status=null` into "no filter" for a Literal, though `null` is no status."""
    return Parameter(default=None, schema_extra={"enum": list(choices)}, description=description)


def parse_choice(field: str, value: str | None, choices: tuple[str, ...]) -> str | None:
    if value is not None and value not in choices:
        raise validation_error(field, f"must be one of {', '.join(choices)}", status=400)
    return value


def limit_parameter(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> Any:
    return Parameter(default=default, ge=1, le=maximum, description="Rows per page.")


def time_parameter(description: str) -> Any:
    """An RFC 3339 date-time in the query. Typed `str` in the handler because Litestar's
    lenient conversion would take `0.5` as a Unix time; `parse_time` is exact."""
    return Parameter(default=None, description=description, schema_extra={"format": "date-time"})


def clamp_limit(limit: int | None, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > maximum:
        raise validation_error("limit", f"must be between 1 and {maximum}", status=400)
    return limit


def parse_time(field: str, value: str | None) -> dt.datetime | None:
    """An RFC 3339 date-time as an aware UTC datetime; 400 for anything else. Instants past
    the ends of the calendar once moved to UTC (0001-01-01T00:00:00+05:00) are clamped."""
    if value is None:
        return None
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise validation_error(field, "must be an RFC 3339 date-time", status=400)
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micros = int((match.group(7) or "0")[:6].ljust(6, "0"))
    sign, offset_hours, offset_minutes = match.group(9), match.group(10), match.group(11)
    offset = dt.timedelta(0)
    if sign:
        offset = dt.timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        offset = -offset if sign == "-" else offset
    try:
        if second > 60 or (sign and (int(offset_hours) > 23 or int(offset_minutes) > 59)):
            raise ValueError(value)
        # Year 0 is valid RFC 3339 but before datetime's calendar: the earliest instant.
        # A leap second (:60) is the instant after :59.
        naive = dt.datetime(max(year, 1), month, day, hour, minute, min(second, 59), micros)
    except ValueError:
        raise validation_error(field, "must be an RFC 3339 date-time", status=400) from None
    if year == 0:
        return _MIN_UTC
    leap = dt.timedelta(seconds=1) if second == 60 else dt.timedelta(0)
    try:
        return naive.replace(tzinfo=dt.UTC) - offset + leap
    except OverflowError:
        return _MIN_UTC if offset > dt.timedelta(0) else _MAX_UTC


def encode_cursor(at: dt.datetime, row_id: uuid.UUID) -> str:
    micros = (at - _EPOCH) // dt.timedelta(microseconds=1)
    return f"{micros}-{row_id.hex}"


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise validation_error("cursor", "is not a cursor this API issued", status=400)
    at = _EPOCH + dt.timedelta(microseconds=int(match.group(1)))
    return at, uuid.UUID(hex=match.group(2))


async def paginate(
    query: Select, *, time_column: str, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Run `query` one page at a time; rows must include `id` and `time_column`."""
    if cursor:
        at, row_id = decode_cursor(cursor)
        query = query.where(WhereRaw(f"({time_column}, id) < ({{}}, {{}})", at, row_id))
    rows = (
        await query.order_by(query.table._meta.get_column_by_name(time_column), ascending=False)
        .order_by(query.table._meta.primary_key, ascending=False)
        .limit(limit + 1)
    )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(last[time_column], last["id"])
    return rows, next_cursor
