"""Worker jobs: normalize stored deliveries, retry with backoff, dead-letter, sweep."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import msgspec
from arq import Retry

from backend.connectors.registry import get_provider
from backend.lib.db import pool
from backend.lib.telemetry import tracer
from backend.mappings.tables import IntegrationMapping
from backend.observability.services import write_log
from backend.webhooks.normalize import envelope
from backend.webhooks.tables import IntegrationWebhook

log = logging.getLogger("switchboard.worker.webhooks")

MAX_ATTEMPTS = 5
NORMALIZE_JOB = "normalize_event"


def backoff_seconds(attempt: int) -> int:
    return min(300, 5 * 2 ** (attempt - 1))


async def normalize_event(ctx: dict[str, Any], event_id: str, force: bool = False) -> str:
    """Normalize one stored delivery; `force` re-runs a processed one (replay)."""
    with tracer().start_as_current_span("webhook.normalize", attributes={"event.id": event_id}):
        row = (
            await IntegrationWebhook.select()
            .where(IntegrationWebhook.id == uuid.UUID(event_id))
            .output(load_json=True)
            .first()
        )
        if row is None:
            return "missing"
        if row["status"] == "processed" and not force:
            return "already processed"
        attempt = row["attempts"] + 1
        try:
            provider = get_provider(await _connector_of(row["integration"]))
            if provider.webhook is None:
                raise ValueError("the connector has no webhook handler")
            normalized = provider.webhook.normalize(bytes(row["raw_body"]), row["headers"] or {})
            rules = await _active_rules(row["integration"], normalized.type)
            event = envelope(
                event_id=row["id"],
                connector=provider.spec.key,
                tenant_id=row["tenant"],
                integration_id=row["integration"],
                received_at=row["received_at"],
                normalized=normalized,
                mapping_rules=rules,
            )
        except Exception as exc:
            dead = attempt >= MAX_ATTEMPTS
            await IntegrationWebhook.update(
                {
                    IntegrationWebhook.status: "dead" if dead else "failed",
                    IntegrationWebhook.attempts: attempt,
                    IntegrationWebhook.error: f"{type(exc).__name__}: {exc}"[:1000],
                }
            ).where(IntegrationWebhook.id == row["id"])
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
        await IntegrationWebhook.update(
            {
                IntegrationWebhook.status: "processed",
                IntegrationWebhook.normalized: msgspec.json.encode(event).decode(),
                IntegrationWebhook.attempts: attempt,
                IntegrationWebhook.error: "",
                IntegrationWebhook.processed_at: dt.datetime.now(dt.UTC),
            }
        ).where(IntegrationWebhook.id == row["id"])
        return "processed"


async def _connector_of(integration_id: uuid.UUID) -> str:
    return str(
        await pool().fetchval("SELECT connector FROM integration WHERE id = $1", integration_id)
    )


async def _active_rules(integration_id: uuid.UUID, source_type: str) -> list[dict[str, Any]]:
    row = (
        await IntegrationMapping.select(IntegrationMapping.rules)
        .where(
            (IntegrationMapping.integration == integration_id)
            & (IntegrationMapping.source_type == source_type)
            & (IntegrationMapping.active == True)  # noqa: E712 - Piccolo expression
        )
        .order_by(IntegrationMapping.version, ascending=False)
        .first()
    )
    rules = row["rules"] if row else []
    if isinstance(rules, str):
        rules = msgspec.json.decode(rules)
    return list(rules or [])


_UNQUEUED = """
SELECT id FROM integration_webhook
WHERE status = 'received' AND received_at < now() - interval '15 seconds'
ORDER BY received_at LIMIT 500
"""


async def sweep_unqueued(ctx: dict[str, Any]) -> int:
    """Enqueue stored deliveries that never reached the queue (Redis was down)."""
    ids = [r["id"] for r in await pool().fetch(_UNQUEUED)]
    redis = ctx["redis"]
    enqueued = 0
    for event_id in ids:
        # The same job id as the api's enqueue: a row that is only waiting in a backlog is
        # not queued (and normalized) a second time; arq refuses the duplicate id.
        job = await redis.enqueue_job(
            NORMALIZE_JOB, str(event_id), _job_id=f"normalize:{event_id}:0"
        )
        enqueued += job is not None
    if enqueued:
        log.info("sweeper enqueued %d stored deliveries", enqueued)
    return enqueued
