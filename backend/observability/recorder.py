"""What the rest of the code calls to count: one function per thing that happens.

Each call bumps the integration's minute bucket (buckets.py, flushed to PostgreSQL) and
the process totals the OpenTelemetry export reads (export.py). Nothing here does I/O.
"""

from __future__ import annotations

import uuid

from backend.lib.observers import ProviderCall, observe_calls
from backend.lib.vocab import FailureKind
from backend.observability.buckets import BUFFER
from backend.observability.export import TOTALS, export


class WebhookOutcome:
    """The counters a delivery to an integration ends in (`received` is their sum)."""

    ACCEPTED = "webhooks_accepted"
    REJECTED = "webhooks_rejected"
    DUPLICATE = "webhooks_duplicate"


def record_webhook(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    connector: str,
    outcome: str,
    reason: str = "",
    elapsed_ms: float | None = None,
) -> None:
    """One delivery's outcome (`reason` for rejections: signature, account, rate_limited)
    and, when it was stored or found a duplicate, how long ingest took."""
    TOTALS["webhooks", connector, outcome.removeprefix("webhooks_"), reason] += 1
    if elapsed_ms is None:
        BUFFER.add(tenant_id, integration_id, outcome, reason)
        return
    BUFFER.add_timed(tenant_id, integration_id, outcome, reason, "ingest_ms", elapsed_ms)
    export().ingest_latency.observe(connector, elapsed_ms)


def record_app_webhook(connector: str, outcome: str, reason: str = "", by: int = 1) -> None:
    """Deliveries to the operator's app URL before they belong to an integration (forged
    ones, unrouted events): process totals only."""
    if by:
        TOTALS["webhooks", connector, outcome.removeprefix("webhooks_"), reason] += by


def record_event(
    tenant_id: uuid.UUID, integration_id: uuid.UUID, connector: str, processed: bool
) -> None:
    """A stored event normalized, or a normalization attempt that failed."""
    name = "events_processed" if processed else "events_failed"
    BUFFER.add(tenant_id, integration_id, name)
    TOTALS["events", connector, name.removeprefix("events_"), ""] += 1


def record_action(tenant_id: uuid.UUID, integration_id: uuid.UUID, connector: str) -> None:
    """An action run finished (the actions package meters each one)."""
    BUFFER.add(tenant_id, integration_id, "actions")
    TOTALS["actions", connector, "executed", ""] += 1


def record_sync(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    records: int,
    finished: str = "",
) -> None:
    """A sync page's upserted records, or (`finished`: its status) a sync job's end; the
    per-integration metrics read them as `records_synced` and `sync_jobs`."""
    if records:
        BUFFER.add(tenant_id, integration_id, "records_synced", by=records)
    if finished:
        BUFFER.add(tenant_id, integration_id, "sync_jobs", finished)


def status_class(status_code: int) -> str:
    """2xx/3xx/4xx/5xx, or `none` when no response arrived."""
    return f"{status_code // 100}xx" if 100 <= status_code < 600 else "none"


def record_provider_call(call: ProviderCall) -> None:
    """The provider-call observer (registered by `install`)."""
    klass = status_class(call.status_code)
    TOTALS["provider_calls", call.connector, klass, ""] += 1
    if call.failure:
        TOTALS["provider_errors", call.connector, call.failure, ""] += 1
    export().provider_latency.record(call.elapsed_ms, {"connector": call.connector})
    if call.tenant_id is None or call.integration_id is None:
        return
    tenant, integration = call.tenant_id, call.integration_id
    BUFFER.add(tenant, integration, "api_calls", klass)
    if call.failure:
        BUFFER.add(tenant, integration, "api_errors", call.failure)
    if call.failure == FailureKind.RATE_LIMITED:
        BUFFER.add(tenant, integration, "rate_limited")
    BUFFER.observe_ms(tenant, integration, "provider_ms", call.elapsed_ms)


def install(service_name: str = "switchboard") -> None:
    """Count provider calls in this process and create its metric export (idempotent)."""
    export(service_name)
    observe_calls(record_provider_call)


async def flush() -> int:
    """Write pending buckets now (shutdown, tests)."""
    return await BUFFER.flush()


async def close() -> None:
    await BUFFER.close()
