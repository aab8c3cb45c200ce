"""HubSpot's adapter, all spec data: consent through a real authorization server (the spec's
scopes, PKCE, the client secret in the form, refresh), the account call naming the portal, and
HubSpot's recorded error answers landing in the right kind with a safe message.

Error bodies are HubSpot's documented shapes: the 401 and 429 bodies of
https://developers.hubspot.com/docs/api-reference/error-handling and the usage guidelines
(https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from oauth.helpers import callback, consent, start
from oauth_server import AuthServer
from provider_server import ProviderServer

from backend.connectors.registry import load_provider
from connectors.helpers import adapter_for

HUBSPOT = load_provider("hubspot")
TOKEN = HUBSPOT.simulator.sample_credentials["access_token"]
CALLBACK = "https://hooks.example.test/api/connectors/oauth/callback"
SCOPES = "oauth crm.objects.contacts.read crm.objects.companies.read crm.objects.deals.read"


async def test_consent_refresh_and_health(
    client, make_tenant, monkeypatch, provider_servers: dict[str, ProviderServer]
) -> None:
    """The operator's app against a local authorization server; the API is the simulator."""
    with AuthServer(
        client_id="hubspot-client",
        client_secret="hubspot-secret",
        redirect_uri=CALLBACK,
        scope=SCOPES + " crm.objects.deals.write",
        rotate=False,  # HubSpot keeps the refresh token across refreshes
    ) as server:
        env = {
            "CLIENT_ID": "hubspot-client",
            "CLIENT_SECRET": "hubspot-secret",
            "AUTHORIZE_URL": server.url + "/authorize",
            "TOKEN_URL": server.url + "/token",
            "API_BASE_URL": provider_servers["hubspot"].url,
        }
        for suffix, value in env.items():
            monkeypatch.setenv(f"SWITCHBOARD_HUBSPOT_{suffix}", value)
        tenant = await make_tenant("hubspot")
        started = await start(client, tenant.headers, "hubspot", scopes=["crm.objects.deals.write"])
        query = started.query
        assert query["scope"] == SCOPES + " crm.objects.deals.write"
        assert query["code_challenge_method"] == "S256" and query["client_id"] == "hubspot-client"
        response = await callback(client, await consent(started.authorization_url))
        assert "oauth=connected" in response.headers["location"], response.headers
        url = f"/api/integrations/{started.id}"
        body = (await client.get(url, headers=tenant.headers)).json()
        assert body["status"] == "connected"
        assert body["health"]["status"] == "healthy", body["health"]
        # The portal, from the account call at connect: what app-level events route by (the
        # v3 account call names no portal, so the name stays empty).
        assert body["account"] == {"id": "123456", "name": ""}
        refreshed = await client.post(url + "/refresh", headers=tenant.headers)
        assert refreshed.status_code == 200, refreshed.text
        assert len(server.live_refresh_tokens()) == 1


async def test_test_mode_connects_without_hubspot(client, tenant, monkeypatch) -> None:
    for suffix in ("CLIENT_ID", "CLIENT_SECRET"):
        monkeypatch.delenv(f"SWITCHBOARD_HUBSPOT_{suffix}", raising=False)
    started = await start(client, tenant.headers, "hubspot", test_mode=True)
    response = await callback(client, started.authorization_url)
    assert "oauth=connected" in response.headers["location"]
    body = (await client.get(f"/api/integrations/{started.id}", headers=tenant.headers)).json()
    assert body["status"] == "connected" and body["test_mode"] is True
    assert body["health"]["status"] == "healthy", body["health"]
    assert body["account"]["id"] == "123456"


async def test_health_names_the_portal(provider_servers: dict[str, ProviderServer]) -> None:
    async with adapter_for(HUBSPOT, provider_servers["hubspot"].url) as adapter:
        result = await adapter.check_health()
    assert result.ok, result
    assert result.details["account"] == {"id": "123456", "name": ""}


async def test_health_sends_the_token_only_in_the_header() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"portalId": 62515, "accountType": "STANDARD"})

    async with adapter_for(
        HUBSPOT, HUBSPOT.spec.api_base_url, transport=httpx.MockTransport(answer)
    ) as adapter:
        result = await adapter.check_health()
    assert result.details["account"]["id"] == "62515"
    (request,) = seen
    assert str(request.url) == "https://api.hubapi.com/account-info/v3/details"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_an_answer_without_a_portal_is_not_healthy() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, json={"status": "ok"}))
    async with adapter_for(HUBSPOT, HUBSPOT.spec.api_base_url, transport=transport) as adapter:
        result = await adapter.check_health()
    assert not result.ok


def _error(**fields: Any) -> dict[str, Any]:
    return {"status": "error", "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf", **fields}


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind", "retry_after", "says"),
    [
        (
            401,
            _error(
                message="Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                category="INVALID_AUTHENTICATION",
            ),
            {},
            "auth_failed",
            None,
            "Authentication credentials not found",
        ),
        (
            401,
            _error(
                message="The OAuth token used to make this call expired 2 second(s) ago.",
                category="EXPIRED_AUTHENTICATION",
            ),
            {},
            "auth_failed",
            None,
            "expired",
        ),
        (
            403,
            _error(
                message="This app hasn't been granted all required scopes to make this call.",
                category="MISSING_SCOPES",
            ),
            {},
            "auth_failed",
            None,
            "required scopes",
        ),
        (
            429,
            _error(
                message="You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
            ),
            {"Retry-After": "3", "X-HubSpot-RateLimit-Remaining": "0"},
            "rate_limited",
            3.0,
            "ten_secondly_rolling",
        ),
        (
            400,
            _error(message="Property values were not valid", category="VALIDATION_ERROR"),
            {},
            "bad_request",
            None,
            "Property values were not valid",
        ),
        (502, None, {}, "provider_down", None, "502"),
    ],
)
async def test_recorded_errors_are_classified(
    status: int,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    kind: str,
    retry_after: float | None,
    says: str,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if body is None:
            return httpx.Response(status, text="<html>Bad Gateway</html>", headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    transport = httpx.MockTransport(answer)
    async with adapter_for(HUBSPOT, HUBSPOT.spec.api_base_url, transport=transport) as adapter:
        result = await adapter.check_health()
    assert not result.ok
    assert result.status == kind, result
    assert result.retry_after == retry_after
    assert says in result.reason
    assert TOKEN not in result.reason and "http" not in result.reason.lower()
