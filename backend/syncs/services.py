"""Starting, listing and cancelling sync jobs, and reading what they stored.

The api and the worker's automatic triggers (schedules, webhooks) share `start_job`: one
live job per (integration, stream) is a partial unique index, so an insert that meets a
queued or running job does nothing and the caller gets that job instead. The engine
(`runner.py`) runs what is queued; every query here goes through the caller's `TenantScope`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw

from backend.connectors.registry import Provider, get_provider
from backend.connectors.spec import StreamSpec
from backend.integrations import services as integrations
from backend.lib.clock import utc_now
from backend.lib.errors import FieldError, Problem, validation_error
from backend.lib.pagination import paginate, parse_time
from backend.lib.telemetry import current_trace_id
from backend.lib.tenancy import TenantScope
from backend.syncs import schemas
from backend.syncs.tables import IntegrationSyncJob, SyncedRecord

LIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "cancelled")
JOB_STATUSES = (*LIVE, *FINISHED)


@dataclass(frozen=True, slots=True)
class Target:
    """The integration row, its provider and the stream a job reads."""

    integration: dict[str, Any]
    provider: Provider
    stream: StreamSpec


# -- checks ------------------------------------------------------------------------------


def find_stream(provider: Provider, name: str) -> StreamSpec | None:
    return next((s for s in provider.spec.streams if s.name == name), None)


def default_mode(stream: StreamSpec) -> schemas.ScheduledMode:
    """How automatic syncs read a stream: incremental where it can."""
    return "incremental" if "incremental" in stream.modes else "full"


def decode_jsonb(value: Any) -> Any:
    """A jsonb value as asyncpg returns it (text: the pool has no JSON codec), decoded."""
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value


def _streams_hint(provider: Provider) -> str:
    names = ", ".join(s.name for s in provider.spec.streams if s.modes) or "none"
    return f"its streams: {names} (GET /api/connectors/{provider.key})"


async def resolve(scope: TenantScope, integration_id: str, stream_name: str) -> Target:
    """The integration (404 unless the caller's) and its connector's stream: 409 when the
    connector has no such stream, or the stream has no pull API (saying why)."""
    row = await integrations.get(scope, integration_id)
    provider = get_provider(row["connector"])
    stream = find_stream(provider, stream_name)
    if stream is None:
        raise Problem(
            409,
            f"{provider.spec.name} has no stream {stream_name!r}; {_streams_hint(provider)}.",
            kind="unknown-stream",
            title="Unknown stream",
        )
    if stream.unavailable:
        raise Problem(
            409,
            f"{provider.spec.name}'s {stream.name} cannot be synced: {stream.unavailable}",
            kind="stream-unavailable",
            title="Stream cannot be synced",
        )
    return Target(row, provider, stream)


def check_mode(target: Target, mode: str) -> None:
    if mode not in target.stream.modes:
        supported = ", ".join(target.stream.modes)
        raise Problem(
            409,
            f"{target.provider.spec.name}'s {target.stream.name} does not support {mode} "
            f"syncs; it supports: {supported}.",
            kind="mode-unsupported",
            title="Sync mode not supported",
        )


def check_connected(target: Target) -> None:
    """Only a connected integration syncs; anything else is 409 saying what to do."""
    integrations.check_connected(target.integration)


def missing_scopes(target: Target) -> list[str]:
    """The stream's required scopes this OAuth connection was not granted."""
    if target.provider.spec.oauth is None:
        return []
    granted = {str(s) for s in target.integration["scopes"] or []}
    return [s for s in target.stream.required_scopes if s not in granted]


def check_scopes(target: Target) -> None:
    missing = missing_scopes(target)
    if missing:
        raise Problem(
            403,
            f"Syncing {target.stream.name} needs the {target.provider.spec.name} scope "
            f"{missing[0]}, which this connection was not granted; reconnect with it: POST "
            f"/api/integrations/{target.integration['id']}/reconnect.",
            kind="missing-scope",
            title="Missing scope",
            errors=[FieldError("scopes", f"missing {' '.join(missing)}")],
        )


def _body_time(field: str, value: str | None) -> dt.datetime | None:
    try:
        return parse_time(field, value)
    except Problem:
        raise validation_error(field, "must be an RFC 3339 date-time") from None


def parse_window(
    mode: str, since: str | None, until: str | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A backfill's [since, until) window (422 naming the field when it is not one);
    other modes read from the stored cursor and take no window."""
    start, end = _body_time("since", since), _body_time("until", until)
    if mode != "backfill":
        for field, value in (("since", start), ("until", end)):
            if value is not None:
                raise validation_error(field, f"only a backfill takes a window, not {mode}")
        return None, None
    if start is None:
        raise validation_error("since", "a backfill needs the start of its window")
    if end is None:  # fixed now, so a resumed run reads the same window
        end = utc_now()
        if end <= start:
            raise validation_error("since", "must be in the past when until is not given")
    elif end <= start:
        raise validation_error("until", "must be later than since")
    return start, end


# -- starting a job ----------------------------------------------------------------------

_INSERT = (
    "INSERT INTO integration_sync_job (id, tenant, integration, stream, mode, trigger,"
    ' status, since, "until", pages, records_upserted, records_deleted, attempts, error,'
    " trace_id, created_at)"
    " VALUES ({}, {}, {}, {}, {}, {}, 'queued', {}, {}, 0, 0, 0, 0, '', {}, {})"
    " ON CONFLICT DO NOTHING RETURNING id"
)


async def live_job(scope: TenantScope, integration_id: uuid.UUID, stream: str) -> Any:
    return (
        await scope.select(IntegrationSyncJob)
        .where(
            (IntegrationSyncJob.integration == integration_id)
            & (IntegrationSyncJob.stream == stream)
            & IntegrationSyncJob.status.is_in(list(LIVE))
        )
        .first()
    )


async def start_job(
    scope: TenantScope,
    target: Target,
    *,
    mode: str,
    trigger: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[dict[str, Any], bool]:
    """A new queued job, or the stream's live one. Returns (job row, created).

    The insert does nothing when a job of the stream is queued or running (the live-job
    index); that job is then read back. It may finish in between: then insert again."""
    integration_id = target.integration["id"]
    for _ in range(5):
        job_id = uuid.uuid4()
        inserted = await IntegrationSyncJob.raw(
            _INSERT,
            job_id,
            scope.tenant_id,
            integration_id,
            target.stream.name,
            mode,
            trigger,
            since,
            until,
            current_trace_id(),
            utc_now(),
        )
        if inserted:
            return await scope.get(IntegrationSyncJob, job_id, "sync job"), True
        existing = await live_job(scope, integration_id, target.stream.name)
        if existing is not None:
            return existing, False
    raise Problem(409, "Jobs of this stream keep finishing as they start; try again.")


async def enqueue(redis: Any, job_ids: list[uuid.UUID]) -> None:
    """Hand new jobs to the worker. A job whose enqueue is lost stays queued in PostgreSQL
    for the engine's sweep to find."""
    if redis is None or not job_ids:
        return
    from backend.syncs.jobs import enqueue_sync  # the engine's module, imported on use

    for job_id in job_ids:
        await enqueue_sync(redis, job_id)


async def trigger(
    scope: TenantScope, integration_id: str, body: schemas.SyncRequest, redis: Any
) -> tuple[dict[str, Any], bool]:
    """A manual sync of one stream: every check, then the job (created or the live one)."""
    since, until = parse_window(body.mode, body.since, body.until)
    target = await resolve(scope, integration_id, body.stream)
    check_mode(target, body.mode)
    check_connected(target)
    check_scopes(target)
    job, created = await start_job(
        scope, target, mode=body.mode, trigger="manual", since=since, until=until
    )
    if created:
        await enqueue(redis, [job["id"]])
    return job, created


# -- reading and cancelling jobs ---------------------------------------------------------


async def get_job(scope: TenantScope, integration_id: str, job_id: str) -> dict[str, Any]:
    return await integrations.get_child(
        scope, integration_id, IntegrationSyncJob, job_id, "sync job"
    )


async def list_jobs(
    scope: TenantScope,
    integration_id: str,
    *,
    stream: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    filters = [(IntegrationSyncJob.stream, stream), (IntegrationSyncJob.status, status)]
    return await integrations.list_children(
        scope, integration_id, IntegrationSyncJob, filters=filters, limit=limit, cursor=cursor
    )


async def cancel_job(
    scope: TenantScope, integration_id: str, job_id: str
) -> tuple[dict[str, Any], bool]:
    """Cancel a queued or running job (a running one stops at its next page commit, which
    is fenced on the job still running). Returns (job, cancelled now). Cancelling a
    cancelled job answers it again; a job that already succeeded or failed is 409."""
    job = await get_job(scope, integration_id, job_id)
    changed = (
        await scope.update(
            IntegrationSyncJob,
            {IntegrationSyncJob.status: "cancelled", IntegrationSyncJob.finished_at: utc_now()},
        )
        .where((IntegrationSyncJob.id == job["id"]) & IntegrationSyncJob.status.is_in(list(LIVE)))
        .returning(IntegrationSyncJob.id)
    )
    job = await scope.get(IntegrationSyncJob, job["id"], "sync job")
    if job["status"] != "cancelled":
        raise Problem(
            409,
            f"The sync job already finished ({job['status']}); only a queued or running "
            "job can be cancelled.",
            kind="job-finished",
            title="Sync job finished",
        )
    return job, bool(changed)


def to_wire(job: dict[str, Any]) -> schemas.SyncJob:
    return schemas.SyncJob(
        id=str(job["id"]),
        integration_id=str(job["integration"]),
        stream=job["stream"],
        mode=job["mode"],
        trigger=job["trigger"],
        status=job["status"],
        pages=job["pages"],
        records_upserted=job["records_upserted"],
        records_deleted=job["records_deleted"],
        attempts=job["attempts"],
        cursor_before=job["cursor_before"],
        cursor_after=job["cursor_after"],
        error=job["error"],
        created_at=job["created_at"],
        started_at=job["started_at"],
        finished_at=job["finished_at"],
    )


def job_path(job: dict[str, Any]) -> str:
    return f"/api/integrations/{job['integration']}/sync-jobs/{job['id']}"


# -- records -----------------------------------------------------------------------------


async def list_records(
    scope: TenantScope,
    integration_id: str,
    *,
    stream: str | None,
    include_deleted: bool,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first by when a record was first seen: a record's place never moves, so
    paging through while a sync runs misses nothing that was there when it began."""
    integration = await integrations.get(scope, integration_id)
    query = scope.select(
        SyncedRecord,
        SyncedRecord.id,
        SyncedRecord.stream,
        SyncedRecord.external_id,
        SyncedRecord.data,
        SyncedRecord.mapped,
        SyncedRecord.mapping_version,
        SyncedRecord.deleted,
        SyncedRecord.first_seen_at,
        SyncedRecord.updated_at,
    ).where(SyncedRecord.integration == integration["id"])
    if stream:
        query = query.where(SyncedRecord.stream == stream)
    if not include_deleted:
        query = query.where(WhereRaw("NOT deleted"))
    return await paginate(query, time_column="first_seen_at", cursor=cursor, limit=limit)


def record_to_wire(row: dict[str, Any]) -> schemas.SyncedRecord:
    return schemas.SyncedRecord(
        id=str(row["id"]),
        stream=row["stream"],
        external_id=row["external_id"],
        data=row["data"],
        mapped=row["mapped"],
        mapping_version=row["mapping_version"],
        deleted=row["deleted"],
        first_seen_at=row["first_seen_at"],
        updated_at=row["updated_at"],
    )
