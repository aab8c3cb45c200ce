"""Google Calendar's outbound actions: create an event (events.insert) and change one
(events.patch: only the fields given change).

Docs: https://developers.google.com/workspace/calendar/api/v3/reference/events/insert
and https://developers.google.com/workspace/calendar/api/v3/reference/events/patch
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import quote

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError, json_object
from backend.connectors.providers._google import (
    EMAIL_ADDRESS,
    SCOPE_PREFIX,
    SINGLE_LINE,
    required_str,
)

# events.insert and events.patch take calendar.events or calendar
# (https://developers.google.com/workspace/calendar/api/v3/reference/events/insert#authorization);
# the spec offers the narrower calendar.events.
WRITE_SCOPES = (SCOPE_PREFIX + "calendar.events",)

_WHEN = {
    "description": "A timed moment (date_time, RFC 3339, with time_zone or an offset) or an "
    "all-day date (YYYY-MM-DD; an all-day event's end date is exclusive).",
    "oneOf": [
        {
            "type": "object",
            "properties": {
                "date_time": {
                    "type": "string",
                    "pattern": "^\\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])"
                    "T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?"
                    "(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)?$",
                },
                "time_zone": {
                    "type": "string",
                    "description": "An IANA time zone name, e.g. Europe/Zurich.",
                    "pattern": "^[A-Za-z]+(?:[/_+-][A-Za-z0-9]+)*$",
                    "maxLength": 64,
                },
            },
            "required": ["date_time"],
            # Google needs the offset in date_time unless time_zone names the zone.
            "if": {"not": {"required": ["time_zone"]}},
            "then": {"properties": {"date_time": {"format": "date-time"}}},
            "additionalProperties": False,
        },
        {
            "type": "object",
            "properties": {"date": {"type": "string", "format": "date"}},
            "required": ["date"],
            "additionalProperties": False,
        },
    ],
}
_ATTENDEE = {
    "type": "object",
    "properties": {
        "email": EMAIL_ADDRESS,
        "display_name": {**SINGLE_LINE, "maxLength": 256},
        "optional": {"type": "boolean"},
    },
    "required": ["email"],
    "additionalProperties": False,
}
_ID = {"type": "string", "minLength": 1, "maxLength": 1024, "not": {"pattern": "[\\s/]"}}
#: The event's fields, as both actions take them.
_EVENT_FIELDS: dict[str, Any] = {
    "calendar_id": {**_ID, "default": "primary", "description": "Defaults to primary."},
    "summary": {**SINGLE_LINE, "maxLength": 1024},
    "description": {"type": "string", "maxLength": 8192},
    "location": {**SINGLE_LINE, "maxLength": 1024},
    "start": _WHEN,
    "end": _WHEN,
    "attendees": {"type": "array", "items": _ATTENDEE, "maxItems": 1000},
    "send_updates": {
        "enum": ["all", "externalOnly", "none"],
        "description": "Whom Google notifies by email; Google's default is none.",
    },
}
CREATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": _EVENT_FIELDS,
    "required": ["start", "end"],
    "additionalProperties": False,
}
_CHANGES = ("summary", "description", "location", "start", "end", "attendees")
UPDATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {"event_id": _ID, **_EVENT_FIELDS},
    "required": ["event_id"],
    # A patch with nothing to change would only bump the event's sequence.
    "anyOf": [{"required": [name]} for name in _CHANGES],
    "additionalProperties": False,
}


def _when(value: dict[str, Any]) -> dict[str, str]:
    if "date" in value:
        return {"date": value["date"]}
    when = {"dateTime": value["date_time"]}
    if value.get("time_zone"):
        when["timeZone"] = value["time_zone"]
    return when


def _attendee(value: dict[str, Any]) -> dict[str, Any]:
    attendee: dict[str, Any] = {"email": value["email"]}
    if value.get("display_name"):
        attendee["displayName"] = value["display_name"]
    if "optional" in value:
        attendee["optional"] = value["optional"]
    return attendee


def event_body(data: dict[str, Any]) -> dict[str, Any]:
    """Google's Event resource holding exactly the fields the input names."""
    body: dict[str, Any] = {
        name: data[name] for name in ("summary", "description", "location") if name in data
    }
    for name in ("start", "end"):
        if name in data:
            body[name] = _when(data[name])
    if "attendees" in data:
        body["attendees"] = [_attendee(a) for a in data["attendees"]]
    return body


def _events_path(data: dict[str, Any]) -> str:
    return f"calendars/{quote(data.get('calendar_id') or 'primary', safe='')}/events"


def _params(data: dict[str, Any]) -> dict[str, str] | None:
    return {"sendUpdates": data["send_updates"]} if data.get("send_updates") else None


def _result(event: dict[str, Any]) -> ActionResult:
    return ActionResult(
        result={"id": required_str(event, "id"), "url": required_str(event, "htmlLink")},
        provider_response=event,
    )


def client_event_id(adapter: Adapter, idempotency_key: str) -> str:
    """Calendar's own idempotency: an event id the client chooses (base32hex, 5-1024
    characters) is refused 409 when it exists. Derived from the integration and the key, so
    a retry whose first attempt did land finds that event instead of creating another."""
    scope = f"{adapter.ctx.integration_id or ''}\0{idempotency_key}".encode()
    digest = hashlib.sha256(scope).digest()[:20]
    return base64.b32hexencode(digest).decode("ascii").lower()


async def create_event(adapter: Adapter, call: ActionCall) -> ActionResult:
    body = event_body(call.input)
    if call.idempotency_key:
        body["id"] = client_event_id(adapter, call.idempotency_key)
    path = _events_path(call.input)
    try:
        response = await adapter.call("POST", path, params=_params(call.input), json=body)
    except ProviderError as exc:
        if exc.status_code != 409 or "id" not in body:
            raise
        # "The requested identifier already exists": an earlier attempt created it.
        response = await adapter.call("GET", f"{path}/{body['id']}")
    return _result(json_object(response))


async def update_event(adapter: Adapter, call: ActionCall) -> ActionResult:
    path = f"{_events_path(call.input)}/{quote(call.input['event_id'], safe='')}"
    response = await adapter.call(
        "PATCH", path, params=_params(call.input), json=event_body(call.input)
    )
    return _result(json_object(response))


ACTIONS: tuple[Action, ...] = (
    Action(
        name="create_event",
        description="Create an event in one of the user's calendars (the primary one by "
        "default): title, times, description, location, attendees.",
        input_schema=CREATE_SCHEMA,
        run=create_event,
        required_scopes=(WRITE_SCOPES,),
        redact_fields=("description",),
        # With an idempotency key the event id is chosen by us (see client_event_id).
        idempotent_at_provider=True,
    ),
    Action(
        name="update_event",
        description="Change an existing event: only the fields given change.",
        input_schema=UPDATE_SCHEMA,
        run=update_event,
        required_scopes=(WRITE_SCOPES,),
        redact_fields=("description",),
        # A repeated patch with send_updates notifies the attendees again.
        idempotent_at_provider=False,
    ),
)
