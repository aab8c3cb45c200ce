"""The one statement that makes a delivery durable.

Inserts the raw event only if the integration still owns the path token and is not
revoked; dedupes on (integration, provider event id), and also on (integration, signed
digest) where the provider's id is an unsigned header, so a replay with a fresh id is
caught — one round trip, durable commit, before the provider gets its 2xx (a duplicate
takes a second one, to be counted on its original).

The event table is partitioned by day, and a unique index on it would have to include
`received_at`, which a replay never repeats: the dedupe keys live in
`integration_webhook_key` (not partitioned), one row per stored event. The `key` step
inserts it with `ON CONFLICT DO NOTHING` (without a target it honours both unique indexes),
and the event is inserted only when its key was; concurrent twins wait on the key's index
exactly as they did on the event's. So dedupe holds across partitions for as long as keys
are kept: the event retention (backend/lib/partitions.py).

A duplicate is counted on the row that exists by a second statement, found through its
key, whose `received_at` names the partition: an UPDATE of the partitioned table inside
the insert would cost every delivery (duplicate or not) its planning and locking across all
partitions, ~330 µs of PostgreSQL CPU per insert measured against ~210 µs for the whole
insert without it (docs/scaling.md). The key lookup sees what was committed before the
statement began: a twin committed meanwhile by a concurrent request is found by running
the statement once more.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from backend.lib.db import pool
from backend.webhooks.routing import RoutedEvent

_INSERT = """
WITH owner AS (
  SELECT id, tenant FROM integration
  WHERE id = $1 AND webhook_token_hash = $2 AND revoked_at IS NULL
), key AS (
  INSERT INTO integration_webhook_key
    (integration, provider_event_id, signed_digest, event_id, received_at)
  SELECT owner.id, $4, $10::bytea, $3, $9 FROM owner
  ON CONFLICT DO NOTHING
  RETURNING event_id
), ins AS (
  INSERT INTO integration_webhook
    (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
     status, attempts, duplicates, error, trace_id, received_at, signed_digest)
  SELECT key.event_id, owner.tenant, owner.id, $4, $5, $6, $7::jsonb, true, 'received', 0, 0,
         '', $8, $9, $10::bytea
  FROM owner, key
  RETURNING id
), original AS (
  SELECT k.event_id, k.received_at FROM integration_webhook_key k
  WHERE NOT EXISTS (SELECT 1 FROM key)
    AND k.integration = (SELECT id FROM owner)
    AND (k.provider_event_id = $4 OR k.signed_digest = $10::bytea)
  ORDER BY k.received_at LIMIT 1
)
SELECT EXISTS (SELECT 1 FROM owner) AS owned,
       coalesce((SELECT id FROM ins), (SELECT event_id FROM original)) AS id,
       (SELECT received_at FROM original) AS original_at,
       EXISTS (SELECT 1 FROM ins) AS inserted
