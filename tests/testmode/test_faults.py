"""Runtime faults of test-mode integrations (issue 14): the simulated provider answers with
the provider's own error shapes, and the product reacts as it would to the real provider —
shown on health checks, token refresh and webhook registration, with their log entries."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from backend.connectors.base import Adapter, AdapterContext
from backend.connectors.registry import providers
from backend.connectors.simulator import FAULT_KINDS, SimRequest
from backend.lib.vocab import FailureKind

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(autouse=True)
def _no_health_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.integrations import adapters

    monkeypatch.setattr(adapters, "HEALTH_RETRY_PAUSE", 0)


async def _api_key_integration(client: httpx.AsyncClient, tenant: Any, **extra: Any) -> str:
    from backend.connectors.registry import get_provider

    credentials = get_provider("stripe").simulator.sample_credentials
    response = await client.post(
        "/api/integrations",
        json={
            "connector_id": "stripe",
            "name": "stripe faults",
            "credentials": credentials,
            "config": {"register_webhook": False},
            **extra,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["integration"]["id"])


async def _oauth_integration(client: httpx.AsyncClient, tenant: Any) -> str:
    """Slack in test mode: the consent, exchange and refresh all run against the simulator."""
    response = await client.post(
        "/api/integrations",
        json={"connector_id": "slack", "name": "slack faults", "test_mode": True},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    parts = urlsplit(response.json()["authorization_url"])
    done = await client.get(parts.path + "?" + parts.query)
    assert done.status_code == 303 and "oauth=connected" in done.headers["location"]
    return str(response.json()["integration"]["id"])


async def _put(client: httpx.AsyncClient, tenant: Any, integration_id: str, **body: Any) -> Any:
    response = await client.put(
        f"/api/integrations/{integration_id}/faults", json=body, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _health(client: httpx.AsyncClient, tenant: Any, integration_id: str) -> Any:
    response = await client.post(f"/api/integrations/{integration_id}/test", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _events(client: httpx.AsyncClient, tenant: Any, integration_id: str) -> list[Any]:
    """The integration's log, oldest first."""
    response = await client.get(
        f"/api/integrations/{integration_id}/logs?limit=200", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def _injections(logs: list[Any]) -> list[Any]:
    return [e for e in logs if e["event"] == "testmode.fault_injected"]


# -- the API --------------------------------------------------------------------------------


async def test_set_list_and_clear_faults(client, make_tenant) -> None:
    tenant = await make_tenant("faults-api")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    body = await _put(client, tenant, integration, kind="rate_limit", count=3, retry_after=9)
    assert body == {
        "faults": [
            {
                "kind": "rate_limit",
                "probability": 1.0,
                "count": 3,
                "remaining": 3,
                "retry_after": 9,
            }
        ]
    }
    body = await _put(client, tenant, integration, kind="server_error", probability=0.5)
    assert [f["kind"] for f in body["faults"]] == ["rate_limit", "server_error"]
    # The same kind again replaces it.
    body = await _put(client, tenant, integration, kind="rate_limit", count=1)
    assert body["faults"][0]["remaining"] == 1 and body["faults"][0]["retry_after"] is None
    listed = await client.get(f"/api/integrations/{integration}/faults", headers=tenant.headers)
    assert listed.status_code == 200 and listed.json() == body
    cleared = await client.delete(f"/api/integrations/{integration}/faults", headers=tenant.headers)
    assert cleared.status_code == 200 and cleared.json() == {"faults": []}
    listed = await client.get(f"/api/integrations/{integration}/faults", headers=tenant.headers)
    assert listed.json() == {"faults": []}
    logs = [e["event"] for e in await _events(client, tenant, integration)]
    assert logs.count("testmode.fault_set") == 3 and "testmode.faults_cleared" in logs


async def test_faults_only_for_test_mode_integrations_of_the_tenant(client, make_tenant) -> None:
    tenant = await make_tenant("faults-live")
    live = await _api_key_integration(client, tenant, test_mode=True)
    switched = await client.patch(
        f"/api/integrations/{live}", json={"test_mode": False}, headers=tenant.headers
    )
    assert switched.status_code == 200, switched.text
    response = await client.put(
        f"/api/integrations/{live}/faults", json={"kind": "timeout"}, headers=tenant.headers
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    for method in ("GET", "DELETE"):
        answer = await client.request(
            method, f"/api/integrations/{live}/faults", headers=tenant.headers
        )
        assert answer.status_code == 409
    other = await make_tenant("faults-other")
    simulated = await _api_key_integration(client, tenant, test_mode=True)
    response = await client.put(
        f"/api/integrations/{simulated}/faults", json={"kind": "timeout"}, headers=other.headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "flood"},
        {"kind": "timeout", "probability": 1.5},
        {"kind": "timeout", "probability": "1"},
        {"kind": "timeout", "count": 0},
        {"kind": "rate_limit", "retry_after": 0},
        {"kind": "timeout", "probability": -0.1},
        {"kind": "timeout", "probability": None},
        {"kind": "timeout", "extra": True},
        {},
    ],
)
async def test_bad_fault_bodies_are_problems(client, make_tenant, body) -> None:
    tenant = await make_tenant("faults-bad")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    response = await client.put(
        f"/api/integrations/{integration}/faults", json=body, headers=tenant.headers
    )
    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# -- the product's reactions, on a health check ------------------------------------------------


