"""The simulated calendar test mode syncs: events.list and calendarList.list with page
tokens and sync tokens, as Google documents them.

A calendar holds GENERATED events derived from their index (the same in every process)
plus those test mode created (`simulator.EVENTS`). A full read pages through them and ends
with a `nextSyncToken` that records when it was issued; a read with that token returns the
events changed since (cancelled ones included), and a token the simulator did not issue
answers 410 Gone, as Google does when a full sync is required.
Docs: https://developers.google.com/workspace/calendar/api/guides/sync
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from backend.connectors.providers import _google
from backend.connectors.simulator import SimRequest, SimResponse, json_response

GENERATED = 60
MAX_RESULTS = 2500
_FIRST_START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
_CREATED = "2026-10-01T08:00:00.000Z"
_TITLES = ("Standup", "Design review", "1:1", "Planning", "Customer call")
# Parameters Google refuses beside a syncToken: their answer would not be a change set.
_NOT_WITH_SYNC = ("timeMin", "timeMax", "updatedMin", "q", "orderBy", "iCalUID")


def generated_event(calendar: str, index: int) -> dict[str, Any]:
    start = _FIRST_START + dt.timedelta(hours=index * 26)
    return {
        "kind": "calendar#event",
        "etag": f'"{3300000000000000 + index}"',
        "id": f"sim{index:05d}",
        "status": "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid=sim{index:05d}",
        "created": _CREATED,
        "updated": _CREATED,
        "summary": f"{_TITLES[index % len(_TITLES)]} #{index + 1}",
        "creator": {"email": calendar, "self": True},
        "organizer": {"email": calendar, "self": True},
        "start": {"dateTime": _rfc3339(start), "timeZone": "UTC"},
        "end": {"dateTime": _rfc3339(start + dt.timedelta(minutes=30)), "timeZone": "UTC"},
        "iCalUID": f"sim{index:05d}@google.com",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": "default",
    }


def sync_token(scope: str) -> str:
    """A token naming what it syncs and when it was issued (milliseconds)."""
    raw = json.dumps({"s": scope, "t": time.time_ns() // 1_000_000}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token_time(token: str, scope: str) -> str | None:
    """When a token of ours for `scope` was issued (RFC 3339), None for any other token."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("t"), int):
        return None
    return _rfc3339(dt.datetime.fromtimestamp(data["t"] / 1000, dt.UTC))


def full_sync_required() -> SimResponse:
    return _google.api_error(
        410, "Sync token is no longer valid, a full sync is required.", "fullSyncRequired", "GONE"
    )


def list_events(request: SimRequest, calendar: str, created: list[dict[str, Any]]) -> SimResponse:
    """GET calendars/{calendarId}/events for the calendar's generated and created events."""
    events = [generated_event(calendar, i) for i in range(GENERATED)] + created
    token = request.query.get("syncToken")
    if token is not None:
        if any(name in request.query for name in _NOT_WITH_SYNC):
            return _google.invalid_argument(
                "Sync token cannot be used with other query parameters."
            )
        since = token_time(token, f"events:{calendar}")
        if since is None:
            return full_sync_required()
        chosen = [e for e in events if _later(e.get("updated"), since)]
    else:
        try:
            chosen = [e for e in events if _in_window(e, request.query)]
        except ValueError:
            return _google.invalid_argument("Bad Request")
        if request.query.get("showDeleted") != "true":
            chosen = [e for e in chosen if e.get("status") != "cancelled"]
    return _paged(request, chosen, 250, lambda: sync_token(f"events:{calendar}"), calendar)


def list_calendars(request: SimRequest, entry: dict[str, Any]) -> SimResponse:
    """GET users/me/calendarList: the one calendar; a sync token read finds no change."""
    token = request.query.get("syncToken")
    if token is not None and token_time(token, "calendarList") is None:
        return full_sync_required()
    entries = [] if token is not None else [entry]
    return _paged(request, entries, 100, lambda: sync_token("calendarList"), None)


def _paged(
    request: SimRequest,
    items: list[dict[str, Any]],
    default: int,
    next_sync: Callable[[], str],
    calendar: str | None,
) -> SimResponse:
    size_text = request.query.get("maxResults", str(default))
    offset_text = request.query.get("pageToken", "0")
    if not size_text.isdigit() or int(size_text) < 1 or not offset_text.isdigit():
        return _google.invalid_argument("Invalid Value")
    offset, size = int(offset_text), min(int(size_text), MAX_RESULTS)
    body: dict[str, Any] = {
        "kind": "calendar#events" if calendar else "calendar#calendarList",
        "etag": '"p33k9lf3vq2ngg0o"',
        "items": items[offset : offset + size],
    }
    if calendar:
        body.update(summary=calendar, updated=_CREATED, timeZone="UTC", accessRole="owner")
    if offset + size < len(items):
        body["nextPageToken"] = str(offset + size)
    else:
        body["nextSyncToken"] = next_sync()
    return json_response(200, body)


def _in_window(event: dict[str, Any], query: dict[str, str]) -> bool:
    """timeMin bounds the end, timeMax the start (Google's rule); all-day dates compare as
    midnight UTC."""
    start, end = _when(event.get("start")), _when(event.get("end"))
    low, high = query.get("timeMin"), query.get("timeMax")
    if low and end is not None and end <= _google.parse_rfc3339(low):
        return False
    return not (high and start is not None and start >= _google.parse_rfc3339(high))


def _when(value: Any) -> dt.datetime | None:
    if not isinstance(value, dict):
        return None
    text = value.get("dateTime") or value.get("date")
    if not isinstance(text, str):
        return None
    try:
        return _google.parse_rfc3339(text)
    except ValueError:
        return None


def _later(updated: Any, since: str) -> bool:
    return isinstance(updated, str) and _google.parse_rfc3339(updated) > _google.parse_rfc3339(
        since
    )


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
