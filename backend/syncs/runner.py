"""Running one sync job: claim it, read its stream page by page, commit each page.

A run works in slices of at most `SLICE_SECONDS`: after the page that crosses it, the
slice hands its lease to a continuation job and returns, so no arq job runs long and a
worker's shutdown or death costs at most one page. A background heartbeat keeps the lease
alive while a page is read or a retry waits; a run whose heartbeat goes silent (its worker
died) is taken over by `jobs.sweep_stale_syncs`, and it resumes from the position its last
committed page stored.

Provider failures are handled as actions handle them (backend/integrations/provider_calls):
rate limits, 5xx and network failures retried with exponential backoff and jitter,
honouring Retry-After, up to `PAGE_ATTEMPTS` tries of a page; a refused token refreshed
once, then `needs_reauth`; anything else fails the job with the provider's own message.
Every retry and every ending is written to the integration's logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace

from backend.connectors.base import Adapter, ProviderError
from backend.connectors.paths import dig, dig_str
from backend.connectors.registry import Provider, get_provider
from backend.connectors.spec import StreamSpec
from backend.connectors.stream_reader import parse_time, reader_for
from backend.connectors.streams import CursorExpired, Page, PageRequest, ReadPage
from backend.integrations import provider_calls
from backend.integrations.provider_calls import RETRIED, RefreshFailed, backoff_seconds
from backend.integrations.tables import Integration
from backend.lib.errors import Problem
from backend.lib.outages import is_outage
from backend.lib.telemetry import tracer
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import FailureKind, IntegrationStatus
from backend.mappings.apply import IntegrationRef, mapping_for
from backend.mappings.engine import CompiledMapping
from backend.oauth.services import ReauthRequired
from backend.observability.recorder import record_sync
from backend.observability.services import write_log
from backend.syncs import store

log = logging.getLogger("switchboard.worker.syncs")

# A slice reads pages for this long, then hands the run to a continuation job.
SLICE_SECONDS = 60.0
# Tries of one page before the job fails (the first and its retries).
PAGE_ATTEMPTS = 5
# A retry wait longer than this is not slept in the worker: the run is handed to a
# continuation deferred by the wait (its heartbeat set to when it will be back).
INLINE_WAIT_SECONDS = 15.0
# The longest wait a provider may ask for before the job fails, saying the wait.
MAX_WAIT_SECONDS = 3600.0
# The lease is renewed this often while a page is read or a retry waits; a lease not
# renewed for STALE_SECONDS belongs to a dead worker.
HEARTBEAT_SECONDS = 5.0
STALE_SECONDS = 15.0

# Statuses a job ends in.
SUCCEEDED, FAILED, CANCELLED = "succeeded", "failed", "cancelled"


@dataclass(frozen=True, slots=True)
class Continue:
    """The slice ended with the run still going: enqueue its continuation."""

    lease: uuid.UUID
    defer_seconds: float = 0.0
    tries: int = 0


@dataclass(slots=True)
class _Run:
    job: dict[str, Any]
    lease: uuid.UUID
    scope: TenantScope
    provider: Provider
    stream: StreamSpec
    row: dict[str, Any]
    read: ReadPage
    redis: Any
    adapter: Adapter | None = None
    refreshed: bool = False
    cursor: dict[str, Any] | None = None
    position: dict[str, Any] | None = None
    attempts: int = 0  # tries of a page that ended the run, written with its end
    mapping: CompiledMapping | None = None

    @property
    def job_id(self) -> uuid.UUID:
        return uuid.UUID(str(self.job["id"]))

    @property
    def mode(self) -> str:
        """The mode the reader is asked for: an incremental run without a cursor is full."""
        if self.job["mode"] == "incremental" and self.cursor is None:
            return "full"
        return str(self.job["mode"])


class _Stop(Exception):
    """Ends the run: `status` with `error`, or None when the job is no longer ours;
    `attempts`: the tries of the page that ended it."""

    def __init__(self, status: str | None, error: str = "") -> None:
        super().__init__(error)
        self.status, self.error = status, error
        self.attempts = 0


class _Defer(Exception):
    """The next try waits longer than a worker should sleep: continue later."""

    def __init__(self, seconds: float, tries: int) -> None:
        super().__init__(seconds)
        self.seconds, self.tries = seconds, tries
        self.attempts = 0


async def run(
    job_id: str,
    *,
    handed_over: uuid.UUID | None = None,
    tries: int = 0,
    redis: Any = None,
) -> str | Continue:
    """Run one slice of the job; its final status, `Continue` (hand over), or `skipped`
    when someone else runs it or it is over."""
    lease = uuid.uuid4()
    claimed = await store.claim(uuid.UUID(job_id), lease, handed_over, STALE_SECONDS)
    if claimed is None:
        return "skipped"
    job = claimed.job
    scope = TenantScope(job["tenant"], "system")
    attributes = {
        "switchboard.tenant_id": str(job["tenant"]),
        "switchboard.integration_id": str(job["integration"]),
        "switchboard.stream": str(job["stream"]),
        "switchboard.sync_job_id": str(job["id"]),
        "switchboard.sync_mode": str(job["mode"]),
    }
    with tracer().start_as_current_span("sync.run", attributes=attributes) as span:
        try:
            state = await _prepare(scope, job, lease, redis, claimed)
        except _Stop as stop:
            return await _end(scope, job, lease, stop, 0)
        if claimed.fresh or handed_over is None:
            resumed = " (resumed after its worker stopped)" if not claimed.fresh else ""
            await write_log(
                scope.tenant_id,
                job["integration"],
                "sync.started",
                f"{job['stream']}: {job['mode']} sync started{resumed}",
                context=_context(job),
            )
        try:
            outcome = await _slice(state, tries)
        except Exception as exc:
            if is_outage(exc):
                raise  # the worker retries the slice once PostgreSQL or Redis is back
            # A fault of ours: fail the job (a retry would meet it again), never loop.
            log.exception("sync job %s failed", job["id"])
            outcome = _Stop(FAILED, f"the sync failed unexpectedly ({type(exc).__name__})")
        span.set_attribute("switchboard.sync_pages", int(job.get("pages") or 0))
        if isinstance(outcome, _Stop):
            if outcome.status == FAILED:
                span.set_status(trace.Status(trace.StatusCode.ERROR, "failed"))
            return await _end(scope, job, lease, outcome, state.attempts)
        return outcome


async def _prepare(
    scope: TenantScope, job: dict[str, Any], lease: uuid.UUID, redis: Any, claimed: Any
) -> _Run:
    """The run's integration, connector and stream, checked as the API checked them (the
    integration may have changed since the job was queued)."""
    row = await scope.select(Integration).where(Integration.id == job["integration"]).first()
    if row is None:
        raise _Stop(FAILED, "the integration no longer exists")
    # `error` (the last health check failed) may still read: the sync is the better test.
    if row["status"] not in (IntegrationStatus.CONNECTED, IntegrationStatus.ERROR):
        raise _Stop(FAILED, f"the integration is {row['status']}, not connected")
    provider = get_provider(row["connector"])
    stream = next((s for s in provider.spec.streams if s.name == job["stream"]), None)
    if stream is None:
        raise _Stop(FAILED, f"{provider.spec.name} has no stream {job['stream']!r}")
    if job["mode"] not in stream.modes:
        raise _Stop(FAILED, f"stream {stream.name!r} cannot run a {job['mode']} sync")
    try:
        read = reader_for(provider, stream)
    except (KeyError, ValueError) as exc:
        raise _Stop(FAILED, str(exc)) from None
    return _Run(
        job=job,
        lease=lease,
        scope=scope,
        provider=provider,
        stream=stream,
        row=row,
        read=read,
        redis=redis,
        cursor=None if job["mode"] == "backfill" else claimed.stored_cursor,
        position=job.get("position"),
    )


async def _slice(state: _Run, tries: int) -> _Stop | Continue:
    """Pages until the stream ends, the slice's time is up, or the run stops.

    The next page is read while the current one commits (the reader needs only the
    position the current page returned), so a page costs about one provider round trip
    or one commit, whichever is longer. A read is only acted on after the commit before
    it finished: a cursor reset or a failure never races a commit."""
    deadline = time.monotonic() + SLICE_SECONDS
    current = asyncio.current_task()
    lost = asyncio.Event()
    keeper = asyncio.ensure_future(_keep_alive(state, current, lost))
    ref = IntegrationRef(state.job["tenant"], state.job["integration"], state.provider.key)
    # Once per slice: a mapping saved during a run applies from the next slice.
    state.mapping = await mapping_for(ref, state.stream.name)
    reading: asyncio.Task[tuple[Page, int]] | None = _start_read(state, state.position, tries)
    try:
        while reading is not None:
            try:
                page, used = await reading
            except CursorExpired as exc:
                await _restart_full(state, str(exc))
                reading = _start_read(state, None, 0)
                continue
            except _Defer as defer:
                reading = None
                return await _defer(state, defer)
            more = page.position is not None and time.monotonic() < deadline
            reading = _start_read(state, page.position, 0) if more else None
            done = await _commit(state, page, used)
            if done is not None:
                return done
        return Continue(state.lease)
    except asyncio.CancelledError:
        if not lost.is_set():
            raise  # arq stops the job (shutdown, timeout): the sweeper resumes it
        return _Stop(None)
    except _Stop as stop:
        state.attempts = stop.attempts
        return stop
    finally:
        if reading is not None:
            reading.cancel()
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


def _start_read(
    state: _Run, position: dict[str, Any] | None, tries: int
) -> asyncio.Task[tuple[Page, int]]:
    task = asyncio.ensure_future(_read_page(state, position, tries))
    # A read abandoned (the run stopped first) is not an error to report.
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    return task


async def _keep_alive(state: _Run, runner: asyncio.Task[Any] | None, lost: asyncio.Event) -> None:
    """Renew the lease while the slice works; stop the slice once it is no longer ours
    (cancelled, or taken over), so a cancel takes effect even during a long wait."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        if not await store.heartbeat(state.job_id, state.lease):
            lost.set()
            if runner is not None:
                runner.cancel()
            return


