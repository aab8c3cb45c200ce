"""The one statement that makes a delivery durable.

Inserts the raw event only if the integration still owns the path token and is not
revoked; dedupes on (integration, provider event id), and also on (integration, signed
digest) where the provider's id is an unsigned header, so a replay with a fresh id is
caught; counts duplicates — one round trip, durable commit, before the provider gets its
2xx.

`ON CONFLICT DO NOTHING` without a target honours both unique indexes (a `DO UPDATE`
could name only one); the `dup` step then counts the duplicate on the row that exists.
It runs only when nothing was inserted, and sees what was committed before the
statement began: a twin committed meanwhile by a concurrent request is found by running
the statement once more.
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
     status, attempts, duplicates, error, trace_id, received_at, signed_digest)
  SELECT $3, owner.tenant, owner.id, $4, $5, $6, $7::jsonb, true, 'received', 0, 0, '', $8, $9,
         $10::bytea
  FROM owner
  ON CONFLICT DO NOTHING
  RETURNING id
), dup AS (
  UPDATE integration_webhook w SET duplicates = w.duplicates + 1
  WHERE w.id = (
    SELECT d.id FROM integration_webhook d
    WHERE NOT EXISTS (SELECT 1 FROM ins)
      AND d.integration = (SELECT id FROM owner)
      AND (d.provider_event_id = $4 OR d.signed_digest = $10::bytea)
    ORDER BY d.received_at LIMIT 1
  )
  RETURNING w.id
)
SELECT EXISTS (SELECT 1 FROM owner) AS owned,
       coalesce((SELECT id FROM ins), (SELECT id FROM dup)) AS id,
       EXISTS (SELECT 1 FROM ins) AS inserted
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
    signed_digest: bytes | None = None,
) -> StoreResult:
    args = (
        integration_id,
        token_hash,
        uuid.uuid4(),
        provider_event_id[:255],
        event_type[:255],
        body,
        msgspec.json.encode(headers).decode(),
        trace_id,
        dt.datetime.now(dt.UTC),
        signed_digest,
    )
    db = pool()
    row = await db.fetchrow(_INSERT, *args)
    assert row is not None
    if row["owned"] and not row["inserted"] and row["id"] is None:
        row = await db.fetchrow(_INSERT, *args)  # the twin committed after our snapshot
        assert row is not None
    return StoreResult(bool(row["owned"]), row["id"], bool(row["inserted"]))
