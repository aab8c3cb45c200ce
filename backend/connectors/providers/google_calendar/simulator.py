"""Google Calendar's API as documented: calendarList.list, events.insert and events.patch
(the events test mode created are kept in EVENTS, to patch and to show), events.list with
page and sync tokens (`listing.py`), plus Google's token revocation."""

import datetime as dt
import re
import secrets
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from backend.connectors.providers import _google
from backend.connectors.providers.google_calendar import listing
from backend.connectors.providers.google_calendar.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    remember,
)

#: Events test mode created, by "calendarId/eventId".
EVENTS: dict[str, dict[str, Any]] = {}
# A client-chosen event id: base32hex (a-v, 0-9), 5 to 1024 characters.
_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
_WRITABLE = ("summary", "description", "location", "start", "end", "attendees")

_ENTRY = {
    "kind": "calendar#calendarListEntry",
    "etag": '"1712345678901000"',
    "id": "test.user@example.com",
    "summary": "test.user@example.com",
    "timeZone": "Europe/Berlin",
    "colorId": "14",
    "backgroundColor": "#9fe1e7",
    "foregroundColor": "#000000",
    "selected": True,
    "accessRole": "owner",
    "defaultReminders": [{"method": "popup", "minutes": 10}],
    "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
    "primary": True,
}


def calendar_list(request: SimRequest) -> SimResponse:
    return listing.list_calendars(request, _ENTRY)


def list_events(request: SimRequest) -> SimResponse:
    """GET calendars/{calendarId}/events: the generated events and those test mode created."""
    calendar = _calendar_id(request)
    created = [event for key, event in EVENTS.items() if key.startswith(f"{calendar}/")]
    return listing.list_events(request, calendar, created)


def _calendar_id(request: SimRequest) -> str:
    calendar = unquote(request.path.split("/")[2])
    return "test.user@example.com" if calendar == "primary" else calendar


def _times_problem(event: dict[str, Any]) -> str | None:
    """Google's check: start and end are both given, and both dates or both times."""
    start, end = event.get("start"), event.get("end")
    if not isinstance(start, dict) or not isinstance(end, dict):
        return "Missing end time." if isinstance(start, dict) else "Missing start time."
    if ("date" in start) != ("date" in end):
        return "Invalid start time."
    return None


def _answered_times(event: dict[str, Any]) -> str | None:
    """Google answers each dateTime with its offset: a local time is placed in its timeZone
    (an unknown zone is refused). Returns Google's message when a time is refused."""
    for name in ("start", "end"):
        when = event.get(name)
        if not isinstance(when, dict) or "dateTime" not in when:
            continue
        try:
            moment = dt.datetime.fromisoformat(str(when["dateTime"]).replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=ZoneInfo(str(when.get("timeZone"))))
        except (ValueError, ZoneInfoNotFoundError):
            return f"Invalid time zone definition for {name} time."
        when["dateTime"] = moment.isoformat()
    return None


def insert_event(request: SimRequest) -> SimResponse:
    """POST calendars/{calendarId}/events: the Event resource Google answers."""
    body = _google.request_json(request)
    if body is None:
        return _google.invalid_argument("Parse Error")
    problem = _times_problem(body) or _answered_times(body)
    if problem:
        return _google.invalid_argument(problem)
    calendar = _calendar_id(request)
    event_id = body.get("id") or secrets.token_hex(13)
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        return _google.invalid_argument("Invalid resource id value.")
    if f"{calendar}/{event_id}" in EVENTS:
        return _google.api_error(
            409, "The requested identifier already exists.", "duplicate", "ALREADY_EXISTS"
        )
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event: dict[str, Any] = {
        "kind": "calendar#event",
        "etag": f'"{secrets.randbelow(10**16)}"',
        "id": event_id,
        "status": "confirmed",
        "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
        "created": now,
        "updated": now,
        "creator": {"email": calendar, "self": True},
        "organizer": {"email": calendar, "self": True},
        "iCalUID": f"{event_id}@google.com",
        "sequence": 0,
        "reminders": {"useDefault": True},
        "eventType": "default",
        **{name: body[name] for name in _WRITABLE if name in body},
    }
    for attendee in event.get("attendees", []):
        attendee.setdefault("responseStatus", "needsAction")
    remember(EVENTS, f"{calendar}/{event_id}", event)
    return json_response(200, event)


def get_event(request: SimRequest) -> SimResponse:
    """GET calendars/{calendarId}/events/{eventId}."""
    event = EVENTS.get(f"{_calendar_id(request)}/{unquote(request.path.split('/')[4])}")
    if event is None:
        return _google.api_error(404, "Not Found", "notFound", "NOT_FOUND")
    return json_response(200, event)


def patch_event(request: SimRequest) -> SimResponse:
    """PATCH calendars/{calendarId}/events/{eventId}: only the given fields change."""
    event = EVENTS.get(f"{_calendar_id(request)}/{unquote(request.path.split('/')[4])}")
    if event is None:
        return _google.api_error(404, "Not Found", "notFound", "NOT_FOUND")
    body = _google.request_json(request)
    if body is None:
        return _google.invalid_argument("Parse Error")
    changed = {**event, **{name: body[name] for name in _WRITABLE if name in body}}
    problem = _times_problem(changed) or _answered_times(changed)
    if problem:
        return _google.invalid_argument(problem)
    changed["sequence"] = int(event.get("sequence", 0)) + 1
    changed["updated"] = (
        dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )
    event.update(changed)
    return json_response(200, event)


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/users/me/calendarList", calendar_list),
        Route("POST", r"/calendars/[^/]+/events/watch", _google.watch_channel),
        Route("POST", r"/channels/stop", _google.stop_channel),
        Route("POST", r"/calendars/[^/]+/events", insert_event),
        Route("GET", r"/calendars/[^/]+/events", list_events),
        Route("GET", r"/calendars/[^/]+/events/[^/]+", get_event),
        Route("PATCH", r"/calendars/[^/]+/events/[^/]+", patch_event),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited(
        "calendar-json.googleapis.com", seconds
    ),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
)
