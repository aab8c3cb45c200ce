"""Webhook-triggered syncs: some providers' notifications only say "something changed"
(Google Calendar's `exists`, Drive's `change`, Gmail's `gmail.history`), so the data comes
from reading the stream again. A stream lists those event types in `StreamSpec.triggered_by`;
after such events are processed, each named stream gets one incremental job (the live-job
index folds a burst of notifications into the job already queued or running).

A change can arrive while the stream's job is running and already past it. Such streams
are remembered in a Redis set, and the schedule cron starts them once the running job ends
(`run_pending_webhook_syncs`), so the change is read within about a minute of that.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from arq.connections import ArqRedis

from backend.connectors.registry import get_provider
from backend.connectors.spec import StreamSpec
from backend.lib.db import pool
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import IntegrationStatus
from backend.settings import get_settings
from backend.syncs import services

log = logging.getLogger("switchboard.syncs.triggers")

# Streams whose change came while their job ran, popped this many at a time by the cron.
PENDING_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class ProcessedEvent:
    """A normalized event, as far as triggers care: whose, and of which type."""

    tenant_id: uuid.UUID
    integration_id: uuid.UUID
    connector: str
    event_type: str


def triggered_streams(connector: str, event_type: str) -> list[StreamSpec]:
    """The streams of `connector` an event of `event_type` asks to read again."""
    try:
        provider = get_provider(connector)
    except KeyError:
        return []
    return [s for s in provider.spec.streams if event_type in s.triggered_by and s.modes]


def pending_key() -> str:
    """The set of `tenant:integration:stream` waiting for their running job to end (one per
    queue, so stacks sharing a Redis keep their own)."""
    return f"{get_settings().queue_name}:sync:webhook-pending"


# (tenant, integration) -> stream names
Wanted = dict[tuple[uuid.UUID, uuid.UUID], set[str]]

_STATES = """
SELECT i.id, i.tenant, i.connector, i.status, i.scopes, coalesce(s.paused, false) AS paused
FROM integration i LEFT JOIN sync_schedule s ON s.integration = i.id
WHERE i.id = ANY($1::uuid[])
"""


async def sync_on_events(redis: ArqRedis | None, events: Sequence[ProcessedEvent]) -> int:
    """Start the syncs processed events ask for; returns how many jobs were created.

    Costs nothing for events no stream listens to (no query). Integrations that are not
    connected, or whose automatic syncs are paused, are skipped. Never raises: the events
    are processed already, and a missed trigger only delays data until the next one or
    the schedule (the failure is logged)."""
    wanted: Wanted = {}
    for event in events:
        for stream in triggered_streams(event.connector, event.event_type):
            wanted.setdefault((event.tenant_id, event.integration_id), set()).add(stream.name)
    if not wanted:
        return 0
    try:
        return await _start_streams(redis, wanted)
    except Exception:
        log.exception("webhook-triggered syncs failed")
        return 0


async def run_pending_webhook_syncs(redis: ArqRedis | None) -> int:
    """Start the streams a change reached while their job was running (called by the
    schedule cron). A stream whose job still runs stays pending."""
    if redis is None:
        return 0
    members = await redis.spop(pending_key(), PENDING_BATCH)  # type: ignore[misc]
    wanted: Wanted = {}
    for member in members or []:
        text = member.decode() if isinstance(member, bytes) else str(member)
        tenant, integration, stream = text.split(":", 2)
        wanted.setdefault((uuid.UUID(tenant), uuid.UUID(integration)), set()).add(stream)
    return await _start_streams(redis, wanted) if wanted else 0


async def _start_streams(redis: ArqRedis | None, wanted: Wanted) -> int:
    by_id = {integration: (tenant, names) for (tenant, integration), names in wanted.items()}
    created: list[uuid.UUID] = []
    pending: list[str] = []
    try:
        for row in await pool().fetch(_STATES, list(by_id)):
            tenant_id, names = by_id[row["id"]]
            if (
                row["tenant"] != tenant_id
                or row["status"] != IntegrationStatus.CONNECTED
                or row["paused"]
            ):
                continue
            integration = {**dict(row), "scopes": services.decode_jsonb(row["scopes"])}
            provider = get_provider(row["connector"])
            for name in sorted(names):
                stream = services.find_stream(provider, name)
                if stream is None or not stream.modes:
                    continue
                target = services.Target(integration, provider, stream)
                if services.missing_scopes(target):
                    continue
                job, new = await services.start_job(
                    TenantScope(tenant_id, "webhook"),
                    target,
                    mode=services.default_mode(stream),
                    trigger="webhook",
                )
                if new:
                    created.append(job["id"])
                elif job["status"] == "running":
                    pending.append(f"{tenant_id}:{row['id']}:{name}")
    finally:
        await services.enqueue(redis, created)
        if pending and redis is not None:
            await redis.sadd(pending_key(), *pending)  # type: ignore[misc]
    return len(created)
