"""Raw delivery → CloudEvents 1.0 envelope, through the connector's normalizer and the
integration's active mapping."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from backend.connectors.base import NormalizedEvent


def apply_mapping(data: dict[str, Any], rules: list[dict[str, Any]]) -> dict[str, Any]:
    """Copy fields by dotted path: each rule is {"source": "a.b", "target": "x"}. The mapping
    work extends this (transforms, defaults); unknown paths map to None, never raise."""
    mapped: dict[str, Any] = {}
    for rule in rules:
        source, target = rule.get("source"), rule.get("target")
        if not isinstance(source, str) or not isinstance(target, str):
            continue
        value: Any = data
        for part in source.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        mapped[target] = value
    return mapped


def envelope(
    *,
    event_id: uuid.UUID,
    connector: str,
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    received_at: dt.datetime,
    normalized: NormalizedEvent,
    mapping_rules: list[dict[str, Any]] | None = None,
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
    if mapping_rules:
        event["mapped"] = apply_mapping(normalized.data, mapping_rules)
    return event
