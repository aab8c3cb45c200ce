"""Fixtures of the sync API tests: a connector whose streams cover every case the API
answers (incremental, full only, no pull API), and a Redis queue left without the jobs a
test queued, so a later test's worker never runs them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec
import pytest

from backend.connectors.registry import get_provider, providers
from backend.connectors.spec import StreamSpec
from backend.connectors.streams import Incremental, ListCall, Paging

SYNC_KEYS = {
    "id",
    "integration_id",
    "stream",
    "mode",
    "trigger",
    "status",
    "pages",
    "records_upserted",
    "records_deleted",
    "attempts",
    "cursor_before",
    "cursor_after",
    "error",
    "created_at",
    "started_at",
    "finished_at",
}
RECORD_KEYS = {
    "id",
    "stream",
    "external_id",
    "data",
    "mapped",
    "mapping_version",
    "deleted",
    "first_seen_at",
    "updated_at",
}
UNAVAILABLE = "Stripe sends payout events as webhooks only; there is no list to read back."

# Stripe's streams as the API tests see them: every answer the API gives has a stream.
STREAMS = (
    StreamSpec(
        name="customers",
        description="Customers, incrementally by created.",
        list=ListCall(
            path="/v1/customers",
            records_path="data",
            params={"created[gte]": "{since}", "created[lt]": "{until}"},
            paging=Paging(kind="last_id", param="starting_after", has_more_path="has_more"),
            page_size_param="limit",
            time_format="epoch",
        ),
        incremental=Incremental(kind="watermark", field="created"),
    ),
    StreamSpec(
        name="balance",
        description="Balance transactions, read in full only.",
        list=ListCall(path="/v1/balance_transactions", records_path="data"),
        backfill=False,
    ),
    StreamSpec(name="payout_events", description="Payout events.", unavailable=UNAVAILABLE),
)


def with_streams(
    key: str, streams: tuple[StreamSpec, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Give connector `key` these streams for the test (the registry entry is restored)."""
    provider = get_provider(key)
    spec = msgspec.structs.replace(provider.spec, streams=streams)
    monkeypatch.setitem(providers(), key, dataclasses.replace(provider, spec=spec))


@pytest.fixture
def stripe_streams(monkeypatch: pytest.MonkeyPatch) -> tuple[StreamSpec, ...]:
    with_streams("stripe", STREAMS, monkeypatch)
    return STREAMS


@pytest.fixture
async def clean_sync_queue(client: Any) -> AsyncIterator[Any]:
    """A Redis client; after the test, the sync jobs it queued are taken off the queue."""
    from backend.lib.redis import connect
    from backend.settings import get_settings

    queue = get_settings().queue_name
    redis = connect(get_settings().redis_url, queue)
    try:
        yield redis
    finally:
        await drop_queued_syncs(redis, queue)
        await redis.aclose()


async def drop_queued_syncs(redis: Any, queue: str) -> None:
    """Take every sync job off `queue`, with its job, in-progress and retry keys. A job
    left behind (a killed worker's, a deferred continuation) keeps the next test's burst
    worker polling until it times out: a burst worker ends only when its queue is empty."""
    from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix

    names = [_text(m) for m in await redis.zrange(queue, 0, -1)]
    syncs = [n for n in names if n.startswith("sync:")]
    if syncs:
        await redis.zrem(queue, *syncs)
        prefixes = (job_key_prefix, in_progress_key_prefix, retry_key_prefix)
        await redis.delete(*[p + n for n in syncs for p in prefixes])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def queued_sync_ids() -> set[str]:
    """Sync job ids waiting in the arq queue (`sync:<job id>:<n>`)."""
    from backend.lib.redis import connect
    from backend.settings import get_settings

    queue = get_settings().queue_name
    redis = connect(get_settings().redis_url, queue)
    try:
        names = [_text(m) for m in await redis.zrange(queue, 0, -1)]
    finally:
        await redis.aclose()
    return {n.split(":")[1] for n in names if n.startswith("sync:")}


async def insert_record(
    integration_id: uuid.UUID,
    tenant_id: uuid.UUID,
    stream: str,
    external_id: str,
    *,
    first_seen_at: dt.datetime,
    deleted: bool = False,
    data: dict[str, Any] | None = None,
) -> uuid.UUID:
    """A stored record, as the engine writes one."""
    from backend.lib.db import pool

    record_id = uuid.uuid4()
    await pool().execute(
        """
        INSERT INTO synced_record (id, tenant, integration, stream, external_id, data, mapped,
          mapping_version, deleted, first_seen_at, updated_at, synced_at)
        VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9, $10, $10, $10)
        """,
        record_id,
        tenant_id,
        integration_id,
        stream,
        external_id,
        msgspec.json.encode(data or {"id": external_id}).decode(),
        msgspec.json.encode({"name": external_id}).decode(),
        2,
        deleted,
        first_seen_at,
    )
    return record_id


async def set_job(job_id: str, **values: Any) -> None:
    """Move a job along as the engine would (status, started_at, ...)."""
    from backend.lib.db import pool

    sets = ", ".join(f'"{k}" = ${i + 2}' for i, k in enumerate(values))
    await pool().execute(
        f"UPDATE integration_sync_job SET {sets} WHERE id = $1", uuid.UUID(job_id), *values.values()
    )


MakeIntegration = Callable[..., Awaitable[Any]]
