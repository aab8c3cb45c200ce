"""Keyset (cursor) pagination over (created_at, id), newest first.

A cursor is the opaque position of the last row of a page; the next page is everything
strictly before it, so pages stay stable while new rows arrive.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any, TypeVar

import msgspec
from piccolo.columns.combination import WhereRaw
from piccolo.query import Select

from backend.lib.errors import validation_error

T = TypeVar("T")

MAX_LIMIT = 200


class Page(msgspec.Struct):
    items: list[Any]
    next_cursor: str | None


def clamp_limit(limit: int | None, default: int = 50) -> int:
    if limit is None:
        return default
    if limit < 1 or limit > MAX_LIMIT:
        raise validation_error("limit", f"must be between 1 and {MAX_LIMIT}", status=400)
    return limit


def encode_cursor(created_at: dt.datetime, row_id: uuid.UUID) -> str:
    raw = msgspec.json.encode([created_at.isoformat(), str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = msgspec.json.decode(raw, type=tuple[str, str])
        return dt.datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, msgspec.DecodeError, TypeError):
        raise validation_error("cursor", "is not a cursor this API issued", status=400) from None


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