async def test_rate_limit_reports_the_wait(client, make_tenant) -> None:
    tenant = await make_tenant("faults-429")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    await _put(client, tenant, integration, kind="rate_limit", count=1, retry_after=42)
    checked = await _health(client, tenant, integration)
    assert checked["health"]["status"] == "rate_limited"
    assert "retry after 42 s" in checked["health"]["reason"]
    # A rate limit says nothing about the connection: it stays connected.
    assert checked["integration"]["status"] == "connected"
    logs = await _events(client, tenant, integration)
    (injected,) = _injections(logs)
    assert injected["context"]["kind"] == "rate_limit"
    assert injected["context"]["retry_after"] == 42
    assert logs[-1]["event"] == "health.checked" and logs[-1]["context"]["status"] == "rate_limited"
    # The count is spent: the next check is healthy.
    assert (await _health(client, tenant, integration))["health"]["status"] == "healthy"


async def test_server_error_is_retried_once_within_the_budget(client, make_tenant) -> None:
    tenant = await make_tenant("faults-500")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    await _put(client, tenant, integration, kind="server_error", count=1)
    assert (await _health(client, tenant, integration))["health"]["status"] == "healthy"
    assert len(_injections(await _events(client, tenant, integration))) == 1

    await _put(client, tenant, integration, kind="server_error", count=5)
    checked = await _health(client, tenant, integration)
    assert checked["health"]["status"] == "provider_down"
    assert checked["health"]["reason"].startswith("the provider")
    assert checked["integration"]["status"] == "error"
    # Two attempts (the check and one retry), no more: three of five remain.
    assert len(_injections(await _events(client, tenant, integration))) == 3
    listed = await client.get(f"/api/integrations/{integration}/faults", headers=tenant.headers)
    assert listed.json()["faults"][0]["remaining"] == 3


async def test_timeout_fails_with_the_reason_after_one_retry(client, make_tenant) -> None:
    tenant = await make_tenant("faults-timeout")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    await _put(client, tenant, integration, kind="timeout")
    checked = await _health(client, tenant, integration)
    assert checked["health"] == {
        "status": "network",
        "reason": "the provider did not answer in time",
        "checked_at": checked["health"]["checked_at"],
    }
    assert len(_injections(await _events(client, tenant, integration))) == 2


async def test_malformed_answer_is_a_provider_error_not_a_crash(client, make_tenant) -> None:
    tenant = await make_tenant("faults-malformed")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    await _put(client, tenant, integration, kind="malformed", count=1)
    checked = await _health(client, tenant, integration)
    assert checked["health"]["status"] == "provider_down"
    assert "did not confirm" in checked["health"]["reason"]
    # A well-formed 200 that is wrong is not a blip: no retry.
    assert len(_injections(await _events(client, tenant, integration))) == 1


async def test_probability_zero_never_fires_and_one_always(client, make_tenant) -> None:
    tenant = await make_tenant("faults-probability")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    await _put(client, tenant, integration, kind="rate_limit", probability=0)
    for _ in range(3):
        assert (await _health(client, tenant, integration))["health"]["status"] == "healthy"
    await _put(client, tenant, integration, kind="rate_limit", probability=1)
    for _ in range(2):
        assert (await _health(client, tenant, integration))["health"]["status"] == "rate_limited"
    assert len(_injections(await _events(client, tenant, integration))) == 2


