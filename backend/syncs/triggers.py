"""Webhook-triggered syncs: some providers' notifications only say "something changed"
(Google Calendar's `exists`, Drive's `change`, Gmail's `gmail.history`), so the data comes
from reading the stream again. A stream lists those event types in `StreamSpec.triggered_by`;
after such events are processed, each named stream gets one incremental job (the live-job
index folds a burst of notifications into the job already queued or running).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis

from backend.connectors.registry import Provider, get_provider
from backend.connectors.spec import StreamSpec
from backend.lib.db import pool
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import IntegrationStatus
from backend.syncs import services
from backend.syncs.schedules import decode_jsonb, default_mode

log = logging.getLogger("switchboard.syncs.triggers")


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
    wanted: dict[uuid.UUID, tuple[uuid.UUID, dict[str, StreamSpec]]] = {}
    for event in events:
        for stream in triggered_streams(event.connector, event.event_type):
            _, streams = wanted.setdefault(event.integration_id, (event.tenant_id, {}))
            streams[stream.name] = stream
    if not wanted:
        return 0
    created: list[uuid.UUID] = []
    try:
        for row in await pool().fetch(_STATES, list(wanted)):
            tenant_id, streams = wanted[row["id"]]
            if (
                row["tenant"] != tenant_id
                or row["status"] != IntegrationStatus.CONNECTED
                or row["paused"]
            ):
                continue
            integration: dict[str, Any] = {**dict(row), "scopes": decode_jsonb(row["scopes"])}
            provider = get_provider(row["connector"])
            for stream in streams.values():
                created += await _start(provider, integration, stream)
        await services.enqueue(redis, created)
    except Exception:
        log.exception("webhook-triggered syncs failed (%d created)", len(created))
    return len(created)


async def _start(
    provider: Provider, integration: dict[str, Any], stream: StreamSpec
) -> list[uuid.UUID]:
    target = services.Target(integration, provider, stream)
    if services.missing_scopes(target):
        return []
    scope = TenantScope(integration["tenant"], "webhook")
    job, new = await services.start_job(scope, target, mode=default_mode(stream), trigger="webhook")
    return [job["id"]] if new else []
