"""The metric buffer (issue 15): increments batch per minute bucket, a failed flush keeps
its counts for the next one, and latency buckets read back as percentiles."""

from __future__ import annotations

from typing import Any

import pytest

from backend.observability import buckets, queries
from backend.observability.buckets import MetricBuffer, latency_reason


class _DownPool:
    async def execute(self, *args: Any) -> None:
        raise OSError("connection refused")


async def test_a_failed_flush_keeps_every_count(
    client, tenant, make_integration, raw_rows, monkeypatch
) -> None:
    integration = await make_integration(tenant, "github")
    buffer = MetricBuffer()
    for _ in range(5):
        buffer.add(tenant.id, integration.id, "webhooks_accepted")
    buffer.add(tenant.id, integration.id, "webhooks_rejected", "signature", by=3)
    real_pool = buckets.pool
    monkeypatch.setattr(buckets, "pool", lambda: _DownPool())
    assert await buffer.flush() == 0
    assert buffer.pending() == 8
    buffer.add(tenant.id, integration.id, "webhooks_accepted")
    monkeypatch.setattr(buckets, "pool", real_pool)
    assert await buffer.flush() == 2  # two keys: accepted, rejected/signature
    assert buffer.pending() == 0
    rows = await raw_rows(
        "SELECT name, reason, sum(value)::int AS n FROM integration_metric"
        " WHERE integration = $1 GROUP BY 1, 2 ORDER BY 1",
        integration.id,
    )
    assert [(r["name"], r["reason"], r["n"]) for r in rows] == [
        ("webhooks_accepted", "", 6),
        ("webhooks_rejected", "signature", 3),
    ]
    await buffer.close()


async def test_one_row_per_minute_and_counter_not_per_event(
    client, tenant, make_integration, raw_rows
) -> None:
    integration = await make_integration(tenant, "github")
    buffer = MetricBuffer()
    for _ in range(3):
        for _ in range(100):
            buffer.add(tenant.id, integration.id, "events_processed")
        await buffer.flush()
    rows = await raw_rows(
        "SELECT value FROM integration_metric WHERE integration = $1", integration.id
    )
    # Three flushes in (almost certainly) one minute upsert one row; at most two.
    assert 1 <= len(rows) <= 2 and sum(r["value"] for r in rows) == 300
    await buffer.close()


async def test_counts_for_a_deleted_integration_do_not_sink_the_batch(
    client, tenant, make_integration, raw_rows
) -> None:
    from backend.integrations.tables import Integration

    kept = await make_integration(tenant, "github")
    gone = await make_integration(tenant, "github")
    buffer = MetricBuffer()
    buffer.add(tenant.id, kept.id, "actions")
    buffer.add(tenant.id, gone.id, "actions")
    await Integration.delete().where(Integration.id == gone.id)
    await buffer.flush()
    assert buffer.pending() == 0
    rows = await raw_rows(
        "SELECT integration FROM integration_metric WHERE tenant = $1 AND name = 'actions'",
        tenant.id,
    )
    assert [r["integration"] for r in rows] == [kept.id]


@pytest.mark.parametrize(
    ("ms", "reason"),
    [
        (0.3, "le_1"),
        (1, "le_1"),
        (1.01, "le_2"),
        (24.9, "le_25"),
        (30000, "le_30000"),
        (30001, "le_inf"),
    ],
)
def test_latency_buckets(ms: float, reason: str) -> None:
    assert latency_reason(ms) == reason


def test_percentiles_read_the_bucket_bound() -> None:
    histogram = {"le_5": 90, "le_100": 9, "le_1000": 1}
    assert queries._percentile(histogram, 0.5) == 5.0
    assert queries._percentile(histogram, 0.99) == 100.0
    assert queries._percentile({"le_inf": 1}, 0.5) is None
    assert queries._percentile({}, 0.5) is None
