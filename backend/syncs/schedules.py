"""Scheduled syncs: per integration, an interval per stream, and a worker cron that starts
the streams whose interval has passed.

An integration that never saved a schedule follows the connector's defaults: every stream
it may read, hourly (incremental where the stream can), except in test mode, where nothing
syncs on its own. The clock of a stream is its latest job of any trigger (a manual or
webhook-triggered run counts), else the integration's creation, so connecting does not
start every stream at once. `paused` stops scheduled and webhook-triggered syncs.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import msgspec

from backend.connectors.registry import Provider, get_provider
from backend.connectors.spec import StreamSpec
from backend.integrations import services as integrations
from backend.lib.clock import utc_now
from backend.lib.db import pool
from backend.lib.errors import FieldError, Problem
from backend.lib.tenancy import TenantScope
from backend.settings import get_settings
from backend.syncs import services
from backend.syncs.schedule_tables import SyncSchedule
from backend.syncs.schemas import StreamSchedule, SyncScheduleUpdate
from backend.syncs.schemas import SyncSchedule as SyncScheduleWire
from backend.syncs.triggers import run_pending_webhook_syncs

log = logging.getLogger("switchboard.syncs.schedules")

DEFAULT_EVERY_MINUTES = 60
# The cron fires once a minute: a stream is due up to this much early, so a job started a
# few seconds after one firing is due again at the firing one interval later.
DUE_SLACK = dt.timedelta(seconds=30)
_BATCH = 500


def _granted(provider: Provider, stream: StreamSpec, scopes: Any) -> bool:
    if provider.spec.oauth is None:
        return True
    granted = {str(s) for s in scopes or []}
    return all(s in granted for s in stream.required_scopes)


def default_streams(provider: Provider, integration: dict[str, Any]) -> dict[str, StreamSchedule]:
    if integration["test_mode"]:
        return {}
    return {
        s.name: StreamSchedule(every_minutes=DEFAULT_EVERY_MINUTES, mode=services.default_mode(s))
        for s in provider.spec.streams
        if s.modes and _granted(provider, s, integration["scopes"])
    }


def effective_streams(
    provider: Provider, integration: dict[str, Any], stored: Any
) -> dict[str, StreamSchedule]:
    """The schedule in force: the defaults, or the saved streams the connector still has
    (a stream dropped from the spec, or a mode it no longer supports, is left out)."""
    if stored is None:
        return default_streams(provider, integration)
    streams: dict[str, StreamSchedule] = {}
    for name, entry in (stored or {}).items():
        spec = services.find_stream(provider, name)
        try:
            schedule = msgspec.convert(entry, StreamSchedule)
        except msgspec.ValidationError:
            continue
        if spec is not None and schedule.mode in spec.modes:
            streams[name] = schedule
    return streams


# -- the API -----------------------------------------------------------------------------


async def _stored(scope: TenantScope, integration_id: uuid.UUID) -> dict[str, Any] | None:
    row: dict[str, Any] | None = (
        await scope.select(SyncSchedule).where(SyncSchedule.integration == integration_id).first()
    )
    return row


async def get_schedule(scope: TenantScope, integration_id: str) -> SyncScheduleWire:
    integration = await integrations.get(scope, integration_id)
    provider = get_provider(integration["connector"])
    row = await _stored(scope, integration["id"])
    stored = row["streams"] if row else None
    return SyncScheduleWire(
        streams=effective_streams(provider, integration, stored),
        paused=bool(row and row["paused"]),
    )


def validate_streams(
    provider: Provider, integration: dict[str, Any], streams: dict[str, StreamSchedule]
) -> None:
    """422 naming each stream the connector cannot sync that way."""
    errors: list[FieldError] = []
    for name, schedule in streams.items():
        field = f"streams.{name}"
        spec = services.find_stream(provider, name)
        if spec is None:
            errors.append(FieldError(field, f"{provider.spec.name} has no such stream"))
        elif spec.unavailable:
            errors.append(FieldError(field, f"cannot be synced: {spec.unavailable}"))
        elif schedule.mode not in spec.modes:
            supported = ", ".join(spec.modes)
            errors.append(FieldError(field, f"does not support {schedule.mode} ({supported})"))
        elif not _granted(provider, spec, integration["scopes"]):
            missing = " ".join(spec.required_scopes)
            errors.append(FieldError(field, f"needs the scopes {missing}; reconnect with them"))
    if errors:
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:20])
        raise Problem(422, detail[:2000], errors=errors[:20])


_UPSERT = (
    "INSERT INTO sync_schedule (id, tenant, integration, streams, paused, updated_at)"
    " VALUES ({}, {}, {}, {}::jsonb, {}, {})"
    " ON CONFLICT (integration) DO UPDATE SET"
    " streams = CASE WHEN {} THEN EXCLUDED.streams ELSE sync_schedule.streams END,"
    " paused = CASE WHEN {} THEN EXCLUDED.paused ELSE sync_schedule.paused END,"
    " updated_at = EXCLUDED.updated_at"
)


async def update_schedule(
    scope: TenantScope, integration_id: str, body: SyncScheduleUpdate
) -> SyncScheduleWire:
    """Given fields replace, absent ones stay; one statement, so a concurrent pause and a
    change of streams both hold."""
    integration = await integrations.get(scope, integration_id)
    provider = get_provider(integration["connector"])
    if body.streams is not None:
        validate_streams(provider, integration, body.streams)
    streams = None if body.streams is None else msgspec.json.encode(body.streams).decode()
    await SyncSchedule.raw(
        _UPSERT,
        uuid.uuid4(),
        scope.tenant_id,
        integration["id"],
        streams,
        bool(body.paused),
        utc_now(),
        body.streams is not None,
        body.paused is not None,
    )
    return await get_schedule(scope, integration_id)


# -- the cron ----------------------------------------------------------------------------

_SCHEDULED = """
SELECT i.id, i.tenant, i.connector, i.status, i.test_mode, i.scopes, i.created_at, s.streams
FROM integration i LEFT JOIN sync_schedule s ON s.integration = i.id
WHERE i.status = 'connected' AND NOT coalesce(s.paused, false) AND i.id > $1
ORDER BY i.id LIMIT $2
"""
# The latest job of each (integration, stream): one index probe each (sync_job_stream_recent).
_LAST_JOBS = """
SELECT p.integration, p.stream,
       (SELECT j.created_at FROM integration_sync_job j
        WHERE j.integration = p.integration AND j.stream = p.stream
        ORDER BY j.created_at DESC LIMIT 1) AS last_at
