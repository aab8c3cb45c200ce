"""HubSpot over HTTP with real PostgreSQL and Redis, signed with hubspot-api-client's v3
signature: the operator's app URL, where every portal's batches arrive and are routed by
`portalId`, and an integration's own URL (a tenant's own HubSpot app, its client secret
pasted as the signing secret)."""

from __future__ import annotations

import json
import time
import uuid

import msgspec
import pytest
from hubspot.utils.signature import Signature

from backend.webhooks import metrics

from .support import assert_problem, fixture

SECRET = "a1b2c3d4-0f9e-4d8c-9b7a-6e5f4d3c2b1a"


def signed(url: str, body: bytes, *, secret: str = SECRET, millis: int | None = None) -> dict:
    timestamp = str(millis if millis is not None else int(time.time() * 1000))
    signature = Signature.get_signature(
        secret, body.decode(), "v3", http_uri=url, http_method="POST", timestamp=timestamp
    )
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature-Version": "v1",
        "User-Agent": "HubSpot Connect 2.0 (http://dev.hubspot.com/)",
    }


async def test_an_event_is_stored_and_normalized(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "hubspot", signing_secrets=(SECRET,))
    body = fixture("hubspot", "deal__property_change.json")
    headers = signed(integration.url, body)
    assert Signature.is_valid(
        headers["X-HubSpot-Signature-v3"],
        SECRET,
        body.decode(),
        integration.url,
        signature_version="v3",
        timestamp=headers["X-HubSpot-Request-Timestamp"],
    )
    row = await hooks.accept(
        integration,
        body,
        headers,
        event_id="2236334:3345211958",
        event_type="deal.propertyChange",
    )
    stored = json.loads(row["headers"]) if isinstance(row["headers"], str) else row["headers"]
    assert "x-hubspot-signature-v3" not in stored
    _, event = await hooks.normalized(row, "hubspot", "deal.propertyChange")
    assert event["subject"] == "17654110233"
    assert event["data"]["property_value"] == "closedwon"


async def test_retries_are_duplicates(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "hubspot", signing_secrets=(SECRET,))
    body = fixture("hubspot", "contact__creation.json")
    row = await hooks.accept(
        integration,
        body,
        signed(integration.url, body),
        event_id="2236311:1003470188",
        event_type="contact.creation",
    )
    await hooks.normalized(row, "hubspot", "contact.creation")
    (event,) = json.loads(body)
    retry = json.dumps([{**event, "attemptNumber": 1}]).encode()
    await hooks.duplicate(integration, retry, signed(integration.url, retry), row)


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "hubspot", signing_secrets=(SECRET,))
    body = fixture("hubspot", "company__creation.json")
    now_ms = int(time.time() * 1000)
    await hooks.reject(integration, body, signed(integration.url, body, secret="other-app"))
    await hooks.reject(
        integration,
        body,
        signed(integration.url, body, millis=now_ms - 301_000),
        reason="tolerance",
    )
    # Signed for another URL (another integration's, or the app-level one).
    await hooks.reject(integration, body, signed(integration.url + "x", body))
    legacy = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": Signature.get_signature(SECRET, body.decode(), "v1"),
        "X-HubSpot-Signature-Version": "v1",
    }
    await hooks.reject(integration, body, legacy, reason="missing X-HubSpot-Signature-v3")


# -- the operator's app: one target URL for every portal --------------------------------

APP_SECRET = "5c3e1f7a-9b2d-4e8f-a6c0-d1b2e3f4a5b6"  # the operator's HubSpot app client secret
APP_URL = "https://hooks.example.test/api/webhooks/hubspot"
PORTAL, OTHER_PORTAL = "123456", "62515"


@pytest.fixture
def operator_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_HUBSPOT_CLIENT_SECRET", APP_SECRET)


async def connected(make_integration, raw_rows, tenant, portal: str, **kwargs):
    """An integration connected to `portal`, as the account call at connect records it."""
    integration = await make_integration(tenant, "hubspot", **kwargs)
    await raw_rows(
        "UPDATE integration SET account_id = $2 WHERE id = $1 RETURNING id",
        integration.id,
        portal,
    )
    return integration


async def post_app(hooks, body: bytes, headers: dict[str, str]):
    return await hooks.client.post("/api/webhooks/hubspot", content=body, headers=headers)


def elements(body: bytes) -> list[bytes]:
    return [bytes(raw) for raw in msgspec.json.decode(body, type=list[msgspec.Raw])]


def fresh_portal() -> int:
    """A portal no other test connected (a run shares one database)."""
    return 10_000_000 + uuid.uuid4().int % 90_000_000


