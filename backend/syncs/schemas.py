"""Wire types of the sync API (named in the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec

from backend.connectors.streams import SyncMode

SyncTrigger = Literal["manual", "schedule", "webhook"]
SyncStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
# A schedule re-reads a stream; a backfill is a one-off window a person asks for.
ScheduledMode = Literal["incremental", "full"]

StreamName = Annotated[
    str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
]
# RFC 3339 only: checked exactly by backend.lib.pagination.parse_time.
DateTime = Annotated[
    str, msgspec.Meta(max_length=64, extra_json_schema={"extra": {"format": "date-time"}})
]
# Once a minute at most (the cron's period), once a month at least.
EveryMinutes = Annotated[int, msgspec.Meta(ge=1, le=43_200)]


class SyncRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Start a sync of one stream. `since`/`until` bound a backfill (`since` required,
    `since` < `until`, `until` defaults to now); other modes take no window."""

    stream: StreamName
    mode: SyncMode = "incremental"
    since: DateTime | None = None
    until: DateTime | None = None


class SyncJob(msgspec.Struct):
    """One sync run of a stream. `cursor_before`/`cursor_after`: the stream's cursor when
    the job started and where it left it (backfills never move it); `error` says why a
    failed job failed."""

    id: str
    integration_id: str
    stream: str
    mode: SyncMode
    trigger: SyncTrigger
    status: SyncStatus
    pages: int
    records_upserted: int
    records_deleted: int
    attempts: int
    cursor_before: Any
    cursor_after: Any
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class SyncJobResult(msgspec.Struct):
    job: SyncJob


class SyncJobPage(msgspec.Struct):
    items: list[SyncJob]
    next_cursor: str | None


class SyncedRecord(msgspec.Struct):
    """A record as the provider sent it (`data`) and as the integration's mapping shaped it
    (`mapped`, by `mapping_version`; null when no mapping applies). `deleted`: the provider
    deleted it, or a full sync no longer saw it."""

    id: str
    stream: str
    external_id: str
    data: dict[str, Any]
    mapped: dict[str, Any] | None
    mapping_version: int | None
    deleted: bool
    first_seen_at: dt.datetime
    updated_at: dt.datetime


class SyncedRecordPage(msgspec.Struct):
    items: list[SyncedRecord]
    next_cursor: str | None


class StreamSchedule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    every_minutes: EveryMinutes
    mode: ScheduledMode = "incremental"


class SyncSchedule(msgspec.Struct):
    """Which streams sync on their own, how often; `paused` stops scheduled and
    webhook-triggered syncs (manual ones still run)."""

    streams: dict[str, StreamSchedule]
    paused: bool


class SyncScheduleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Given fields replace, absent ones stay: `{"paused": true}` pauses; `streams`
    replaces the whole set (`{}` turns scheduling off)."""

    streams: dict[str, StreamSchedule] | None = None
    paused: bool | None = None
