"""Health from evidence and alert rules (issue 15): injected faults move health and open an
alert that resolves on its own once the provider recovers; a burst of forged deliveries and
an expiring token are findings too; the alerts API lists by status and acknowledges, per
tenant."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from webhooks.helpers import hub_signature

from backend.lib.clock import utc_now
from backend.observability import alerts, health, recorder

pytestmark = pytest.mark.usefixtures("client")

SECRET_Q = "quiet-webhook-secret"


@pytest.fixture(autouse=True)
def _no_health_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.integrations import adapters

    monkeypatch.setattr(adapters, "HEALTH_RETRY_PAUSE", 0)


async def _stripe(client: httpx.AsyncClient, tenant: Any) -> str:
    from backend.connectors.registry import get_provider

    response = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "stripe health",
            "credentials": get_provider("stripe").simulator.sample_credentials,
            "config": {"register_webhook": False},
            "test_mode": True,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["integration"]["id"])


async def _health(client: httpx.AsyncClient, tenant: Any, integration_id: Any) -> dict[str, Any]:
    await recorder.flush()
    response = await client.get(
        f"/api/integrations/{integration_id}/health", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _alerts(client: httpx.AsyncClient, tenant: Any, status: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/alerts?status={status}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_faults_move_health_and_an_alert_opens_and_resolves_on_its_own(
    client, make_tenant
) -> None:
    tenant = await make_tenant("health-faults")
    integration = await _stripe(client, tenant)
    checked = await client.post(f"/api/integrations/{integration}/test", headers=tenant.headers)
    assert checked.json()["health"]["status"] == "healthy"
    assert (await _health(client, tenant, integration))["state"] == "healthy"

    fault = await client.put(
        f"/api/integrations/{integration}/faults",
        json={"kind": "server_error", "count": 2},
        headers=tenant.headers,
    )
    assert fault.status_code == 200, fault.text
    await client.post(f"/api/integrations/{integration}/test", headers=tenant.headers)
    assessed = await _health(client, tenant, integration)
    assert assessed["state"] == "failing"
    codes = {r["code"] for r in assessed["reasons"]}
    assert {"health_check_failed", "api_errors"} <= codes

    await alerts.evaluate_alerts({})
    opened = await _alerts(client, tenant, "open")
    assert "health_check_failed" in {a["kind"] for a in opened}
    alert = next(a for a in opened if a["kind"] == "health_check_failed")
    assert alert["severity"] == "critical" and alert["integration_id"] == integration
    # Evaluating again opens nothing twice.
    await alerts.evaluate_alerts({})
    assert [a["kind"] for a in await _alerts(client, tenant, "open")].count(
        "health_check_failed"
    ) == 1

    # The provider recovers (the two injected errors are spent): the alert resolves itself.
    checked = await client.post(f"/api/integrations/{integration}/test", headers=tenant.headers)
    assert checked.json()["health"]["status"] == "healthy", checked.text
    await alerts.evaluate_alerts({})
    assert "health_check_failed" not in {a["kind"] for a in await _alerts(client, tenant, "open")}
    resolved = await _alerts(client, tenant, "resolved")
    (again,) = [a for a in resolved if a["id"] == alert["id"]]
    assert again["status"] == "resolved" and again["resolved_at"]


async def test_a_spike_of_signature_failures_is_a_finding_and_an_alert(
    client, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=("real-secret",))
    body = b'{"action":"opened"}'
    for _ in range(health.SIGNATURE_SPIKE):
        forged = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": hub_signature("guessed", body),
        }
        assert (
            await client.post(integration.path, content=body, headers=forged)
        ).status_code == 401
    assessed = await _health(client, tenant, integration.id)
    assert assessed["state"] == "degraded"
    assert [r["code"] for r in assessed["reasons"]] == ["signature_failures"]

    now = utc_now()
    opened, _ = await alerts.evaluate_integration(tenant.id, integration.id, now)
    assert opened == ["signature_failures"]
    # An hour later the burst is out of the window: the alert resolves.
    later = now + dt.timedelta(hours=1, minutes=2)
    _, resolved = await alerts.evaluate_integration(tenant.id, integration.id, later)
    assert resolved == ["signature_failures"]


async def test_token_expiring_within_a_day(client, tenant, make_integration) -> None:
    from backend.integrations.tables import Integration

    integration = await make_integration(tenant, "github")
    now = utc_now()
    await Integration.update({Integration.token_expires_at: now + dt.timedelta(hours=3)}).where(
        Integration.id == integration.id
    )
    assessed = await _health(client, tenant, integration.id)
    assert assessed["state"] == "degraded"
    assert assessed["reasons"][0]["code"] == "token_expiring"
    opened, _ = await alerts.evaluate_integration(tenant.id, integration.id, now)
    assert opened == ["token_expiring"]
    await Integration.update({Integration.token_expires_at: now + dt.timedelta(days=3)}).where(
        Integration.id == integration.id
    )
    _, resolved = await alerts.evaluate_integration(tenant.id, integration.id, now)
    assert resolved == ["token_expiring"]


async def test_alerts_api_filters_acknowledges_and_is_tenant_scoped(
    client, make_tenant, make_integration
) -> None:
    from backend.integrations.tables import Integration

    owner, other = await make_tenant("alerts-owner"), await make_tenant("alerts-other")
    integration = await make_integration(owner, "github")
    await Integration.update(
        {Integration.token_expires_at: utc_now() + dt.timedelta(hours=2)}
    ).where(Integration.id == integration.id)
    await alerts.evaluate_integration(owner.id, integration.id, utc_now())
    (alert,) = await _alerts(client, owner, "open")
    assert alert["acknowledged_at"] is None
    assert await _alerts(client, other, "open") == []

    foreign = await client.post(f"/api/alerts/{alert['id']}/ack", headers=other.headers)
    assert foreign.status_code == 404
    acked = await client.post(f"/api/alerts/{alert['id']}/ack", headers=owner.headers)
    assert acked.status_code == 200, acked.text
    assert acked.json()["acknowledged_at"] and acked.json()["status"] == "open"
    again = await client.post(f"/api/alerts/{alert['id']}/ack", headers=owner.headers)
    assert again.json()["acknowledged_at"] == acked.json()["acknowledged_at"]

    for bad in ("closed", "null", ""):
        response = await client.get(f"/api/alerts?status={bad}", headers=owner.headers)
        assert response.status_code == 400, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    missing = await client.post("/api/alerts/not-a-uuid/ack", headers=owner.headers)
    assert missing.status_code == 404
    hidden = await client.get(f"/api/integrations/{integration.id}/health", headers=other.headers)
    assert hidden.status_code == 404


def _evidence(**overrides: Any) -> health.Evidence:
    values: dict[str, Any] = {
        "status": "connected",
        "health_status": "healthy",
        "health_reason": "",
        "token_expires_at": None,
        "counters": {},
        "recent_event_statuses": [],
        "stuck_syncs": 0,
    }
    return health.Evidence(**{**values, **overrides})


@pytest.mark.parametrize(
    ("evidence", "state", "codes"),
    [
        (_evidence(), "healthy", []),
        (_evidence(status="needs_reauth"), "needs_reauth", ["needs_reauth"]),
        (_evidence(health_status="auth_failed"), "needs_reauth", ["needs_reauth"]),
        (
            _evidence(recent_event_statuses=["failed", "dead", "failed", "failed", "failed"]),
            "failing",
            ["consecutive_failures"],
        ),
        (
            _evidence(recent_event_statuses=["processed", "failed", "failed", "failed", "failed"]),
            "healthy",
            [],
        ),
        (_evidence(stuck_syncs=1), "failing", ["stuck_sync"]),
        (_evidence(counters={"api_calls": 10, "api_errors": 1}), "degraded", ["api_errors"]),
        (_evidence(counters={"api_calls": 4, "api_errors": 2}), "failing", ["api_errors"]),
        (_evidence(counters={"events_failed": 2}), "degraded", ["events_failed"]),
        (_evidence(health_status="rate_limited"), "degraded", ["rate_limited"]),
    ],
)
def test_assessment_from_evidence(evidence: health.Evidence, state: str, codes: list[str]) -> None:
    assessed, findings = health.assess(evidence, utc_now())
    assert assessed == state
    assert [f.code for f in findings] == codes


def test_an_expired_token_needs_reauth() -> None:
    now = utc_now()
    state, findings = health.assess(_evidence(token_expires_at=now - dt.timedelta(minutes=1)), now)
    assert state == "needs_reauth" and findings[0].code == "token_expired"


async def test_no_events_for_longer_than_the_usual_gap(client, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET_Q,))
    for _ in range(14):  # 14 a week: one every 12 h is usual
        body = b'{"action":"opened","n":"%s"}' % uuid.uuid4().hex.encode()
        headers = {
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": hub_signature(SECRET_Q, body),
        }
        assert (
            await client.post(integration.path, content=body, headers=headers)
        ).status_code == 200
    await recorder.flush()
    now = utc_now()
    assert (await _health(client, tenant, integration.id))["state"] == "healthy"
    # 4 times 12 h is still normal; two days and a bit is not.
    opened, _ = await alerts.evaluate_integration(tenant.id, integration.id, now)
    assert opened == []
    later = now + dt.timedelta(hours=49)
    evidence = await health.gather(tenant.id, integration.id, later)
    assert evidence is not None
    state, findings = health.assess(evidence, later)
    assert state == "degraded" and [f.code for f in findings] == ["no_events"]
    opened, _ = await alerts.evaluate_integration(tenant.id, integration.id, later)
    assert opened == ["no_events"]
    # A new delivery ends the silence: the alert resolves.
    body = b'{"action":"closed"}'
    headers = {
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": hub_signature(SECRET_Q, body),
    }
    assert (await client.post(integration.path, content=body, headers=headers)).status_code == 200
    await recorder.flush()
    _, resolved = await alerts.evaluate_integration(tenant.id, integration.id, utc_now())
    assert resolved == ["no_events"]


def test_the_expected_gap_is_learned_from_the_rate() -> None:
    assert health.expected_gap(health.QUIET_MIN_EVENTS - 1) is None  # no pattern yet
    assert health.expected_gap(7 * 24) == dt.timedelta(hours=4)  # hourly: 4 h of silence
    assert health.expected_gap(100_000) == health.QUIET_FLOOR
