"""Which mapping applies to a payload, and applying it: the one entry point for webhook
normalization now and the sync engine later.

A sync calls `map_payload(IntegrationRef(...), stream, record)` for each record; webhook
normalization calls `map_event`, which first picks the event's payload document. The mapping
in force for a source is, in order: the tenant's saved mapping of that source, its saved `*`
mapping, the connector's default of that source, the connector's default `*`.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec
from opentelemetry import trace

from backend.lib.db import pool
from backend.mappings.compile import compile_rules, decode_rules
from backend.mappings.defaults import default_mapping, payload_source
from backend.mappings.engine import CompiledMapping, MappingResult

ALL_SOURCES = "*"
# Compiled saved mappings by row id: a version's rules never change, so an entry is valid
# for as long as the row exists. Bounded so a worker serving many tenants stays small.
_CACHE_SIZE = 2048
_compiled: OrderedDict[uuid.UUID, CompiledMapping] = OrderedDict()

_CURRENT = """
SELECT id, version, rules::text AS rules FROM integration_mapping
WHERE tenant = $1 AND integration = $2 AND active AND source_type = ANY($3::text[])
ORDER BY source_type = '*' LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class IntegrationRef:
    tenant_id: uuid.UUID
    integration_id: uuid.UUID
    connector: str


def _cached(row_id: uuid.UUID, version: int, rules_json: str) -> CompiledMapping:
    found = _compiled.get(row_id)
    if found is not None:
        _compiled.move_to_end(row_id)
        return found
    # Saved rules were checked when saved; a stored row that no longer compiles is a fault
    # of the configuration, raised so the worker retries and reports it.
    mapping = compile_rules(decode_rules(msgspec.json.decode(rules_json)), version)
    _compiled[row_id] = mapping
    if len(_compiled) > _CACHE_SIZE:
        _compiled.popitem(last=False)
    return mapping


async def mapping_for(
    integration: IntegrationRef, source: str, *, saved: bool = True
) -> CompiledMapping | None:
    """The mapping in force for `source` (None: nothing maps it). `saved=False` skips the
    query when the caller already knows the integration has no saved mapping."""
    if saved:
        row = await pool().fetchrow(
            _CURRENT,
            integration.tenant_id,
            integration.integration_id,
            [source, ALL_SOURCES],
        )
        if row is not None:
            return _cached(row["id"], row["version"], row["rules"])
    return default_mapping(integration.connector, source) or default_mapping(
        integration.connector, ALL_SOURCES
    )


async def map_payload(
    integration: IntegrationRef, source: str, payload: Any, *, saved: bool = True
) -> MappingResult | None:
    """Map one payload (an event's document, a synced record of stream `source`)."""
    mapping = await mapping_for(integration, source, saved=saved)
    return mapping.apply(payload) if mapping is not None else None


def event_document(connector: str, raw_body: bytes, data: dict[str, Any]) -> Any:
    """What an event's rules read: the provider's JSON object as delivered, so every field
    the provider sent can be mapped; the normalized `data` when the body is not a JSON
    object (forms, empty bodies) or the connector says its `data` is the useful view."""
    if payload_source(connector) == "data":
        return data
    stripped = raw_body.lstrip()
    if stripped[:1] == b"{":
        try:
            document = msgspec.json.decode(raw_body)
        except (msgspec.DecodeError, RecursionError):
            return data
        if isinstance(document, dict):
            return document
    return data


async def map_event(
    integration: IntegrationRef,
    source: str,
    raw_body: bytes,
    data: dict[str, Any],
    *,
    saved: bool = True,
) -> MappingResult | None:
    """Map a webhook event of type `source`; None when no mapping applies."""
    mapping = await mapping_for(integration, source, saved=saved)
    if mapping is None:
        return None
    result = mapping.apply(event_document(integration.connector, raw_body, data))
    # Counts only: values and messages may quote the payload.
    span = trace.get_current_span()
    span.set_attribute("switchboard.mapping.version", result.version)
    span.set_attribute("switchboard.mapping.errors", len(result.errors))
    return result