FROM unnest($1::uuid[], $2::text[]) AS p(integration, stream)
"""


async def _due_in_batch(
    rows: list[Any], now: dt.datetime
) -> list[tuple[dict[str, Any], Provider, StreamSpec, str]]:
    disabled = set(get_settings().disabled_connectors)
    wanted: list[tuple[dict[str, Any], Provider, StreamSpec, StreamSchedule]] = []
    for row in rows:
        if row["connector"] in disabled:
            continue
        try:
            provider = get_provider(row["connector"])
        except KeyError:
            continue
        integration = {**dict(row), "scopes": services.decode_jsonb(row["scopes"])}
        streams = effective_streams(provider, integration, services.decode_jsonb(row["streams"]))
        for name, schedule in streams.items():
            spec = services.find_stream(provider, name)
            if spec is not None and _granted(provider, spec, integration["scopes"]):
                wanted.append((integration, provider, spec, schedule))
    if not wanted:
        return []
    last = {
        (r["integration"], r["stream"]): r["last_at"]
        for r in await pool().fetch(
            _LAST_JOBS, [w[0]["id"] for w in wanted], [w[2].name for w in wanted]
        )
    }
    due: list[tuple[dict[str, Any], Provider, StreamSpec, str]] = []
    for integration, provider, spec, schedule in wanted:
        since = last.get((integration["id"], spec.name)) or integration["created_at"]
        if now - since >= dt.timedelta(minutes=schedule.every_minutes) - DUE_SLACK:
            due.append((integration, provider, spec, schedule.mode))
    return due


async def enqueue_scheduled_syncs(ctx: dict[str, Any]) -> int:
    """Worker cron: start every scheduled stream whose interval has passed (a stream with a
    live job keeps it: the live-job index), and the webhook-triggered streams that waited
    for their running job to end. Returns how many jobs it created."""
    now = utc_now()
    total = 0
    after = uuid.UUID(int=0)
    while True:
        rows = await pool().fetch(_SCHEDULED, after, _BATCH)
        created: list[uuid.UUID] = []
        for integration, provider, spec, mode in await _due_in_batch(rows, now):
            scope = TenantScope(integration["tenant"], "schedule")
            target = services.Target(integration, provider, spec)
            job, new = await services.start_job(scope, target, mode=mode, trigger="schedule")
            if new:
                created.append(job["id"])
        await services.enqueue(ctx.get("redis"), created)
        total += len(created)
        if len(rows) < _BATCH:
            break
        after = rows[-1]["id"]
    total += await run_pending_webhook_syncs(ctx.get("redis"))
    if total:
        log.info("scheduled %d sync jobs", total)
    return total
