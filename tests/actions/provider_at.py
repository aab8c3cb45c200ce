"""A provider's own simulator answering over HTTP at the network boundary, for the action
tests that go through the real API: it can answer the first calls with the provider's own
429 (Retry-After: 1), and every request it received is counted at the server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from backend.connectors.registry import providers
from backend.integrations.tables import Integration


@dataclass(slots=True)
class ProviderAtServer:
    key: str
    server: HTTPServer
    rate_limited: int = 0
    # A documented answer to give instead of the simulator's (HTTP 200).
    answer: dict[str, Any] | None = None
    # Paths that are how the adapter authenticates (PayPal's token call), not the action's
    # requests: never rate limited here, never counted by `calls`.
    unmetered_paths: tuple[str, ...] = ()

    def calls(self) -> list[Request]:
        return [r for r, _ in self.server.log if r.path not in self.unmetered_paths]

    def handle(self, request: Request) -> Response:
        simulator = providers()[self.key].simulator
        sim_request = simulator.request_from(
            request.method, request.full_path, dict(request.headers), request.get_data()
        )
        if self.answer is not None:
            return Response(json.dumps(self.answer), 200, content_type="application/json")
        if self.rate_limited > 0 and request.path not in self.unmetered_paths:
            self.rate_limited -= 1
            answer = simulator.inject("rate_limit", sim_request, retry_after=1)
        else:
            answer = simulator.handle(sim_request)
        return Response(answer.body, status=answer.status, headers=answer.headers)


@pytest.fixture
def provider_at(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., ProviderAtServer]:
    """Point one connector's operator API base (same path as the real one) at the server."""

    def point(key: str, unmetered_paths: tuple[str, ...] = ()) -> ProviderAtServer:
        provider = providers()[key]
        path = urlsplit(provider.spec.api_base_url).path.rstrip("/")
        prefix = f"SWITCHBOARD_{key.upper()}_"
        monkeypatch.setenv(prefix + "API_BASE_URL", httpserver.url_for(path or "/").rstrip("/"))
        if provider.spec.oauth is not None:
            monkeypatch.setenv(prefix + "CLIENT_ID", "client")
            monkeypatch.setenv(prefix + "CLIENT_SECRET", "client-secret")
        at = ProviderAtServer(key, httpserver, unmetered_paths=unmetered_paths)
        httpserver.expect_request(re.compile(".*")).respond_with_handler(at.handle)
        return at

    return point


async def connected(
    make_integration: Any,
    tenant: Any,
    key: str,
    *,
    scopes: list[str] | None = None,
    config: dict[str, Any] | None = None,
) -> Any:
    """A connected integration with the simulator's sample credentials and these scopes."""
    simulator = providers()[key].simulator
    made = await make_integration(
        tenant,
        key,
        credentials=dict(simulator.sample_credentials),
        **({"config": {**simulator.sample_config, **config}} if config is not None else {}),
    )
    if scopes:
        await Integration.update({Integration.scopes: scopes}).where(Integration.id == made.id)
    return made
