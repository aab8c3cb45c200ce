"""Subscription renewals (issue 15): the worker re-registers a Gmail watch that expires
within the margin (users.watch against the simulated Gmail of test mode), leaves one with
days to go alone, opens an alert when the provider refuses the renewal, and resolves it on
the next successful renewal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from backend.connectors.providers import _google
from backend.integrations import renewals
from backend.integrations import webhook_registration as registration
from backend.integrations.tables import Integration
from backend.lib.clock import utc_now
from backend.lib.tenancy import TenantScope

pytestmark = pytest.mark.usefixtures("client")

TOPIC = "projects/switchboard-test/topics/gmail-push"


async def _gmail(tenant: Any, make_integration: Any) -> Any:
    made = await make_integration(
        tenant,
        "gmail",
        credentials=_google.SAMPLE_CREDENTIALS,
        config={
            "pubsub_topic": TOPIC,
            "service_account_email": "push@switchboard-test.iam.gserviceaccount.com",
        },
    )
    await Integration.update({Integration.test_mode: True}).where(Integration.id == made.id)
    return made


async def _registration(tenant: Any, integration_id: Any) -> dict[str, Any]:
    row = await TenantScope(tenant.id).get(Integration, str(integration_id), "integration")
    return registration.recorded(row) or {}


async def _expire_in(raw_rows: Any, integration_id: Any, delta: dt.timedelta) -> None:
    await raw_rows(
        "UPDATE integration SET config = jsonb_set(config, '{_webhook_registration,expires_at}',"
        " to_jsonb($2::text)) WHERE id = $1 RETURNING id",
        integration_id,
        (utc_now() + delta).isoformat(),
    )


async def _open_kinds(client: httpx.AsyncClient, tenant: Any, status: str) -> list[str]:
    response = await client.get(f"/api/alerts?status={status}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return [a["kind"] for a in response.json()["items"]]


async def test_a_gmail_watch_near_expiry_is_renewed_and_a_refusal_alerts_until_it_succeeds(
    client: httpx.AsyncClient, make_tenant: Any, make_integration: Any, raw_rows: Any
) -> None:
    tenant = await make_tenant("renewals")
    due = await _gmail(tenant, make_integration)
    later = await _gmail(tenant, make_integration)
    for made in (due, later):
        response = await client.post(
            f"/api/integrations/{made.id}/webhook/register", headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        first = await _registration(tenant, made.id)
        assert first["status"] == "registered", first
        assert first["provider_id"] == TOPIC
        shown = response.json()["integration"]["webhook_registration"]
        assert shown["expires_at"] == first["expires_at"].replace("+00:00", "Z")
        lasts = dt.datetime.fromisoformat(first["expires_at"]) - utc_now()
        assert dt.timedelta(days=6, hours=23) < lasts <= dt.timedelta(days=7)

    # One watch lapses in 2 h (inside the 24 h margin), the other in 3 days.
    await _expire_in(raw_rows, due.id, dt.timedelta(hours=2))
    await _expire_in(raw_rows, later.id, dt.timedelta(days=3))
    untouched = (await _registration(tenant, later.id))["at"]
    await renewals.renew_subscriptions({})
    renewed = await _registration(tenant, due.id)
    assert renewed["status"] == "registered"
    assert dt.datetime.fromisoformat(renewed["expires_at"]) > utc_now() + dt.timedelta(days=6)
    assert (await _registration(tenant, later.id))["at"] == untouched

    # Gmail refuses the next renewal: the alert opens, once however often the cron runs.
    await _expire_in(raw_rows, due.id, dt.timedelta(hours=2))
    fault = await client.put(
        f"/api/integrations/{due.id}/faults",
        json={"kind": "server_error", "count": 2},
        headers=tenant.headers,
    )
    assert fault.status_code == 200, fault.text
    await renewals.renew_subscriptions({})
    assert (await _registration(tenant, due.id))["status"] == "failed"
    assert await _open_kinds(client, tenant, "open") == [renewals.ALERT_KIND]
    await renewals.renew_subscriptions({})
    assert await _open_kinds(client, tenant, "open") == [renewals.ALERT_KIND]

    # The faults are spent: the next run renews (the failed registration is retried) and
    # resolves the alert.
    await renewals.renew_subscriptions({})
    recovered = await _registration(tenant, due.id)
    assert recovered["status"] == "registered"
    assert dt.datetime.fromisoformat(recovered["expires_at"]) > utc_now() + dt.timedelta(days=6)
    assert await _open_kinds(client, tenant, "open") == []
    assert await _open_kinds(client, tenant, "resolved") == [renewals.ALERT_KIND]


@pytest.mark.parametrize("connector", ["google_calendar", "google_drive"])
async def test_a_channel_near_expiry_is_replaced_by_a_new_one_and_the_old_stopped(
    client: httpx.AsyncClient,
    make_tenant: Any,
    make_integration: Any,
    raw_rows: Any,
    connector: str,
) -> None:
    tenant = await make_tenant(f"renewals-{connector}")
    made = await make_integration(
        tenant,
        connector,
        credentials=_google.SAMPLE_CREDENTIALS,
        signing_secrets=("channel-token-0123456789abcdef",),
    )
    await Integration.update({Integration.test_mode: True}).where(Integration.id == made.id)
    response = await client.post(
        f"/api/integrations/{made.id}/webhook/register", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    first = await _registration(tenant, made.id)
    assert first["status"] == "registered", first
    old_channel = first["provider_id"].split(":", 1)[0]
    assert old_channel in _google.CHANNELS

    await _expire_in(raw_rows, made.id, dt.timedelta(hours=1))
    await renewals.renew_subscriptions({})
    renewed = await _registration(tenant, made.id)
    new_channel = renewed["provider_id"].split(":", 1)[0]
    assert renewed["status"] == "registered" and new_channel != old_channel
    assert new_channel in _google.CHANNELS and old_channel not in _google.CHANNELS
    assert dt.datetime.fromisoformat(renewed["expires_at"]) > utc_now() + dt.timedelta(days=6)
    assert await _open_kinds(client, tenant, "open") == []
