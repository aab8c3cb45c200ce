"""Simulate's variants, its validation and where its sends go: each variant shows how the
integration reacts to what a provider (or a forger) does, through the real webhook path."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from backend.connectors.generators import generators_of
from backend.connectors.registry import providers
from tests.testmode.conftest import USER_SECRET, connect_test_mode

pytestmark = pytest.mark.usefixtures("loopback")
RawRows = Callable[..., Awaitable[list[dict[str, Any]]]]


@pytest.fixture
async def stripe(client: httpx.AsyncClient, tenant: Any) -> str:
    return await connect_test_mode(client, tenant.headers, "stripe")


async def simulate(
    client: httpx.AsyncClient, tenant: Any, integration_id: str, **body: Any
) -> httpx.Response:
    return await client.post(
        f"/api/integrations/{integration_id}/simulate", json=body, headers=tenant.headers
    )


async def stored(raw_rows: RawRows, integration_id: str) -> list[dict[str, Any]]:
    return await raw_rows(
        "SELECT id, provider_event_id, event_type, duplicates, attempts, status, processed_at,"
        " simulated, received_at, normalized FROM integration_webhook WHERE integration = $1"
        " ORDER BY received_at",
        uuid.UUID(integration_id),
    )


async def rejections(raw_rows: RawRows, integration_id: str) -> list[dict[str, Any]]:
    return await raw_rows(
        "SELECT context FROM integration_log WHERE integration = $1 AND event = $2",
        uuid.UUID(integration_id),
        "webhook.rejected",
    )


async def test_valid_deliveries_are_stored_flagged_and_answered_as_our_endpoint_did(
    client: httpx.AsyncClient, tenant: Any, stripe: str, raw_rows: RawRows
) -> None:
    answer = await simulate(client, tenant, stripe, event_type="charge.succeeded", count=3)

    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["sent"] == 3 and len(body["deliveries"]) == 3
    assert all(d["event_type"] == "charge.succeeded" for d in body["deliveries"])
    assert [d["status"] for d in body["deliveries"]] == [200, 200, 200]
    rows = await stored(raw_rows, stripe)
    assert [r["provider_event_id"] for r in rows] == [
        d["provider_event_id"] for d in body["deliveries"]
    ]
    assert all(r["simulated"] for r in rows)
    assert USER_SECRET not in answer.text


async def test_duplicate_is_counted_and_not_reprocessed(
    client: httpx.AsyncClient,
    tenant: Any,
    stripe: str,
    raw_rows: RawRows,
    run_worker: Callable[[], Awaitable[int]],
) -> None:
    answer = await simulate(
        client, tenant, stripe, event_type="invoice.paid", count=2, variant="duplicate"
    )

    body = answer.json()
    assert body["sent"] == 4
    ids = [d["provider_event_id"] for d in body["deliveries"]]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert [d["status"] for d in body["deliveries"]] == [200] * 4
    await run_worker()
    rows = await stored(raw_rows, stripe)
    assert len(rows) == 2
    # Stored once, the retry counted on it, normalized once (not again for the retry).
    assert all(r["duplicates"] == 1 and r["attempts"] == 1 for r in rows), rows
    assert all(r["status"] == "processed" and r["simulated"] for r in rows)


@pytest.mark.parametrize("variant", ["bad_signature", "stale"])
async def test_forged_and_stale_deliveries_are_refused_logged_and_not_stored(
    variant: str,
    client: httpx.AsyncClient,
    tenant: Any,
    stripe: str,
    raw_rows: RawRows,
    wait_for: Callable[..., Awaitable[None]],
) -> None:
    answer = await simulate(client, tenant, stripe, count=2, variant=variant)

    assert answer.status_code == 202, answer.text
    assert [d["status"] for d in answer.json()["deliveries"]] == [401, 401]
    assert await stored(raw_rows, stripe) == []

    async def logged() -> bool:
        return len(await rejections(raw_rows, stripe)) == 2

    await wait_for(logged)
    reasons = [r["context"] for r in await rejections(raw_rows, stripe)]
    expected = "tolerance" if variant == "stale" else "signature"
    assert all(expected in str(reason) for reason in reasons), reasons


@pytest.mark.parametrize("key", ["github", "twilio", "telegram"])
async def test_stale_is_refused_where_the_scheme_signs_no_time(
    key: str, client: httpx.AsyncClient, tenant: Any, raw_rows: RawRows
) -> None:
    integration_id = await connect_test_mode(client, tenant.headers, key)

    answer = await simulate(client, tenant, integration_id, variant="stale")

    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "signs no timestamp" in answer.json()["detail"]
    assert providers()[key].spec.webhook.scheme in answer.json()["detail"]  # type: ignore[union-attr]
    assert await stored(raw_rows, integration_id) == []


async def test_out_of_order_is_stored_in_receipt_order_with_provider_times_kept(
    client: httpx.AsyncClient,
    tenant: Any,
    raw_rows: RawRows,
    run_worker: Callable[[], Awaitable[int]],
) -> None:
    integration_id = await connect_test_mode(client, tenant.headers, "github")

    answer = await simulate(
        client, tenant, integration_id, event_type="issues.opened", count=4, variant="out_of_order"
    )

    sent = [d["provider_event_id"] for d in answer.json()["deliveries"]]
    await run_worker()
    rows = await stored(raw_rows, integration_id)
    assert [r["provider_event_id"] for r in rows] == sent  # receipt order is send order
    times = [dt.datetime.fromisoformat(json.loads(r["normalized"])["time"]) for r in rows]
    assert times == sorted(times, reverse=True)  # newest sent first, each its own time
    assert all(t < rows[0]["received_at"] for t in times)  # the provider's, not ours
    listed = await client.get(f"/api/integrations/{integration_id}/events", headers=tenant.headers)
    assert [e["provider_event_id"] for e in listed.json()["items"]] == sent[::-1]  # newest first


async def test_live_integrations_are_simulated_too_and_can_be_filtered_out(
    client: httpx.AsyncClient, tenant: Any, make_integration: Any
) -> None:
    live = await make_integration(tenant, "stripe", signing_secrets=(USER_SECRET,))
    provider_delivery = await post_provider_delivery(client, live, "charge.refunded")
    assert provider_delivery.status_code == 200, provider_delivery.text

    answer = await simulate(client, tenant, str(live.id), event_type="charge.succeeded")

    assert [d["status"] for d in answer.json()["deliveries"]] == [200]
    base = f"/api/integrations/{live.id}/events"
    every = (await client.get(base, headers=tenant.headers)).json()["items"]
    assert {(e["type"], e["simulated"]) for e in every} == {
        ("charge.succeeded", True),
        ("charge.refunded", False),
    }
    real = await client.get(base, params={"simulated": "false"}, headers=tenant.headers)
    assert [e["type"] for e in real.json()["items"]] == ["charge.refunded"]
    sims = await client.get(base, params={"simulated": "true"}, headers=tenant.headers)
    assert [e["type"] for e in sims.json()["items"]] == ["charge.succeeded"]
    bad = await client.get(base, params={"simulated": "yes"}, headers=tenant.headers)
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


async def post_provider_delivery(
    client: httpx.AsyncClient, integration: Any, event_type: str
) -> httpx.Response:
    """A delivery as the provider itself would send it (not through simulate)."""
    import time

    from backend.connectors.event_generators import SigningContext, SimulationContext

    generators = generators_of(providers()[integration.connector])
    assert generators is not None
    kind = generators.find(event_type)
    assert kind is not None
    now = time.time()
    delivery = kind.build(SimulationContext(str(uuid.uuid4()), None, {}, now, 0))
    signature = generators.sign(delivery, SigningContext(integration.url, USER_SECRET, {}, {}, now))
    return await client.post(
        integration.path, content=delivery.body, headers={**delivery.headers, **signature}
    )


@pytest.mark.parametrize(
    "body",
    [
        {"count": 0},
        {"count": 101},
        {"count": "2"},
        {"count": 2.5},
        {"variant": "replayed"},
        {"overrides": []},
        {"event_type": ""},
        {"surprise": 1},
    ],
)
async def test_malformed_bodies_are_problems(
    body: dict[str, Any], client: httpx.AsyncClient, tenant: Any, stripe: str
) -> None:
    answer = await simulate(client, tenant, stripe, **body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_an_integral_float_count_is_an_integer(
    client: httpx.AsyncClient, tenant: Any, stripe: str
) -> None:
    """JSON has one number type: JSON Schema (and so the document) calls 2.0 an integer."""
    answer = await simulate(client, tenant, stripe, count=2.0)
    assert answer.status_code == 202, answer.text
    assert answer.json()["sent"] == 2


async def test_an_unknown_event_type_names_the_known_ones(
    client: httpx.AsyncClient, tenant: Any, stripe: str
) -> None:
    answer = await simulate(client, tenant, stripe, event_type="charge.teleported")
    assert answer.status_code == 422
    assert "charge.succeeded" in answer.json()["detail"]


async def test_overrides_reach_the_stored_payload(
    client: httpx.AsyncClient, tenant: Any, stripe: str, raw_rows: RawRows
) -> None:
    answer = await simulate(
        client,
        tenant,
        stripe,
        event_type="charge.succeeded",
        overrides={"data": {"object": {"description": "simulated override"}}},
    )
    assert answer.status_code == 202
    rows = await raw_rows(
        "SELECT raw_body FROM integration_webhook WHERE integration = $1", uuid.UUID(stripe)
    )
    assert b"simulated override" in bytes(rows[0]["raw_body"])


async def test_another_tenants_integration_is_not_found(
    client: httpx.AsyncClient, make_tenant: Any, stripe: str
) -> None:
    other = await make_tenant("other")
    answer = await simulate(client, other, stripe)
    assert answer.status_code == 404
    purge = await client.post(f"/api/integrations/{stripe}/test-data/purge", headers=other.headers)
    assert purge.status_code == 404


async def test_a_revoked_integration_cannot_be_simulated(
    client: httpx.AsyncClient, tenant: Any, stripe: str
) -> None:
    revoked = await client.post(f"/api/integrations/{stripe}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200, revoked.text
    answer = await simulate(client, tenant, stripe)
    assert answer.status_code == 409


async def test_the_catalog_lists_each_event_type_with_a_sample_payload(
    client: httpx.AsyncClient, tenant: Any
) -> None:
    for key, provider in providers().items():
        generators = generators_of(provider)
        answer = await client.get(f"/api/connectors/{key}", headers=tenant.headers)
        assert answer.status_code == 200
        listed = answer.json()["event_types"]
        if generators is None:
            assert listed == []
            continue
        assert [e["name"] for e in listed] == [e.name for e in generators.event_types]
        assert all(e["description"] for e in listed), key
        assert all(e["sample_payload"] or e["sample_headers"] for e in listed), key
    stripe_types = (await client.get("/api/connectors/stripe", headers=tenant.headers)).json()
    sample = stripe_types["event_types"][0]
    assert sample["content_type"].startswith("application/json")
    assert sample["sample_payload"]["type"] == sample["name"]
