"""Normalize stored deliveries in batches: claim, normalize and map, write back at once.

A job per event cost arq's per-job Redis round trips and a row-at-a-time update, and
drained a fifth of what ingest accepts (issue 16). Here one transaction claims up to N
`received` rows, oldest first (per-integration advisory locks taken with
`pg_try_advisory_xact_lock`, so concurrent workers skip each other's integrations instead of
waiting, then `FOR UPDATE` on the rows), normalizes them in Python and
writes every result with one `UPDATE … FROM unnest(…)`; the commit is the only moment an
event becomes processed, so a worker killed mid-batch leaves its rows `received` for the
next claim (never half-written, never twice).

Receipt order per integration: a claim first takes a transaction-scoped advisory lock per
integration among the oldest received rows, skipping integrations another transaction
holds, then reads those integrations' oldest rows. Each claim is the oldest prefix of an
integration's received rows, committed before anyone can claim the rest, so two workers
never process one integration's events out of order. A failing event fails
alone: the batch writes its attempt and error, and the caller schedules its retry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from opentelemetry import trace

from backend.connectors.registry import get_provider
from backend.lib.db import pool
from backend.lib.telemetry import tracer
from backend.mappings.apply import IntegrationRef, event_document, mapping_for
from backend.mappings.engine import CompiledMapping
from backend.webhooks.normalize import envelope

MAX_ATTEMPTS = 5
BATCH_SIZE = 200
# The advisory lock space of normalization (the first key of pg_try_advisory_xact_lock).
_LOCK_SPACE = 1_016_016

# Two statements, so the rows are read after the locks are held: first the integrations
# of the oldest received rows whose advisory lock this transaction gets (tried on that
# window only, never on the whole backlog), then, in a snapshot taken after any previous
# holder committed, the oldest received rows of those integrations.
LOCK_OLDEST = """
WITH oldest AS MATERIALIZED (
  SELECT integration FROM integration_webhook
  WHERE status = 'received' ORDER BY received_at, id LIMIT $1
), distinct_integrations AS MATERIALIZED (
  SELECT DISTINCT integration FROM oldest
)
SELECT integration FROM distinct_integrations
WHERE pg_try_advisory_xact_lock($2, hashtext(integration::text))
"""
CLAIM = """
SELECT w.id, w.tenant, w.integration, w.raw_body, w.headers, w.status, w.attempts,
       w.received_at, w.trace_id
FROM integration_webhook w
WHERE w.status = 'received' AND w.integration = ANY($2::uuid[])
ORDER BY w.received_at, w.id
LIMIT $1
FOR UPDATE OF w
"""

# One event by id (replay, retry of a failed event), after the batches of its integration
# that hold its lock; the row lock then waits for any other claim of it.
LOCK_ONE = """
SELECT pg_advisory_xact_lock($2, hashtext(integration::text))
FROM integration_webhook WHERE id = $1
"""
CLAIM_ONE = """
SELECT w.id, w.tenant, w.integration, w.raw_body, w.headers, w.status, w.attempts,
       w.received_at, w.trace_id
FROM integration_webhook w WHERE w.id = $1 FOR UPDATE
"""

_INTEGRATIONS = """
SELECT i.id, i.connector,
       EXISTS (SELECT 1 FROM integration_mapping m
               WHERE m.integration = i.id AND m.active) AS has_mappings
FROM integration i WHERE i.id = ANY($1::uuid[])
"""

_WRITE = """
UPDATE integration_webhook w
SET status = u.status,
    normalized = CASE WHEN u.status = 'processed' THEN u.normalized::jsonb ELSE w.normalized END,
    attempts = u.attempts,
    error = u.error,
    processed_at = CASE WHEN u.status = 'processed' THEN $7 ELSE w.processed_at END
FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], $5::int[], $6::text[])
  AS u(id, received_at, status, normalized, attempts, error)
