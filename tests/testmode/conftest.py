"""Test mode's fixtures: simulate sends through an ASGI transport to the session's app (in
production it goes over loopback to the api's own address), and connections are made in
test mode through the API, with no real credentials."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from backend.connectors.registry import providers
from backend.testmode.controllers import LOOPBACK_TRANSPORT

# What a tenant would paste for connectors whose signing secret the provider issues (any
# value works in test mode: the simulator signs with whatever the integration holds).
USER_SECRET = "whsec_" + base64.b64encode(b"test-mode-signing-secret-32bytes").decode()


@pytest.fixture(scope="session")
def loopback(app: Any, client: httpx.AsyncClient) -> None:
    setattr(app.state, LOOPBACK_TRANSPORT, httpx.ASGITransport(app=app))


async def connect_test_mode(client: httpx.AsyncClient, headers: dict[str, str], key: str) -> str:
    """Connect `key` in test mode as a tenant would (OAuth consent simulated), returning the
    integration id."""
    provider = providers()[key]
    spec = provider.spec
    body: dict[str, Any] = {"connector_id": key, "name": f"{spec.name} (simulated)"}
    body["test_mode"] = True
    if provider.simulator.sample_config:
        body["config"] = dict(provider.simulator.sample_config)
    redirect = spec.oauth is not None and spec.oauth.grant_type == "authorization_code"
    if not redirect and provider.simulator.sample_credentials:
        body["credentials"] = dict(provider.simulator.sample_credentials)
    if spec.webhook is not None and spec.webhook.signing_secret_source == "user":
        body["webhook_signing_secret"] = USER_SECRET
    created = await client.post("/api/integrations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    answer = created.json()
    if answer.get("authorization_url"):
        consented = await client.get(answer["authorization_url"])
        assert consented.status_code == 303, consented.text
        assert "oauth=connected" in consented.headers["location"], consented.headers
    integration_id: str = answer["integration"]["id"]
    got = await client.get(f"/api/integrations/{integration_id}", headers=headers)
    assert got.json()["status"] == "connected" and got.json()["test_mode"] is True
    return integration_id
