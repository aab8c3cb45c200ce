"""The payload a preview runs on when the caller sends no sample: the integration's latest
stored event of the source (read exactly as normalization reads it), else its latest synced
record of that stream.

Only the mapping routes use this; the mapping engine itself reads no event or record table.
"""

from __future__ import annotations

from typing import Any

from backend.lib.tenancy import TenantScope
from backend.mappings.apply import ALL_SOURCES, event_document
from backend.syncs.tables import SyncedRecord
from backend.webhooks.tables import IntegrationWebhook


async def latest_payload(scope: TenantScope, integration: dict[str, Any], source: str) -> Any:
    """The latest stored payload of `source` (`*`: of any type), or None."""
    events = scope.select(
        IntegrationWebhook, IntegrationWebhook.raw_body, IntegrationWebhook.normalized
    ).where(IntegrationWebhook.integration == integration["id"])
    if source != ALL_SOURCES:
        events = events.where(IntegrationWebhook.event_type == source)
    event = await events.order_by(IntegrationWebhook.received_at, ascending=False).first()
    if event is not None:
        normalized = event["normalized"]
        data = normalized.get("data") if isinstance(normalized, dict) else None
        return event_document(
            integration["connector"],
            bytes(event["raw_body"]),
            data if isinstance(data, dict) else {},
        )
    records = scope.select(SyncedRecord, SyncedRecord.data).where(
        SyncedRecord.integration == integration["id"]
    )
    if source != ALL_SOURCES:
        records = records.where(SyncedRecord.stream == source)
    record = await records.order_by(SyncedRecord.synced_at, ascending=False).first()
    return record["data"] if record is not None else None
