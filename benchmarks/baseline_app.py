"""The floor the real webhook path is measured against: a bare ASGI endpoint.

It does only what a webhook receiver cannot skip: read the body, verify GitHub's
`X-Hub-Signature-256` (HMAC-SHA256, `hmac.compare_digest`), and make the delivery durable
with one asyncpg `INSERT … ON CONFLICT DO NOTHING` into `bench_webhook`, a copy of
`integration_webhook` (same columns, JSONB, unique index), then answer 200. No framework,
no cache, no queue, no tracing.

Served by `uvicorn benchmarks.baseline_app:app --loop uvloop --http httptools`; configured
from the environment by benchmarks/webhook_ingest.py:
BENCH_BASELINE_DSN, BENCH_BASELINE_SECRET, BENCH_BASELINE_TENANT, BENCH_BASELINE_INTEGRATION,
BENCH_BASELINE_POOL (default 10).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import uuid
from typing import Any

import asyncpg

INSERT = """
INSERT INTO bench_webhook
  (id, tenant, integration, provider_event_id, event_type, raw_body, headers, verified,
   status, attempts, duplicates, error, trace_id, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, true, 'received', 0, 0, '', '', $8)
ON CONFLICT (integration, provider_event_id) DO NOTHING
"""

_SECRET = os.environ.get("BENCH_BASELINE_SECRET", "").encode()
_TENANT = uuid.UUID(os.environ.get("BENCH_BASELINE_TENANT", str(uuid.UUID(int=0))))
_INTEGRATION = uuid.UUID(os.environ.get("BENCH_BASELINE_INTEGRATION", str(uuid.UUID(int=0))))
_STORED = (b"x-github-event", b"x-github-delivery", b"x-hub-signature-256", b"content-type")
_pool: asyncpg.Pool | None = None


async def _answer(send: Any, status: int, body: bytes = b"") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            size = int(os.environ.get("BENCH_BASELINE_POOL", "10"))
            # Same pool policy as the app (backend/lib/db.py): no reset query on release.
            _pool = await asyncpg.create_pool(
                os.environ["BENCH_BASELINE_DSN"], min_size=size, max_size=size, reset=_keep_session
            )
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _keep_session(connection: Any) -> None:
    return None


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["method"] != "POST":
        await _answer(send, 200 if scope["path"] == "/health" else 405)
        return
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    body = b"".join(chunks)
    headers = {k: v for k, v in scope["headers"] if k in _STORED}
    signature = headers.get(b"x-hub-signature-256", b"")
    expected = b"sha256=" + hmac.new(_SECRET, body, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(signature, expected):
        await _answer(send, 401, b"bad signature")
        return
    delivery = headers.get(b"x-github-delivery", b"").decode("latin-1")
    if not delivery:
        await _answer(send, 400, b"no delivery id")
        return
    assert _pool is not None
    try:
        await _pool.execute(
            INSERT,
            uuid.uuid4(),
            _TENANT,
            _INTEGRATION,
            delivery[:255],
            headers.get(b"x-github-event", b"").decode("latin-1")[:255],
            body,
            json.dumps({k.decode(): v.decode("latin-1") for k, v in headers.items()}),
            dt.datetime.now(dt.UTC),
        )
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        await _answer(send, 503, b"not stored")
        return
    await _answer(send, 200, b"stored")
