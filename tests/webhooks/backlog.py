"""Stored-but-unprocessed deliveries inserted straight into PostgreSQL: a backlog as the api
leaves it, for the batch normalization tests."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from backend.lib.db import pool

_GITHUB_ISSUE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "github" / "issues__opened.json"
).read_bytes()

_INSERT = """
INSERT INTO integration_webhook
  (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
   status, attempts, duplicates, error, trace_id, received_at)
SELECT gen_random_uuid(), $1, $2, $3 || n, 'issues.opened', $4, $7::jsonb,
       true, 'received', 0, 0, '', '',
       now() - interval '1 day' + ($5 + n) * interval '1 millisecond'
FROM generate_series(1, $6) AS n
RETURNING id
"""


async def store_backlog(
    tenant_id: uuid.UUID,
    integration_id: uuid.UUID,
    count: int,
    *,
    body: bytes = _GITHUB_ISSUE,
    headers: dict[str, str] | None = None,
    offset_ms: int = 0,
) -> list[uuid.UUID]:
    """`count` received GitHub deliveries, a millisecond apart from `offset_ms` on; their
    ids in receipt order."""
    prefix = f"backlog-{uuid.uuid4().hex[:8]}-"
    stored = headers or {"x-github-event": "issues", "content-type": "application/json"}
    rows = await pool().fetch(
        _INSERT, tenant_id, integration_id, prefix, body, offset_ms, count, json.dumps(stored)
    )
    return [r["id"] for r in rows]


async def rows_of(integration_id: uuid.UUID) -> list[dict[str, Any]]:
    """The integration's events in receipt order."""
    rows = await pool().fetch(
        "SELECT * FROM integration_webhook WHERE integration = $1 ORDER BY received_at, id",
        integration_id,
    )
    return [dict(r) for r in rows]