async def _defer(state: _Run, defer: _Defer) -> _Stop | Continue:
    until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=defer.seconds)
    if not await store.heartbeat(state.job_id, state.lease, until, defer.attempts):
        return _Stop(None)
    return Continue(state.lease, defer.seconds, defer.tries)


async def _read_page(state: _Run, position: dict[str, Any] | None, tries: int) -> tuple[Page, int]:
    """The page at `position` and the tries it took, retried as the module docstring
    says; raises _Stop, _Defer (both carrying the tries) or CursorExpired."""
    used = 0
    try:
        while True:
            tries += 1
            used += 1
            page = await _try_read(state, position, tries)
            if page is not None:
                return page, used
    except (_Stop, _Defer) as ended:
        ended.attempts = used
        raise


async def _try_read(state: _Run, position: dict[str, Any] | None, tries: int) -> Page | None:
    """One try: the page, or None to try again (after a refresh or a wait)."""
    request = PageRequest(
        mode=state.mode,  # type: ignore[arg-type]
        cursor=state.cursor,
        position=position,
        since=state.job.get("since"),
        until=state.job.get("until"),
    )
    try:
        state.row = await provider_calls.fresh_row(
            state.scope, state.provider, state.row, state.redis
        )
        if state.adapter is None:
            state.adapter = await provider_calls.adapter_for(state.provider, state.row)
        return await state.read(state.adapter, state.stream, request)
    except ProviderError as exc:
        if exc.kind == FailureKind.AUTH_FAILED:
            await _refused_credentials(state, exc)
            return None
        await _retry_or_stop(state, exc, tries)
        return None
    except ReauthRequired as exc:  # the refresh before the call met a revoked grant
        raise _Stop(FAILED, f"needs_reauth: {exc.detail}") from None
    except Problem as exc:  # a refresh before the call could not be made
        raise _Stop(FAILED, exc.detail) from None
    except (KeyError, ValueError, TypeError) as exc:
        # An answer without the documented fields: the job fails, never the worker.
        raise _Stop(FAILED, f"unexpected answer from the provider ({type(exc).__name__})") from None


