"""The sync API end to end: jobs triggered through the API, run by a real arq worker
against a local server answering like Stripe's customers list (every request checked by
Prism against Stripe's published description), then read back through the API: the job,
the records page by page, deletions, and a running job cancelled from the API."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.syncs.api_helpers import SYNC_KEYS, clean_sync_queue  # noqa: F401

pytestmark = pytest.mark.usefixtures("clean_sync_queue")

STREAM = "customers"


async def all_records(client: Any, tenant: Any, made: Any, **params: Any) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {"stream": STREAM, "limit": 100, **params, **({"cursor": cursor} if cursor else {})}
        page = await client.get(
            f"/api/integrations/{made.id}/records", params=query, headers=tenant.headers
        )
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


async def get_job(client: Any, tenant: Any, made: Any, job_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/integrations/{made.id}/sync-jobs/{job_id}", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_triggered_sync_runs_and_its_records_are_listed(
    client, tenant, stripe_api, stripe_integration, run_worker
) -> None:
    stripe_api.api.add(230)
    made = await stripe_integration()
    url = f"/api/integrations/{made.id}/sync"

    started = await client.post(
        url, json={"stream": STREAM, "mode": "full"}, headers=tenant.headers
    )
    assert started.status_code == 202, started.text
    await run_worker()

    job = await get_job(client, tenant, made, started.json()["job"]["id"])
    assert set(job) == SYNC_KEYS
    assert job["status"] == "succeeded", job["error"]
    assert (job["pages"], job["records_upserted"], job["records_deleted"]) == (3, 230, 0)
    assert job["started_at"] and job["finished_at"] and job["cursor_after"] is not None
    records = await all_records(client, tenant, made)
    assert len(records) == 230
    assert {r["external_id"] for r in records} == stripe_api.api.ids()
    by_id = {r["external_id"]: r for r in records}
    some = next(iter(stripe_api.api.records.values()))
    assert by_id[some["id"]]["data"] == some and by_id[some["id"]]["deleted"] is False

    # Customers deleted at Stripe are marked deleted by the next full sync.
    gone = sorted(stripe_api.api.ids())[:5]
    stripe_api.api.delete(*gone)
    again = await client.post(url, json={"stream": STREAM, "mode": "full"}, headers=tenant.headers)
    assert again.status_code == 202
    await run_worker()

    assert (await get_job(client, tenant, made, again.json()["job"]["id"]))["records_deleted"] == 5
    assert {r["external_id"] for r in await all_records(client, tenant, made)} == (
        stripe_api.api.ids()
    )
    with_deleted = await all_records(client, tenant, made, include_deleted="true")
    assert sorted(r["external_id"] for r in with_deleted if r["deleted"]) == gone
    assert stripe_api.violations == []


async def test_a_running_job_cancelled_from_the_api_stops_at_its_next_page(
    client, tenant, stripe_api, stripe_integration, run_worker
) -> None:
    stripe_api.api.add(1_000)  # ten pages
    stripe_api.delay = 0.3
    made = await stripe_integration()
    started = await client.post(
        f"/api/integrations/{made.id}/sync",
        json={"stream": STREAM, "mode": "full"},
        headers=tenant.headers,
    )
    job_id = started.json()["job"]["id"]
    worker = asyncio.ensure_future(run_worker())

    for _ in range(200):
        job = await get_job(client, tenant, made, job_id)
        if job["status"] == "running" and job["pages"] >= 1:
            break
        await asyncio.sleep(0.05)
    assert job["status"] == "running", job
    cancelled = await client.post(
        f"/api/integrations/{made.id}/sync-jobs/{job_id}/cancel", headers=tenant.headers
    )
    assert cancelled.status_code == 200
    await asyncio.wait_for(worker, 60)

    job = await get_job(client, tenant, made, job_id)
    assert job["status"] == "cancelled"
    assert 1 <= job["pages"] < 10
    records = await all_records(client, tenant, made)
    assert len(records) == job["records_upserted"] < 1_000
    again = await client.post(
        f"/api/integrations/{made.id}/sync", json={"stream": STREAM}, headers=tenant.headers
    )
    assert again.status_code == 202  # the stream is free again
    assert stripe_api.violations == []
