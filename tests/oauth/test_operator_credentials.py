"""Issue 10 item 1: the operator's OAuth app credentials travel only to the operator's
configured endpoints, never to an API base a tenant chose."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.oauth.helpers import connect


@pytest.fixture
def tenant_host() -> Iterator[HTTPServer]:
    """A server the tenant controls, named by host name (the operator allow-lists it)."""
    server = HTTPServer(host="localhost", port=0)
    server.expect_request("/user").respond_with_json({"login": "octocat", "id": 1})
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


@pytest.fixture
def operator_api() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/applications/github-client/grant", method="DELETE").respond_with_data(
        "", status=204
    )
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _everything_sent(server: HTTPServer) -> str:
    return "\n".join(
        f"{r.method} {r.full_path}\n{r.headers}\n{r.get_data(as_text=True)}" for r, _ in server.log
    )


async def test_revoke_sends_app_credentials_to_the_operator_not_the_tenant_base(
    client, make_tenant, auth_server, monkeypatch, tenant_host, operator_api
) -> None:
    auth_server("github")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_ALLOWED_API_HOSTS", "localhost")
    tenant = await make_tenant("operator-creds")
    tenant_base = f"http://localhost:{tenant_host.port}"
    started = await connect(client, tenant.headers, "github", config={"api_base_url": tenant_base})
    # The tenant's own API base serves the tenant's calls (health went there).
    assert any(r.path == "/user" for r, _ in tenant_host.log)
    monkeypatch.setenv("SWITCHBOARD_GITHUB_API_BASE_URL", operator_api.url_for("/").rstrip("/"))

    r = await client.post(f"/api/integrations/{started.id}/revoke", headers=tenant.headers)
    assert r.status_code == 200, r.text

    basic = base64.b64encode(b"github-client:github-secret").decode()
    sent_to_tenant = _everything_sent(tenant_host)
    assert "github-secret" not in sent_to_tenant
    assert basic not in sent_to_tenant
    assert "/applications/" not in sent_to_tenant
    grant_calls = [r for r, _ in operator_api.log if r.path.startswith("/applications/")]
    assert len(grant_calls) == 1
    assert grant_calls[0].headers["Authorization"] == f"Basic {basic}"
    body = r.json()
    assert body.get("integration", body)["health"]["reason"] == "revoked at the provider"


async def test_an_api_base_override_needs_the_operators_allow_list(
    client, make_tenant, auth_server, monkeypatch, tenant_host
) -> None:
    auth_server("github")
    monkeypatch.delenv("SWITCHBOARD_GITHUB_ALLOWED_API_HOSTS", raising=False)
    tenant = await make_tenant("no-override")
    r = await client.post(
        "/api/integrations",
        json={
            "connector_id": "github",
            "name": "ghe",
            "config": {"api_base_url": f"http://localhost:{tenant_host.port}"},
        },
        headers=tenant.headers,
    )
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["field"] == "config.api_base_url"
    assert "SWITCHBOARD_GITHUB_ALLOWED_API_HOSTS" in problem["detail"]


async def test_an_allow_list_entry_removed_later_stops_the_override_at_once(
    client, make_tenant, auth_server, monkeypatch, tenant_host
) -> None:
    auth_server("github")
    monkeypatch.setenv("SWITCHBOARD_GITHUB_ALLOWED_API_HOSTS", "*.localhost,localhost")
    tenant = await make_tenant("removed-later")
    started = await connect(
        client,
        tenant.headers,
        "github",
        config={"api_base_url": f"http://localhost:{tenant_host.port}"},
    )
    calls_before = len(tenant_host.log)
    monkeypatch.setenv("SWITCHBOARD_GITHUB_ALLOWED_API_HOSTS", "ghe.example.com")
    r = await client.post(f"/api/integrations/{started.id}/test", headers=tenant.headers)
    assert r.status_code == 200, r.text
    health = r.json()["health"]
    assert health["status"] == "misconfigured"
    assert "does not allow this API base" in health["reason"]
    assert len(tenant_host.log) == calls_before