def moved(body: bytes, portals: dict[int, int]) -> bytes:
    """The batch with its events' portals renamed, as HubSpot would send it (compact)."""
    events = [{**e, "portalId": portals[e["portalId"]]} for e in json.loads(body)]
    return json.dumps(events, separators=(",", ":")).encode()


async def test_a_batch_reaches_every_integration_of_each_portal(
    hooks, make_tenant, make_integration, raw_rows, operator_app
) -> None:
    portal, other_portal = fresh_portal(), fresh_portal()
    shop = await connected(make_integration, raw_rows, await make_tenant("shop"), str(portal))
    agency = await connected(make_integration, raw_rows, await make_tenant("agency"), str(portal))
    other = await connected(
        make_integration, raw_rows, await make_tenant("other"), str(other_portal)
    )
    fixed = fixture("hubspot", "mixed__two_portals.json")
    body = moved(fixed, {int(PORTAL): portal, int(OTHER_PORTAL): other_portal})
    first, second, third = elements(body)

    response = await post_app(hooks, body, signed(APP_URL, body, secret=APP_SECRET))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "accepted",
        "events": 3,
        "stored": 5,
        "duplicates": 0,
        "unrouted": 0,
    }
    for integration in (shop, agency):
        rows = await hooks.events(integration)
        assert sorted(bytes(r["raw_body"]) for r in rows) == sorted([first, third])
        assert {r["provider_event_id"] for r in rows} == {
            "2236311:1003470411",
            "2236311:1003470412",
        }
        for row in rows:
            _, envelope = await hooks.normalized(row, "hubspot", "contact.creation")
            assert envelope["data"]["portal_id"] == str(portal)
    (row,) = await hooks.events(other)
    assert bytes(row["raw_body"]) == second
    _, envelope = await hooks.normalized(row, "hubspot", "deal.creation")
    assert envelope["subject"] == "17654119001"

    # HubSpot retries the batch (attemptNumber + 1, a new timestamp): nothing new is stored.
    retry = json.dumps([{**e, "attemptNumber": 1} for e in json.loads(body)]).encode()
    again = await post_app(hooks, retry, signed(APP_URL, retry, secret=APP_SECRET))
    assert again.json() == {
        "status": "accepted",
        "events": 3,
        "stored": 0,
        "duplicates": 5,
        "unrouted": 0,
    }


async def test_an_unknown_portal_is_dropped_with_200_and_counted(
    hooks, tenant, make_integration, raw_rows, operator_app
) -> None:
    known = await connected(make_integration, raw_rows, tenant, PORTAL)
    (event,) = json.loads(fixture("hubspot", "contact__creation.json"))
    body = json.dumps([{**event, "portalId": 999000999}]).encode()
    counted = metrics.counts["unknown_account:hubspot"]
    response = await post_app(hooks, body, signed(APP_URL, body, secret=APP_SECRET))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 0 and response.json()["unrouted"] == 1
    assert metrics.counts["unknown_account:hubspot"] == counted + 1
    assert await hooks.events(known) == []


async def test_the_app_url_verifies_with_the_apps_client_secret(
    hooks, tenant, make_integration, raw_rows, operator_app
) -> None:
    integration = await connected(
        make_integration, raw_rows, tenant, PORTAL, signing_secrets=(SECRET,)
    )
    body = fixture("hubspot", "contact__creation.json")
    stale = int(time.time() * 1000) - 301_000
    for headers in (
        signed(APP_URL, body, secret=SECRET),  # a tenant's own app secret is not the app's
        signed(APP_URL, body, secret=APP_SECRET, millis=stale),
        signed(integration.url, body, secret=APP_SECRET),  # signed for another URL
    ):
        assert_problem(await post_app(hooks, body, headers), 401, "signature-invalid")
    assert await hooks.events(integration) == []


async def test_without_the_apps_secret_the_app_url_does_not_exist(
    hooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SWITCHBOARD_HUBSPOT_CLIENT_SECRET", raising=False)
    body = fixture("hubspot", "contact__creation.json")
    response = await post_app(hooks, body, signed(APP_URL, body, secret=APP_SECRET))
    assert_problem(response, 404, "not-found")


async def test_an_integration_url_refuses_another_portals_events(
    hooks, tenant, make_integration, raw_rows
) -> None:
    integration = await connected(
        make_integration, raw_rows, tenant, PORTAL, signing_secrets=(SECRET,)
    )
    mixed = fixture("hubspot", "mixed__two_portals.json")
    response = await hooks.post(integration, mixed, signed(integration.url, mixed))
    problem = assert_problem(response, 403, "account-mismatch")
    assert OTHER_PORTAL not in problem["detail"]
    assert await hooks.events(integration) == []
    own = fixture("hubspot", "contact__creation.json")
    await hooks.accept(
        integration,
        own,
        signed(integration.url, own),
        event_id="2236311:1003470188",
        event_type="contact.creation",
    )