async def test_auth_expired_refreshes_once_then_succeeds(client, make_tenant) -> None:
    tenant = await make_tenant("faults-expired")
    integration = await _oauth_integration(client, tenant)
    await _put(client, tenant, integration, kind="auth_expired", count=1)
    checked = await _health(client, tenant, integration)
    assert checked["health"]["status"] == "healthy", checked
    assert checked["integration"]["status"] == "connected"
    logs = await _events(client, tenant, integration)
    events = [e["event"] for e in logs]
    start = events.index("testmode.fault_injected")
    assert events[start:] == ["testmode.fault_injected", "oauth.refreshed", "health.checked"]
    assert events.count("oauth.refreshed") == 1


async def test_auth_revoked_needs_reauth_and_opens_an_alert(client, make_tenant, raw_rows) -> None:
    tenant = await make_tenant("faults-revoked")
    integration = await _oauth_integration(client, tenant)
    await _put(client, tenant, integration, kind="auth_revoked")
    checked = await _health(client, tenant, integration)
    assert checked["health"]["status"] == "auth_failed"
    assert "reconnect" in checked["health"]["reason"]
    assert checked["integration"]["status"] == "needs_reauth"
    alerts = await raw_rows(
        "SELECT kind, status, severity FROM alert WHERE integration = $1::uuid", integration
    )
    assert alerts == [{"kind": "oauth.needs_reauth", "status": "open", "severity": "critical"}]
    logs = await _events(client, tenant, integration)
    calls = [e["context"]["call"] for e in _injections(logs)]
    assert calls[0].startswith("POST /auth.test") or calls[0].startswith("GET /auth.test")
    assert calls[1] == "the token endpoint (refresh)"
    assert "oauth.needs_reauth" in [e["event"] for e in logs]


async def test_webhook_registration_meets_the_fault(client, make_tenant) -> None:
    tenant = await make_tenant("faults-register")
    integration = await _api_key_integration(client, tenant, test_mode=True, config={})
    await _put(client, tenant, integration, kind="server_error", count=1)
    response = await client.post(
        f"/api/integrations/{integration}/webhook/register", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    outcome = response.json()["integration"]["webhook_registration"]
    assert outcome["status"] == "failed", outcome
    assert outcome["reason"].startswith("the provider"), outcome
    logs = await _events(client, tenant, integration)
    (injected,) = _injections(logs)
    assert "webhook_endpoints" in injected["context"]["call"]


# -- the provider's own error shapes ------------------------------------------------------------


def _adapter(provider: Any) -> Adapter:
    ctx = AdapterContext(
        credentials=dict(provider.simulator.sample_credentials),
        config=dict(provider.simulator.sample_config),
        api_base_url=provider.spec.api_base_url,
        http=httpx.AsyncClient(),
    )
    return provider.adapter(ctx)


@pytest.mark.parametrize("provider", list(providers().values()), ids=lambda p: p.spec.key)
async def test_every_simulator_injects_errors_its_spec_classifies(provider) -> None:
    """The fault answers are each provider's real bodies: its own error table reads them as
    the failure they stand for (a 429's wait included)."""
    simulator = provider.simulator
    request = SimRequest("GET", "/", {}, {}, b"")
    adapter = _adapter(provider)
    expected = {
        "rate_limit": FailureKind.RATE_LIMITED,
        "auth_expired": FailureKind.AUTH_FAILED,
        "auth_revoked": FailureKind.AUTH_FAILED,
        "server_error": FailureKind.PROVIDER_DOWN,
    }
    for kind, failure in expected.items():
        answer = simulator.inject(kind, request, retry_after=7)
        error = adapter.classify(
            httpx.Response(answer.status, headers=answer.headers, content=answer.body)
        )
        assert error is not None and error.kind == failure, (kind, answer)
        if kind == "rate_limit":
            assert error.retry_after == 7
    assert simulator.inject("timeout", request).timeout
    assert set(FAULT_KINDS) == {*expected, "timeout", "malformed"}


async def test_without_redis_the_simulator_answers_normally(
    client, make_tenant, monkeypatch
) -> None:
    """Faults are a test aid: a Redis outage must not break test mode's provider calls."""
    from backend.lib.redis import connect
    from backend.testmode import faults

    tenant = await make_tenant("faults-no-redis")
    integration = await _api_key_integration(client, tenant, test_mode=True)
    await _put(client, tenant, integration, kind="server_error")
    unreachable = connect("redis://127.0.0.1:1/0", "unused")
    monkeypatch.setattr(faults, "_redis", unreachable)
    try:
        assert (await _health(client, tenant, integration))["health"]["status"] == "healthy"
    finally:
        await unreachable.aclose()
