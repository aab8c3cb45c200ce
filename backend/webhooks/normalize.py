"""Raw delivery → CloudEvents 1.0 envelope, through the connector's normalizer and the
integration's active mapping."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from backend.connectors.base import NormalizedEvent
from backend.mappings.engine import MappingResult


def envelope(
    *,
    event_id: uuid.UUID,
    connector: str,
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    received_at: dt.datetime,
    normalized: NormalizedEvent,
    mapping: MappingResult | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(event_id),
        "source": f"switchboard/{connector}/{integration_id}",
        "type": f"{connector}.{normalized.type}",
        "subject": normalized.subject,
        "time": (normalized.time or received_at).isoformat(),
        "datacontenttype": "application/json",
        "tenant": str(tenant_id),
        "integration": str(integration_id),
        "data": normalized.data,
    }
    if mapping is not None:
        # CloudEvents extension attributes: lower-case letters and digits only.
        event["mapped"] = mapping.mapped
        event["mappingversion"] = mapping.version
        event["mappingerrors"] = mapping.errors_as_json()
    return event