WHERE w.id = u.id AND w.received_at = u.received_at
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event of a batch (the caller meters, logs and retries)."""

    event_id: uuid.UUID
    tenant_id: uuid.UUID
    integration_id: uuid.UUID
    connector: str
    event_type: str  # the normalized type ("" when normalization failed)
    status: str  # processed | failed | dead
    attempt: int
    error: str = ""
    error_type: str = ""


@dataclass(frozen=True, slots=True)
class _Integration:
    connector: str
    has_mappings: bool


def link_to_receipt(trace_id: str) -> list[trace.Link]:
    """Normalization runs in the batch's own trace; a link leads from it to the request that
    stored the event, so a trace viewer goes from receipt to normalization and back."""
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


async def claim_and_process(
    size: int = BATCH_SIZE, *, event_id: uuid.UUID | None = None, force: bool = False
) -> list[Outcome]:
    """One batch in one transaction: the oldest claimable received rows (or the one event
    `event_id`; `force` re-runs it when already processed). Returns each event's outcome;
    an empty list when nothing was claimable."""
    async with pool().acquire() as conn, conn.transaction():
        if event_id is None:
            held = [r["integration"] for r in await conn.fetch(LOCK_OLDEST, size, _LOCK_SPACE)]
            rows = await conn.fetch(CLAIM, size, held) if held else []
        else:
            await conn.execute(LOCK_ONE, event_id, _LOCK_SPACE)
            rows = await conn.fetch(CLAIM_ONE, event_id)
            rows = [r for r in rows if force or r["status"] != "processed"]
        if not rows:
            return []
        with tracer().start_as_current_span(
            "webhook.normalize_batch", attributes={"switchboard.batch.size": len(rows)}
        ) as span:
            traced = span.is_recording()
            if traced:  # links (and the per-event spans) cost nothing when nothing records
                for row in rows:
                    for link in link_to_receipt(row["trace_id"]):
                        span.add_link(link.context, link.attributes)
            integrations = await _integrations(conn, {r["integration"] for r in rows})
            outcomes, encoded = await _normalize_all(rows, integrations, traced)
            await conn.execute(
                _WRITE,
                [o.event_id for o in outcomes],
                [r["received_at"] for r in rows],
                [o.status for o in outcomes],
                encoded,
                [o.attempt for o in outcomes],
                [o.error for o in outcomes],
                dt.datetime.now(dt.UTC),
            )
    return outcomes


async def _integrations(conn: Any, ids: set[uuid.UUID]) -> dict[uuid.UUID, _Integration]:
    rows = await conn.fetch(_INTEGRATIONS, list(ids))
    return {r["id"]: _Integration(r["connector"], r["has_mappings"]) for r in rows}


async def _normalize_all(
    rows: Sequence[Any], integrations: dict[uuid.UUID, _Integration], traced: bool
) -> tuple[list[Outcome], list[str | None]]:
    """Each row on its own: one that raises is an outcome, never the batch's failure. The
    mapping in force is looked up once per integration and type within the batch."""
    mappings: dict[tuple[uuid.UUID, str], CompiledMapping | None] = {}
    outcomes: list[Outcome] = []
    encoded: list[str | None] = []
    for row in rows:
        integration = integrations.get(row["integration"])
        connector = integration.connector if integration else ""
        attempt = row["attempts"] + 1
        with _event_span(row, connector) if traced else contextlib.nullcontext():
            try:
                if integration is None:
                    raise LookupError("the integration is gone")
                event_type, text = await _normalize(row, integration, mappings, traced)
            except Exception as exc:
                status = "dead" if attempt >= MAX_ATTEMPTS else "failed"
                error = f"{type(exc).__name__}: {exc}"[:1000]
                outcomes.append(
                    Outcome(
                        row["id"],
                        row["tenant"],
                        row["integration"],
                        connector,
                        "",
                        status,
                        attempt,
                        error,
                        type(exc).__name__,
                    )
                )
                encoded.append(None)
                continue
        outcomes.append(
            Outcome(
                row["id"],
                row["tenant"],
                row["integration"],
                connector,
                event_type,
                "processed",
                attempt,
            )
        )
        encoded.append(text)
    return outcomes, encoded


def _event_span(row: Any, connector: str) -> Any:
    """One event's span in the batch, linked to the request that stored it."""
    return tracer().start_as_current_span(
        "webhook.normalize",
        attributes={
            "event.id": str(row["id"]),
            "switchboard.connector": connector,
            "switchboard.tenant": str(row["tenant"]),
            "switchboard.integration": str(row["integration"]),
        },
        links=link_to_receipt(row["trace_id"]),
    )


async def _normalize(
    row: Any,
    integration: _Integration,
    mappings: dict[tuple[uuid.UUID, str], CompiledMapping | None],
    traced: bool,
) -> tuple[str, str]:
    """The CloudEvents envelope of one row, JSON-encoded, and its normalized type."""
    provider = get_provider(integration.connector)
    if provider.webhook is None:
        raise ValueError("the connector has no webhook handler")
    headers = msgspec.json.decode(row["headers"]) if row["headers"] else {}
    raw_body = bytes(row["raw_body"])
    normalized = provider.webhook.normalize(raw_body, headers)
    ref = IntegrationRef(row["tenant"], row["integration"], provider.spec.key)
    key = (row["integration"], normalized.type)
    if key not in mappings:
        mappings[key] = await mapping_for(ref, normalized.type, saved=integration.has_mappings)
    mapping = mappings[key]
    result = None
    if mapping is not None:
        if traced:
            with tracer().start_as_current_span(
                "mapping.apply", attributes={"switchboard.mapping.source": normalized.type}
            ) as span:
                result = mapping.apply(event_document(ref.connector, raw_body, normalized.data))
                # Counts only: values and messages may quote the payload.
                span.set_attribute("switchboard.mapping.version", result.version)
                span.set_attribute("switchboard.mapping.errors", len(result.errors))
        else:
            result = mapping.apply(event_document(ref.connector, raw_body, normalized.data))
    event = envelope(
        event_id=row["id"],
        connector=provider.spec.key,
        tenant_id=row["tenant"],
        integration_id=row["integration"],
        received_at=row["received_at"],
        normalized=normalized,
        mapping=result,
    )
    return normalized.type, msgspec.json.encode(event).decode()