"""
# A partition-pruned count on the stored original.
_COUNT_DUPLICATES = """
UPDATE integration_webhook w SET duplicates = w.duplicates + 1
FROM unnest($1::uuid[], $2::timestamptz[]) AS d(id, received_at)
WHERE w.id = d.id AND w.received_at = d.received_at
RETURNING w.id
"""


def storable(text: str) -> str:
    """At most 255 characters PostgreSQL can hold: U+0000 (never in a real id, but a signed
    body may carry it) becomes U+FFFD instead of failing the insert, which would answer 503
    and have the provider retry forever."""
    return text.replace("\x00", "\ufffd")[:255]


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
    *,
    received_at: dt.datetime | None = None,
) -> StoreResult:
    """`received_at` is now unless given (a test placing events in given partitions)."""
    args = (
        integration_id,
        token_hash,
        uuid.uuid4(),
        storable(provider_event_id),
        storable(event_type),
        body,
        msgspec.json.encode(headers).decode(),
        trace_id,
        received_at or dt.datetime.now(dt.UTC),
        signed_digest,
    )
    db = pool()
    row = await db.fetchrow(_INSERT, *args)
    assert row is not None
    if row["owned"] and not row["inserted"] and row["id"] is None:
        row = await db.fetchrow(_INSERT, *args)  # the twin committed after our snapshot
        assert row is not None
    if row["owned"] and not row["inserted"] and row["id"] is not None:
        await db.fetch(_COUNT_DUPLICATES, [row["id"]], [row["original_at"]])
    return StoreResult(bool(row["owned"]), row["id"], bool(row["inserted"]))


# App-level deliveries: every event goes to each integration connected to its account (any
# tenant; never test mode, whose account a simulator names). Routing and the ownership check
# are one join inside the insert, so the statement is the only round trip and never acts
# on a stale lookup. Duplicates (same integration and event id) are counted on the stored
# row (by _COUNT_DUPLICATES, for the originals this statement returns); one whose twin a
# concurrent request commits meanwhile is stored once all the same.
_INSERT_ROUTED = """
WITH part AS (
  SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::bytea[])
    AS p(account_id, provider_event_id, event_type, raw_body)
), owner AS MATERIALIZED (
  SELECT gen_random_uuid() AS event_id, p.account_id, p.provider_event_id, p.event_type,
         p.raw_body, i.id AS integration, i.tenant
  FROM part p JOIN integration i
    ON i.connector = $1 AND i.account_id = p.account_id
   AND i.revoked_at IS NULL AND i.status IN ('connected', 'error', 'needs_reauth')
   AND NOT i.test_mode
), key AS (
  INSERT INTO integration_webhook_key
    (integration, provider_event_id, signed_digest, event_id, received_at)
  SELECT o.integration, o.provider_event_id, NULL, o.event_id, $8 FROM owner o
  ON CONFLICT DO NOTHING
  RETURNING event_id, integration, provider_event_id
), ins AS (
  INSERT INTO integration_webhook
    (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
     status, attempts, duplicates, error, trace_id, received_at)
  SELECT o.event_id, o.tenant, o.integration, o.provider_event_id, o.event_type,
         o.raw_body, $6::jsonb, true, 'received', 0, 0, '', $7, $8
  FROM owner o JOIN key k ON k.event_id = o.event_id
  RETURNING id
), original AS (
  SELECT DISTINCT k.event_id, k.received_at
  FROM owner o JOIN integration_webhook_key k
    ON k.integration = o.integration AND k.provider_event_id = o.provider_event_id
  WHERE NOT EXISTS (
    SELECT 1 FROM key
    WHERE key.integration = o.integration AND key.provider_event_id = o.provider_event_id
  )
)
SELECT coalesce((SELECT array_agg(id) FROM ins), '{}') AS inserted,
       coalesce((SELECT array_agg(event_id) FROM original), '{}') AS original_ids,
       coalesce((SELECT array_agg(received_at) FROM original), '{}') AS original_at,
       coalesce((SELECT array_agg(DISTINCT account_id) FROM owner), '{}') AS routed
"""


@dataclass(frozen=True, slots=True)
class RoutedResult:
    inserted: list[uuid.UUID]  # new rows, to normalize
    duplicates: int  # stored before, counted on their rows
    unrouted: int  # events of accounts no integration is connected to: dropped


async def store_routed(
    connector: str,
    events: Sequence[RoutedEvent],
    headers: dict[str, str],
    trace_id: str,
) -> RoutedResult:
    """Store each event for every integration connected to its account, in one statement."""
    # An account id PostgreSQL cannot hold cannot be one an integration is connected to.
    routable = [e for e in events if e.account_id and "\x00" not in e.account_id]
    row = None
    if routable:
        row = await pool().fetchrow(
            _INSERT_ROUTED,
            connector,
            [e.account_id for e in routable],
            [storable(e.event_id) for e in routable],
            [storable(e.event_type) for e in routable],
            [e.body for e in routable],
            msgspec.json.encode(headers).decode(),
            trace_id,
            dt.datetime.now(dt.UTC),
        )
    routed = set(row["routed"]) if row is not None else set()
    duplicates = 0
    if row is not None and row["original_ids"]:
        counted = await pool().fetch(_COUNT_DUPLICATES, row["original_ids"], row["original_at"])
        duplicates = len(counted)
    return RoutedResult(
        inserted=list(row["inserted"]) if row is not None else [],
        duplicates=duplicates,
        unrouted=sum(1 for e in events if e.account_id not in routed),
    )