async def _restart_full(state: _Run, reason: str) -> None:
    """The provider no longer knows the stored cursor: forget it, read everything."""
    if not await store.forget_cursor(state.job_id, state.lease):
        raise _Stop(None)
    state.cursor, state.position = None, None
    await write_log(
        state.scope.tenant_id,
        state.job["integration"],
        "sync.cursor_expired",
        f"{state.stream.name}: the provider refused the stored cursor ({reason}); "
        "reading the stream in full",
        level="warning",
        context=_context(state.job),
    )


async def _refused_credentials(state: _Run, exc: ProviderError) -> None:
    """401/403: refresh the token once and try again, then the integration needs a person."""
    during = f"the {state.stream.name} sync"
    if state.refreshed or not provider_calls.refreshable(state.provider, state.row):
        await provider_calls.mark_needs_reauth(
            state.scope,
            state.provider,
            state.job["integration"],
            exc.message,
            during,
            _context(state.job),
        )
        raise _Stop(FAILED, f"needs_reauth: {exc.message}")
    state.refreshed = True
    await write_log(
        state.scope.tenant_id,
        state.job["integration"],
        "sync.retry",
        f"{state.stream.name}: {exc.kind}; refreshing the token and trying again",
        level="warning",
        context={**_context(state.job), "kind": str(exc.kind)},
    )
    try:
        state.row = await provider_calls.refresh_refused_token(
            state.scope, state.provider, state.row, during, state.redis
        )
    except RefreshFailed as failed:
        prefix = "needs_reauth: " if failed.needs_reauth else ""
        raise _Stop(FAILED, prefix + failed.message) from None
    state.adapter = None


