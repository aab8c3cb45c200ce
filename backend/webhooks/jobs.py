"""Worker jobs: wake-ups that drain stored deliveries in batches, per-event retries and
replays, and the sweeper for rows nobody woke a worker for.

The queue carries wake-ups, not events (issue 16). Ingest enqueues at most one wake-up per
time slot (`wake_job_id`: the same id from every api process, so Redis keeps one), deferred
to just after the slot ends: every row whose wake-up was asked for during the slot is
committed before the job's first claim. A woken worker drains claimable rows in batches
(batch.py) until none is left; wake-ups arriving meanwhile only tell the running drainers to
look once more before they stop.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from backend.lib.db import pool
from backend.lib.queue import FastEnqueuer
from backend.observability.recorder import record_event
from backend.observability.services import write_log
from backend.settings import get_settings
from backend.syncs.triggers import ProcessedEvent, sync_on_events
from backend.webhooks import batch
from backend.webhooks.batch import Outcome

log = logging.getLogger("switchboard.worker.webhooks")

MAX_ATTEMPTS = batch.MAX_ATTEMPTS
NORMALIZE_JOB = "normalize_event"  # one event: replay, or the retry of a failed one
WAKE_JOB = "normalize_batch"

# A wake-up slot: ingest asks for at most one wake-up per slot and process, Redis keeps one
# per slot. The margin covers clock skew between the api and worker machines.
WAKE_SLOT_MS = 100
_WAKE_MARGIN_MS = 50
# Drainers per worker process: two overlap one batch's database round trips with another's
# Python work; more only contend for the same rows.
DRAINERS = 2
# A drain stops after this long (arq's job timeout is 120 s) and wakes a successor.
DRAIN_BUDGET_SECONDS = 50.0


def backoff_seconds(attempt: int) -> int:
    return min(300, 5 * 2 ** (attempt - 1))


def wake_job_id(now_ms: int, queue_name: str) -> tuple[str, int]:
    """The wake-up job id of the slot `now_ms` falls in, and when the job is due.

    The id names the queue: arq keeps job ids under one key prefix for every queue, so a
    slot's wake-up of another stack on the same Redis would otherwise swallow this one's.
    """
    slot = now_ms // WAKE_SLOT_MS
    return f"normalize:wake:{queue_name}:{slot}", (slot + 1) * WAKE_SLOT_MS + _WAKE_MARGIN_MS


class _Drainers:
    """This process's drainers: how many run, and a count of wake-ups received."""

    def __init__(self) -> None:
        self.running = 0
        self.wakes = 0


_drainers = _Drainers()


async def normalize_batch(ctx: dict[str, Any]) -> str:
    """A wake-up: drain claimable rows in batches until none is left. When this process
    already runs its drainers, the wake-up only makes them claim once more before stopping
    (the check and the stop are one synchronous step: no wake-up falls between them)."""
    _drainers.wakes += 1
    if _drainers.running >= DRAINERS:
        return "joined"
    _drainers.running += 1
    try:
        return await _drain(ctx)
    finally:
        _drainers.running -= 1


async def _drain(ctx: dict[str, Any]) -> str:
    deadline = time.monotonic() + DRAIN_BUDGET_SECONDS
    processed = 0
    while True:
        seen = _drainers.wakes
        outcomes = await batch.claim_and_process()
        await _after(ctx, outcomes)
        processed += len(outcomes)
        if not outcomes and _drainers.wakes == seen:
            return f"{processed} events"
        if time.monotonic() >= deadline:
            await wake(ctx["redis"], f"normalize:wake:more:{uuid.uuid4().hex}")
            return f"{processed} events, then woke a successor"


async def normalize_event(ctx: dict[str, Any], event_id: str, force: bool = False) -> str:
    """One stored delivery (a replay, the retry of a failed one); `force` re-runs a processed
    one. The same claim, normalization and write as a batch of one."""
    outcomes = await batch.claim_and_process(event_id=uuid.UUID(event_id), force=force)
    if not outcomes:
        found = await pool().fetchval(
            "SELECT status FROM integration_webhook WHERE id = $1", uuid.UUID(event_id)
        )
        return "missing" if found is None else "already processed"
    await _after(ctx, outcomes)
    return outcomes[0].status


async def _after(ctx: dict[str, Any], outcomes: list[Outcome]) -> None:
    """After the batch committed: metrics, a log entry and a deferred retry per failure,
    then the syncs the processed events ask for (once per batch)."""
    await sync_on_events(
        ctx.get("redis"),
        [
            ProcessedEvent(o.tenant_id, o.integration_id, o.connector, o.event_type)
            for o in outcomes
            if o.status == "processed"
        ],
    )
    for outcome in outcomes:
        processed = outcome.status == "processed"
        record_event(outcome.tenant_id, outcome.integration_id, outcome.connector, processed)
        if processed:
            continue
        dead = outcome.status == "dead"
        await write_log(
            outcome.tenant_id,
            outcome.integration_id,
            "webhook.normalize_failed",
            f"normalization failed (attempt {outcome.attempt}): {outcome.error_type}",
            level="error" if dead else "warning",
            context={"event_id": str(outcome.event_id)},
        )
        if not dead:
            await _retry_later(ctx, outcome)


async def _retry_later(ctx: dict[str, Any], outcome: Outcome) -> None:
    """The failed event alone, after its backoff; the batch went on without it. Lost with
    Redis, the retry is lost too: `replay-failed` re-runs failed events on demand."""
    enqueuer = FastEnqueuer(ctx["redis"], get_settings().queue_name)
    await enqueuer.enqueue(
        NORMALIZE_JOB,
        str(outcome.event_id),
        job_id=f"normalize:{outcome.event_id}:retry:{outcome.attempt}:{uuid.uuid4().hex}",
        traceparent="",  # its own trace, linked to the receipt's
        due_ms=int(time.time() * 1000) + 1000 * backoff_seconds(outcome.attempt),
    )


async def wake(redis: Any, job_id: str, due_ms: int | None = None) -> bool:
    """Enqueue a wake-up (no trace of its own: batches link to each event's receipt)."""
    enqueuer = FastEnqueuer(redis, get_settings().queue_name)
    return await enqueuer.enqueue(WAKE_JOB, job_id=job_id, traceparent="", due_ms=due_ms)


# Rows older than this with no worker on them were never woken for (Redis was down, or
# restarted empty): the sweeper wakes workers for them. One wake-up per worker process that
# may be free; each drains until nothing is left.
SWEEP_WAKES = 2
_STRANDED = """
SELECT EXISTS (
  SELECT 1 FROM integration_webhook
  WHERE status = 'received' AND received_at < now() - interval '15 seconds'
)
"""


async def sweep_unqueued(ctx: dict[str, Any]) -> int:
    """Wake workers when stored deliveries wait that nobody claimed. Returns the number of
    wake-ups sent."""
    if not await pool().fetchval(_STRANDED):
        return 0
    stamp = uuid.uuid4().hex
    sent = 0
    for n in range(SWEEP_WAKES):
        sent += await wake(ctx["redis"], f"normalize:wake:sweep:{stamp}:{n}")
    log.info("sweeper woke %d workers for stored deliveries nobody claimed", sent)
    return sent
