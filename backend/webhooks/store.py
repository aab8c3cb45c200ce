"""The one statement that makes a delivery durable.

Inserts the raw event only if the integration still owns the path token and is not
revoked, dedupes on (integration, provider event id), and counts duplicates — one round
trip, durable commit, before the provider gets its 2xx.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import msgspec

from backend.lib.db import pool

_INSERT = """
WITH owner AS (
  SELECT id, tenant FROM integration
  WHERE id = $1 AND webhook_token_hash = $2 AND revoked_at IS NULL
), ins AS (
  INSERT INTO integration_webhook
    (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
     status, attempts, duplicates, error, trace_id, received_at)
  SELECT $3, owner.tenant, owner.id, $4, $5, $6, $7::jsonb, true, 'received', 0, 0, '', $8, $9
  FROM owner
  ON CONFLICT (integration, provider_event_id)
  DO UPDATE SET duplicates = integration_webhook.duplicates + 1
  RETURNING id, (xmax = 0) AS inserted
)
SELECT (SELECT count(*) FROM owner) AS owned, ins.id, ins.inserted FROM (SELECT 1) one
LEFT JOIN ins ON true
"""


@dataclass(frozen=True, slots=True)
class StoreResult:
    owned: bool
    event_id: uuid.UUID | None
    inserted: bool


async def store_event(
    integration_id: uuid.UUID,
    token_hash: str,
    provider_event_id: str,
    event_type: str,
    body: bytes,
    headers: dict[str, str],
    trace_id: str,
) -> StoreResult:
    row = await pool().fetchrow(
        _INSERT,
        integration_id,
        token_hash,
        uuid.uuid4(),
        provider_event_id[:255],
        event_type[:255],
        body,
        msgspec.json.encode(headers).decode(),
        trace_id,
        dt.datetime.now(dt.UTC),
    )
    assert row is not None
    return StoreResult(bool(row["owned"]), row["id"], bool(row["inserted"]))
