"""Worker jobs: normalize stored deliveries, retry with backoff, dead-letter, sweep."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from typing import Any

import msgspec
from arq import Retry
from opentelemetry import trace

from backend.connectors.registry import get_provider
from backend.lib.db import pool
from backend.lib.queue import FastEnqueuer
from backend.lib.telemetry import tracer
from backend.mappings.apply import IntegrationRef, map_event
from backend.observability.recorder import record_event
from backend.observability.services import write_log
from backend.settings import get_settings
from backend.webhooks.normalize import envelope

log = logging.getLogger("switchboard.worker.webhooks")

MAX_ATTEMPTS = 5
NORMALIZE_JOB = "normalize_event"


def backoff_seconds(attempt: int) -> int:
    return min(300, 5 * 2 ** (attempt - 1))


_LOAD = """
SELECT w.id, w.tenant, w.integration, w.raw_body, w.headers, w.status, w.attempts,
       w.received_at, w.trace_id, i.connector,
       EXISTS (SELECT 1 FROM integration_mapping m
               WHERE m.integration = w.integration AND m.active) AS has_mappings
FROM integration_webhook w JOIN integration i ON i.id = w.integration
WHERE w.id = $1
"""
_DONE = """
UPDATE integration_webhook
SET status = 'processed', normalized = $2::jsonb, attempts = $3, error = '', processed_at = $4
WHERE id = $1
"""
_FAILED = "UPDATE integration_webhook SET status = $2, attempts = $3, error = $4 WHERE id = $1"


def _link_to_receipt(trace_id: str) -> list[trace.Link]:
    """A job that does not continue the receipt's trace (enqueued by the sweeper or a replay,
    which carry their own) links to the request that stored the event, so a trace viewer
    still leads from receipt to normalization. Jobs enqueued by ingest are in its trace."""
    current = trace.get_current_span().get_span_context()
    if len(trace_id) != 32 or (current.is_valid and f"{current.trace_id:032x}" == trace_id):
        return []
    try:
        context = trace.SpanContext(
            trace_id=int(trace_id, 16),
            span_id=1,
            is_remote=True,
            trace_flags=trace.TraceFlags(trace.TraceFlags.SAMPLED),
        )
    except ValueError:
        return []
    return [trace.Link(context, {"switchboard.link": "webhook.receipt"})]


async def normalize_event(ctx: dict[str, Any], event_id: str, force: bool = False) -> str:
    """Normalize one stored delivery; `force` re-runs a processed one (replay).

    Raw asyncpg, two statements on the common path (load, mark processed): the worker has to
    keep up with the api's ingest rate."""
    db = pool()
    row = await db.fetchrow(_LOAD, uuid.UUID(event_id))
    if row is None:
        return "missing"
    with tracer().start_as_current_span(
        "webhook.normalize",
        attributes={
            "event.id": event_id,
            "switchboard.connector": row["connector"],
            "switchboard.tenant": str(row["tenant"]),
            "switchboard.integration": str(row["integration"]),
        },
        links=_link_to_receipt(row["trace_id"]),
    ):
        if row["status"] == "processed" and not force:
            return "already processed"
        attempt = row["attempts"] + 1
        try:
            provider = get_provider(row["connector"])
            if provider.webhook is None:
                raise ValueError("the connector has no webhook handler")
            headers = msgspec.json.decode(row["headers"]) if row["headers"] else {}
            normalized = provider.webhook.normalize(bytes(row["raw_body"]), headers)
            with tracer().start_as_current_span(
                "mapping.apply", attributes={"switchboard.mapping.source": normalized.type}
            ):
                mapping = await map_event(
                    IntegrationRef(row["tenant"], row["integration"], provider.spec.key),
                    normalized.type,
                    bytes(row["raw_body"]),
                    normalized.data,
                    saved=row["has_mappings"],
                )
            event = envelope(
                event_id=row["id"],
                connector=provider.spec.key,
                tenant_id=row["tenant"],
                integration_id=row["integration"],
                received_at=row["received_at"],
                normalized=normalized,
                mapping=mapping,
            )
            encoded = msgspec.json.encode(event).decode()
        except Exception as exc:
            dead = attempt >= MAX_ATTEMPTS
            error = f"{type(exc).__name__}: {exc}"[:1000]
            await db.execute(_FAILED, row["id"], "dead" if dead else "failed", attempt, error)
            record_event(row["tenant"], row["integration"], row["connector"], processed=False)
            await write_log(
                row["tenant"],
                row["integration"],
                "webhook.normalize_failed",
                f"normalization failed (attempt {attempt}): {type(exc).__name__}",
                level="error" if dead else "warning",
                context={"event_id": event_id},
            )
            if dead:
                return "dead"
            raise Retry(defer=backoff_seconds(attempt)) from exc
        await db.execute(_DONE, row["id"], encoded, attempt, dt.datetime.now(dt.UTC))
        record_event(row["tenant"], row["integration"], row["connector"], processed=True)
        return "processed"


# Sweeping: a run tops the queue up to QUEUE_HIGH_WATER ready jobs, BATCH rows per round
# trip, and waits for room while lost rows remain, within its budget (shorter than the
# 15 s cron period, so runs never overlap). The mark is about 40 s of what two worker
# processes drain (~500 events/s measured): workers never starve between runs, and a
# backlog of millions lost with Redis is fed to them at their pace instead of parked in
# Redis memory at once.
QUEUE_HIGH_WATER = 20_000
SWEEP_BATCH = 1_000
SWEEP_BUDGET_SECONDS = 12.0
_ROOM_POLL_SECONDS = 0.25
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)  # before every row: the first page's key
_UNQUEUED = """
SELECT id, received_at FROM integration_webhook
WHERE status = 'received' AND received_at < now() - interval '15 seconds'
  AND (received_at, id) > ($1, $2)
ORDER BY received_at, id LIMIT $3
"""


async def sweep_unqueued(
    ctx: dict[str, Any],
    *,
    high_water: int = QUEUE_HIGH_WATER,
    batch: int = SWEEP_BATCH,
    budget_seconds: float = SWEEP_BUDGET_SECONDS,
) -> int:
    """Enqueue stored deliveries that never reached the queue (Redis was down, or restarted
    empty), oldest first, as fast as the workers drain the queue. Returns how many."""
    queue = get_settings().queue_name
    enqueuer = FastEnqueuer(ctx["redis"], queue)
    deadline = time.monotonic() + budget_seconds
    after: tuple[dt.datetime, uuid.UUID] = (_EPOCH, uuid.UUID(int=0))
    enqueued = 0
    while True:
        room = high_water - await _ready_jobs(ctx["redis"], queue)
        if room <= 0:
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(_ROOM_POLL_SECONDS)
            continue
        wanted = min(room, batch)
        # One row of look-ahead: a page that fills the queue also says whether rows remain.
        rows = await pool().fetch(_UNQUEUED, *after, wanted + 1)
        page = rows[:wanted]
        if page:
            # The api's job id: a row only waiting in a backlog is not queued twice.
            enqueued += await enqueuer.enqueue_many(
                NORMALIZE_JOB, [(str(r["id"]), f"normalize:{r['id']}:0") for r in page]
            )
            after = (page[-1]["received_at"], page[-1]["id"])
        if len(rows) <= wanted:
            break
    if enqueued:
        log.info("sweeper enqueued %d stored deliveries", enqueued)
    return enqueued


async def _ready_jobs(redis: Any, queue: str) -> int:
    """Jobs due now (deferred retries wait with a later score and do not count)."""
    return int(await redis.zcount(queue, "-inf", int(time.time() * 1000)))