async def _retry_or_stop(state: _Run, exc: ProviderError, tries: int) -> None:
    """Wait before the next try of a transient failure, or end the job with its message."""
    message = exc.message
    if exc.kind == FailureKind.RATE_LIMITED and exc.retry_after:
        message = f"{message}; retry after {exc.retry_after:g} s"
    if exc.kind not in RETRIED:
        raise _Stop(FAILED, message)
    if tries >= PAGE_ATTEMPTS:
        raise _Stop(FAILED, f"{message} ({tries} attempts)")
    delay = backoff_seconds(tries, exc.retry_after)
    if delay > MAX_WAIT_SECONDS:
        raise _Stop(FAILED, message)
    await write_log(
        state.scope.tenant_id,
        state.job["integration"],
        "sync.retry",
        f"{state.stream.name}: {exc.kind}, attempt {tries} of {PAGE_ATTEMPTS}; "
        f"retrying in {delay:.1f} s",
        level="warning",
        context={**_context(state.job), "kind": str(exc.kind), "attempt": tries},
    )
    if delay > INLINE_WAIT_SECONDS:
        raise _Defer(delay, tries)
    await asyncio.sleep(delay)


async def _commit(state: _Run, page: Page, attempts: int) -> _Stop | None:
    """Store the page with the position after it; on the last page, end the run."""
    job, stream, mapping = state.job, state.stream, state.mapping
    rows = store.Rows.empty()
    id_path, updated_path, deleted_path = stream.id_path, stream.updated_path, stream.deleted_path
    for record in page.records:
        external_id = dig_str(record, id_path)
        if not external_id:
            continue  # no id, nothing to key it by
        updated = parse_time(dig(record, updated_path)) if updated_path else None
        deleted = bool(deleted_path) and dig(record, deleted_path) == stream.deleted_value
        mapped = mapping.apply(record) if mapping is not None else None
        rows.add(
            external_id[:255],
            record,
            mapped.mapped if mapped is not None else None,
            mapped.version if mapped is not None else None,
            updated,
            deleted,
        )
    last = page.position is None
    write = store.PageWrite(
        rows=rows,
        deleted_ids=[str(d) for d in page.deleted],
        position=page.position,
        attempts=attempts,
        finish=last,
        cursor=page.cursor if page.cursor is not None else state.cursor,
        move_cursor=job["mode"] != "backfill",
        mark_unseen=last and state.mode == "full" and stream.full_marks_deletions,
    )
    committed = await store.commit_page(job, state.lease, write, bool(state.row["test_mode"]))
    if committed is None:
        return _Stop(None)
    state.position = page.position
    job["pages"] = int(job.get("pages") or 0) + 1
    record_sync(job["tenant"], job["integration"], committed.upserted)
    if committed.job is not None:
        state.job = {**job, **committed.job}
        return _Stop(SUCCEEDED)
    return None


async def _end(
    scope: TenantScope,
    job: dict[str, Any],
    lease: uuid.UUID,
    stop: _Stop,
    attempts: int,
) -> str:
    """Write the run's end (a failure is fenced like a page) and log it."""
    if stop.status is None:
        log.info("sync job %s stopped: cancelled or taken over", job["id"])
        await _log_if_cancelled(scope, job)
        return CANCELLED
    if stop.status == FAILED:
        finished = await store.fail(uuid.UUID(str(job["id"])), lease, FAILED, stop.error, attempts)
        if finished is None:
            await _log_if_cancelled(scope, job)
            return CANCELLED
        job = finished
    else:
        job = await _reload(job)
    record_sync(job["tenant"], job["integration"], 0, finished=stop.status)
    ok = stop.status == SUCCEEDED
    counts = (
        f"{job['pages']} page(s), {job['records_upserted']} record(s) upserted, "
        f"{job['records_deleted']} deleted"
    )
    await write_log(
        scope.tenant_id,
        job["integration"],
        f"sync.{stop.status}",
        f"{job['stream']}: {job['mode']} sync {stop.status}: {counts}"
        + ("" if ok else f"; {stop.error}"),
        level="info" if ok else "warning",
        context={**_context(job), "pages": job["pages"], "attempts": job["attempts"]},
    )
    return str(stop.status)


async def _reload(job: dict[str, Any]) -> dict[str, Any]:
    from backend.syncs.tables import IntegrationSyncJob

    row = await IntegrationSyncJob.select().where(IntegrationSyncJob.id == job["id"]).first()
    return row or job


async def _log_if_cancelled(scope: TenantScope, job: dict[str, Any]) -> None:
    row = await _reload(job)
    if row.get("status") == CANCELLED:
        record_sync(job["tenant"], job["integration"], 0, finished=CANCELLED)
        await write_log(
            scope.tenant_id,
            job["integration"],
            "sync.cancelled",
            f"{job['stream']}: {job['mode']} sync cancelled after {row['pages']} page(s)",
            context=_context(job),
        )


def _context(job: dict[str, Any]) -> dict[str, Any]:
    return {"job_id": str(job["id"]), "stream": job["stream"], "mode": job["mode"]}
