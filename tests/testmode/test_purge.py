"""Purge removes exactly the integration's simulated data: rows are counted per table
before and after, beside real deliveries, real log entries and another integration's
simulated data, which all stay."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.testmode.conftest import USER_SECRET, connect_test_mode
from tests.testmode.test_simulate import post_provider_delivery

pytestmark = pytest.mark.usefixtures("loopback")
RawRows = Callable[..., Awaitable[list[dict[str, Any]]]]

# table -> the count of one integration's rows, split by the simulated flag where it has one
COUNTS = {
    "integration_webhook": "SELECT simulated, count(*) AS n FROM integration_webhook"
    " WHERE integration = $1 GROUP BY simulated",
    "integration_log": "SELECT simulated, count(*) AS n FROM integration_log"
    " WHERE integration = $1 GROUP BY simulated",
    "synced_record": "SELECT false AS simulated, count(*) AS n FROM synced_record"
    " WHERE integration = $1",
    "alert": "SELECT false AS simulated, count(*) AS n FROM alert WHERE integration = $1",
}


async def counts(raw_rows: RawRows, integration_id: uuid.UUID) -> dict[str, dict[bool, int]]:
    found: dict[str, dict[bool, int]] = {}
    for table, sql in COUNTS.items():
        rows = await raw_rows(sql, integration_id)
        found[table] = {r["simulated"]: r["n"] for r in rows if r["n"]}
    return found


async def test_purge_removes_exactly_the_simulated_rows(
    client: httpx.AsyncClient,
    tenant: Any,
    make_integration: Any,
    raw_rows: RawRows,
    run_worker: Callable[[], Awaitable[int]],
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    live = await make_integration(tenant, "stripe", signing_secrets=(USER_SECRET,))
    real = await post_provider_delivery(client, live, "charge.refunded")
    assert real.status_code == 200
    forged = await client.post(live.path, content=b"{}", headers={"stripe-signature": "t=1,v1=0"})
    assert forged.status_code == 401  # a real rejection: its log entry is not simulated

    async def rejection_logged() -> bool:
        return bool(await raw_rows("SELECT 1 FROM integration_log WHERE integration = $1", live.id))

    await wait_for(rejection_logged)
    for body in ({"count": 3}, {"count": 2, "variant": "duplicate"}):
        sent = await client.post(
            f"/api/integrations/{live.id}/simulate", json=body, headers=tenant.headers
        )
        assert sent.status_code == 202, sent.text
    await run_worker()
    # Another integration's simulated data is not this purge's.
    other_id = uuid.UUID(await connect_test_mode(client, tenant.headers, "github"))
    other = await client.post(
        f"/api/integrations/{other_id}/simulate", json={"count": 2}, headers=tenant.headers
    )
    assert other.status_code == 202
    before = await counts(raw_rows, live.id)
    other_before = await counts(raw_rows, other_id)
    assert before["integration_webhook"] == {True: 5, False: 1}
    assert before["integration_log"] == {True: 2, False: 1}  # one per simulate call
    audits_before = await raw_rows("SELECT id FROM audit_log WHERE tenant = $1", tenant.id)

    purged = await client.post(
        f"/api/integrations/{live.id}/test-data/purge", headers=tenant.headers
    )

    assert purged.status_code == 200, purged.text
    assert purged.json() == {"events": 5, "logs": 2}
    after = await counts(raw_rows, live.id)
    expected = {table: {k: v for k, v in split.items() if not k} for table, split in before.items()}
    assert after == expected
    assert await counts(raw_rows, other_id) == other_before
    audits = await raw_rows(
        "SELECT action, target_id, details FROM audit_log WHERE tenant = $1 AND NOT id = ANY($2)",
        tenant.id,
        [a["id"] for a in audits_before],
    )
    assert [(a["action"], a["target_id"]) for a in audits] == [
        ("integration.purge_test_data", str(live.id))
    ]
    events = await client.get(f"/api/integrations/{live.id}/events", headers=tenant.headers)
    assert [(e["type"], e["simulated"]) for e in events.json()["items"]] == [
        ("charge.refunded", False)
    ]
    again = await client.post(
        f"/api/integrations/{live.id}/test-data/purge", headers=tenant.headers
    )
    assert again.json() == {"events": 0, "logs": 0}
