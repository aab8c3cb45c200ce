"""Per-integration metrics (issue 15): exact counts under concurrent deliveries, the
window's shape, tenant scoping, and provider calls counted when faults are injected."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest
from webhooks.helpers import hub_signature

from backend.observability import recorder

SECRET = "metrics-webhook-secret"
COUNTERS = {
    "webhooks_received",
    "webhooks_accepted",
    "webhooks_rejected",
    "webhooks_duplicate",
    "events_processed",
    "events_failed",
    "api_calls",
    "api_errors",
    "rate_limited",
    "sync_jobs",
    "records_synced",
    "actions",
}


def _delivery(delivery_id: str, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"action": "opened", "issue": {"id": delivery_id}}).encode()
    return body, {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": hub_signature(secret, body),
    }


async def _metrics(
    client: httpx.AsyncClient, tenant: Any, integration_id: Any, window: str = "1h"
) -> dict[str, Any]:
    await recorder.flush()
    response = await client.get(
        f"/api/integrations/{integration_id}/metrics?window={window}", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_counts_are_exact_under_concurrent_deliveries(
    client, tenant, make_integration, run_worker
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    valid = [_delivery(str(uuid.uuid4())) for _ in range(25)]
    forged = [_delivery(str(uuid.uuid4()), secret="not the secret") for _ in range(9)]
    repeated = valid[:4]  # sent again: duplicates

    async def post(delivery: tuple[bytes, dict[str, str]]) -> int:
        response = await client.post(integration.path, content=delivery[0], headers=delivery[1])
        return response.status_code

    statuses = await asyncio.gather(*(post(d) for d in [*valid, *forged]))
    assert sorted(statuses) == [200] * 25 + [401] * 9
    assert await asyncio.gather(*(post(d) for d in repeated)) == [200] * 4
    await run_worker()

    body = await _metrics(client, tenant, integration.id)
    totals = body["totals"]
    assert set(totals) == COUNTERS
    assert totals["webhooks_accepted"] == 25
    assert totals["webhooks_rejected"] == 9
    assert totals["webhooks_duplicate"] == 4
    assert totals["webhooks_received"] == 38
    assert totals["events_processed"] == 25 and totals["events_failed"] == 0
    assert body["breakdown"]["webhooks_rejected"] == {"signature": 9}
    # Ingest latency is measured for every stored or duplicate delivery.
    latency = body["latency_ms"]
    assert latency["ingest_p50"] is not None and latency["ingest_p99"] >= latency["ingest_p50"]
    assert latency["provider_p50"] is None
    # The series sums to the totals, one point per 5 minutes.
    assert body["window"] == "1h" and len(body["series"]) == 12
    assert sum(p["webhooks_accepted"] for p in body["series"]) == 25
    assert set(body["series"][-1]) == COUNTERS | {"at"}


async def test_windows_and_their_steps(client, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    for window, points in (("1h", 12), ("24h", 24), ("7d", 28)):
        body = await _metrics(client, tenant, integration.id, window)
        assert body["window"] == window and len(body["series"]) == points
    default = await client.get(
        f"/api/integrations/{integration.id}/metrics", headers=tenant.headers
    )
    assert default.status_code == 200 and default.json()["window"] == "24h"


@pytest.mark.parametrize("window", ["2h", "null", "", "1H"])
async def test_a_bad_window_is_a_400_problem(client, tenant, make_integration, window) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    response = await client.get(
        f"/api/integrations/{integration.id}/metrics?window={window}", headers=tenant.headers
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "window" in response.json()["detail"]


async def test_metrics_are_tenant_scoped(client, make_tenant, make_integration) -> None:
    owner, other = await make_tenant("metrics-owner"), await make_tenant("metrics-other")
    integration = await make_integration(owner, "github", signing_secrets=(SECRET,))
    body, headers = _delivery(str(uuid.uuid4()))
    assert (await client.post(integration.path, content=body, headers=headers)).status_code == 200
    await recorder.flush()
    hidden = await client.get(f"/api/integrations/{integration.id}/metrics", headers=other.headers)
    assert hidden.status_code == 404
    summary = await client.get("/api/metrics/summary?window=1h", headers=other.headers)
    assert summary.status_code == 200
    assert summary.json()["totals"]["webhooks_accepted"] == 0
    assert summary.json()["integrations"] == []
    mine = await client.get("/api/metrics/summary?window=1h", headers=owner.headers)
    assert mine.json()["totals"]["webhooks_accepted"] == 1
    (listed,) = mine.json()["integrations"]
    assert listed["integration_id"] == str(integration.id)
    assert listed["totals"]["webhooks_received"] == 1


async def test_summary_adds_up_the_tenants_integrations(
    client, make_tenant, make_integration
) -> None:
    tenant = await make_tenant("metrics-summary")
    first = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    second = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    for integration, accepted, forged in ((first, 3, 1), (second, 2, 2)):
        for _ in range(accepted):
            body, headers = _delivery(str(uuid.uuid4()))
            await client.post(integration.path, content=body, headers=headers)
        for _ in range(forged):
            body, headers = _delivery(str(uuid.uuid4()), secret="forged")
            await client.post(integration.path, content=body, headers=headers)
    await recorder.flush()
    response = await client.get("/api/metrics/summary?window=24h", headers=tenant.headers)
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["totals"]["webhooks_accepted"] == 5
    assert summary["totals"]["webhooks_rejected"] == 3
    per = {i["integration_id"]: i["totals"] for i in summary["integrations"]}
    assert per[str(first.id)]["webhooks_accepted"] == 3
    assert per[str(second.id)]["webhooks_rejected"] == 2
    assert len(summary["series"]) == 24


async def test_provider_calls_errors_and_rate_limits_follow_injected_faults(
    client, make_tenant, monkeypatch
) -> None:
    from backend.connectors.registry import get_provider
    from backend.integrations import adapters

    monkeypatch.setattr(adapters, "HEALTH_RETRY_PAUSE", 0)
    tenant = await make_tenant("metrics-faults")
    created = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "stripe metrics",
            "credentials": get_provider("stripe").simulator.sample_credentials,
            "config": {"register_webhook": False},
            "test_mode": True,
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    integration = created.json()["integration"]["id"]
    before = await _metrics(client, tenant, integration)

    checked = await client.post(f"/api/integrations/{integration}/test", headers=tenant.headers)
    assert checked.json()["health"]["status"] == "healthy", checked.text
    after_ok = await _metrics(client, tenant, integration)
    assert after_ok["totals"]["api_calls"] == before["totals"]["api_calls"] + 1
    assert after_ok["totals"]["api_errors"] == before["totals"]["api_errors"]
    assert after_ok["latency_ms"]["provider_p50"] is not None

    fault = await client.put(
        f"/api/integrations/{integration}/faults",
        json={"kind": "rate_limit", "count": 1, "retry_after": 7},
        headers=tenant.headers,
    )
    assert fault.status_code == 200, fault.text
    checked = await client.post(f"/api/integrations/{integration}/test", headers=tenant.headers)
    assert checked.json()["health"]["status"] == "rate_limited", checked.text
    limited = await _metrics(client, tenant, integration)
    assert limited["totals"]["api_calls"] == after_ok["totals"]["api_calls"] + 1
    assert limited["totals"]["api_errors"] == after_ok["totals"]["api_errors"] + 1
    assert limited["totals"]["rate_limited"] == after_ok["totals"]["rate_limited"] + 1
    assert limited["breakdown"]["api_errors"].get("rate_limited", 0) >= 1
    assert limited["breakdown"]["api_calls"].get("4xx", 0) >= 1
