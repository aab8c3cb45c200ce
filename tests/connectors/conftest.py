"""Fixtures for connector tests: each provider's simulator on its own loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from provider_server import ProviderServer

from backend.connectors.registry import providers


@pytest.fixture(scope="session")
def provider_servers() -> Iterator[dict[str, ProviderServer]]:
    """One running loopback server per registered provider, shared by the session."""
    servers = {key: ProviderServer(p.simulator).start() for key, p in providers().items()}
    yield servers
    for server in servers.values():
        server.stop()
