"""Worker jobs of the sync engine: `run_sync` runs one slice of a sync job, and
`sweep_stale_syncs` (cron) re-enqueues jobs nobody is running.

The arq job carries only the sync job's id (and, for a continuation, the lease it hands
over); PostgreSQL holds everything else. A job delivered twice runs once: the claim in
`store.claim` admits one worker. A worker killed mid-run leaves its arq job "in progress"
until arq's own timeout; the sweeper does not wait for that: a running job whose heartbeat
is older than `runner.STALE_SECONDS` is enqueued again at once, and resumes from its last
committed page under a new lease.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from arq.connections import ArqRedis

from backend.lib.telemetry import job_trace
from backend.settings import get_settings
from backend.syncs import runner, store

log = logging.getLogger("switchboard.worker.syncs")

RUN_SYNC_JOB = "run_sync"
# arq's timeout for one slice: its pages (SLICE_SECONDS, plus the page that crosses it),
# short retry waits and the provider's timeouts fit well within it.
RUN_SYNC_TIMEOUT_SECONDS = 240
SWEEP_LIMIT = 500


async def enqueue_sync(redis: ArqRedis, job_id: uuid.UUID | str) -> None:
    """Queue a new sync job's first slice (a second call for the same job is a no-op)."""
    await _enqueue(redis, str(job_id), f"sync:{job_id}:0")


async def _enqueue(
    redis: ArqRedis,
    job_id: str,
    arq_id: str,
    *,
    lease: uuid.UUID | None = None,
    tries: int = 0,
    defer: float = 0.0,
) -> None:
    kwargs: dict[str, Any] = {**job_trace()}
    if lease is not None:
        kwargs["lease"] = str(lease)
    if tries:
        kwargs["tries"] = tries
    await redis.enqueue_job(
        RUN_SYNC_JOB,
        job_id,
        _job_id=arq_id,
        _queue_name=get_settings().queue_name,
        _defer_by=defer or None,
        **kwargs,
    )


async def run_sync(
    ctx: dict[str, Any], job_id: str, lease: str | None = None, tries: int = 0
) -> str:
    """Run one slice of sync job `job_id`; returns its status, `continued` or `skipped`."""
    handed_over = uuid.UUID(lease) if lease else None
    outcome = await runner.run(job_id, handed_over=handed_over, tries=tries, redis=ctx.get("redis"))
    if isinstance(outcome, runner.Continue):
        # A fresh arq id per hand-over: the lease names the slice that follows.
        await _enqueue(
            ctx["redis"],
            job_id,
            f"sync:{job_id}:{outcome.lease}",
            lease=outcome.lease,
            tries=outcome.tries,
            defer=outcome.defer_seconds,
        )
        return "continued"
    log.info("sync job %s %s", job_id, outcome)
    return outcome


async def sweep_stale_syncs(ctx: dict[str, Any]) -> int:
    """Enqueue running jobs whose worker went silent and queued jobs never picked up; the
    arq id names the silent state, so sweeps before the takeover enqueue it once."""
    stale = await store.stale_jobs(runner.STALE_SECONDS, SWEEP_LIMIT)
    for row in stale:
        marker = row["heartbeat_at"] or row["created_at"]
        if row["status"] == "queued":
            arq_id = f"sync:{row['id']}:0"
        else:
            arq_id = f"sync:{row['id']}:sweep:{int(marker.timestamp() * 1000)}"
        await _enqueue(ctx["redis"], str(row["id"]), arq_id)
    if stale:
        log.info("re-enqueued %d sync job(s) nobody was running", len(stale))
    return len(stale)


FUNCTIONS = [run_sync]
