"""Driving a connection the way a browser and the dashboard do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer

CALLBACK_PATH = "/api/connectors/oauth/callback"


@dataclass
class Started:
    integration: dict[str, Any]
    authorization_url: str

    @property
    def id(self) -> str:
        return str(self.integration["id"])

    @property
    def query(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(self.authorization_url).query).items()}


async def start(
    client: httpx.AsyncClient, headers: dict[str, str], connector: str = "github", **body: Any
) -> Started:
    response = await client.post(
        "/api/integrations",
        json={"connector_id": connector, "name": f"{connector} test", **body},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    data = response.json()
    return Started(data["integration"], data["authorization_url"])


async def consent(authorization_url: str, **extra: str) -> str:
    """Follow the authorization URL like a browser; return the provider's redirect back."""
    async with httpx.AsyncClient() as browser:
        url = httpx.URL(authorization_url).copy_merge_params(extra) if extra else authorization_url
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith("https://hooks.example.test" + CALLBACK_PATH), location
    return location


async def callback(client: httpx.AsyncClient, location: str) -> httpx.Response:
    """Deliver the provider's redirect to our callback (no API key: it is public)."""
    parts = urlsplit(location)
    return await client.get(parts.path + "?" + parts.query)


async def connect(
    client: httpx.AsyncClient, headers: dict[str, str], connector: str = "github", **body: Any
) -> Started:
    started = await start(client, headers, connector, **body)
    response = await callback(client, await consent(started.authorization_url))
    assert response.status_code == 303, response.text
    assert "oauth=connected" in response.headers["location"], response.headers["location"]
    return started


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def point(
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    server: HTTPServer,
    authorize: str,
    token: str,
    api: str,
) -> None:
    """Point connector `key`'s OAuth and API endpoints at a local HTTP server."""
    prefix = f"SWITCHBOARD_{key.upper()}_"
    monkeypatch.setenv(prefix + "CLIENT_ID", "cid")
    monkeypatch.setenv(prefix + "CLIENT_SECRET", "csecret")
    monkeypatch.setenv(prefix + "AUTHORIZE_URL", server.url_for(authorize))
    monkeypatch.setenv(prefix + "TOKEN_URL", server.url_for(token))
    monkeypatch.setenv(prefix + "API_BASE_URL", server.url_for(api))
