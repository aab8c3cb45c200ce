"""Wire types of stored webhook events."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from backend.lib.vocab import EventStatus
from backend.mappings.schemas import MappingFieldError


class Event(msgspec.Struct):
    id: str
    provider_event_id: str
    type: str
    status: EventStatus
    received_at: dt.datetime
    processed_at: dt.datetime | None
    attempts: int
    duplicates: int
    error: str
    # The integration's mapping applied at normalization (null: none applied or not yet
    # normalized; version 0 is the connector's default).
    mapped: dict[str, Any] | None
    mapping_version: int | None
    mapping_errors: list[MappingFieldError]
    # Sent by test mode's simulate (`POST /api/integrations/{id}/simulate`), not the provider.
    simulated: bool


class EventDetail(msgspec.Struct):
    id: str
    provider_event_id: str
    type: str
    status: EventStatus
    received_at: dt.datetime
    processed_at: dt.datetime | None
    attempts: int
    duplicates: int
    error: str
    headers: dict[str, str]
    raw_body: str
    raw_body_encoding: Literal["utf-8", "base64"]
    normalized: dict[str, Any] | None
    trace_id: str
    mapped: dict[str, Any] | None
    mapping_version: int | None
    mapping_errors: list[MappingFieldError]
    # Sent by test mode's simulate (`POST /api/integrations/{id}/simulate`), not the provider.
    simulated: bool


class WebhookReceipt(msgspec.Struct):
    """The answer to a delivery we stored (or had stored already)."""

    status: Literal["accepted", "duplicate"]
    event_id: str


class AppWebhookReceipt(msgspec.Struct):
    """The answer to a delivery at the operator's app URL: how many events it held, how many
    rows were stored (one per integration connected to an event's account), how many were
    stored before, and how many named an account no integration is connected to (dropped)."""

    status: Literal["accepted"]
    events: int
    stored: int
    duplicates: int
    unrouted: int


class EventPage(msgspec.Struct):
    items: list[Event]
    next_cursor: str | None


class EventReplayed(msgspec.Struct):
    event: Event


class BulkReplayed(msgspec.Struct):
    """One page of a bulk replay; call again with `next_cursor` until it is null."""

    replayed: int
    next_cursor: str | None
