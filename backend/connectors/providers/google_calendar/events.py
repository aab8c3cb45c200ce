"""Simulated Calendar push notifications: the `events.watch` channel's resource states.

Google's documented states are `sync` (the channel's first message, only acknowledged, so no
event type), `exists` (an event of the calendar was created, changed or deleted) and
`not_exists` (the watched resource is gone). The body is empty: the consumer re-reads the
calendar's events to learn what changed.
Docs: https://developers.google.com/workspace/calendar/api/guides/push
"""

from __future__ import annotations

from urllib.parse import quote

from backend.connectors.event_generators import EventType, OutboundDelivery, SimulationContext
from backend.connectors.providers._google import channel_delivery, sign_channel


def _events_uri(ctx: SimulationContext) -> str:
    calendar = ctx.config.get("calendar_id")
    calendar_id = calendar if isinstance(calendar, str) and calendar else "primary"
    return (
        f"https://www.googleapis.com/calendar/v3/calendars/{quote(calendar_id, safe='@')}"
        "/events?alt=json"
    )


def _exists(ctx: SimulationContext) -> OutboundDelivery:
    return channel_delivery(ctx, "exists", _events_uri(ctx))


def _not_exists(ctx: SimulationContext) -> OutboundDelivery:
    return channel_delivery(ctx, "not_exists", _events_uri(ctx))


EVENT_TYPES = (
    EventType(
        "exists", "An event of the watched calendar was created, changed or deleted.", _exists
    ),
    EventType("not_exists", "The watched calendar no longer exists.", _not_exists),
)

sign = sign_channel
