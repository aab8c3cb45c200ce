"""Reaching a provider for one integration: its adapter, wired to the real API (the
operator's or the integration's API base) or, in test mode, to the in-process simulator.
"""

from __future__ import annotations

from typing import Any

import httpx

from backend.connectors.base import Adapter, AdapterContext, HealthResult
from backend.connectors.config import connector_config
from backend.connectors.registry import Provider
from backend.lib.http import get_client


def api_base_for(provider: Provider, config: dict[str, Any]) -> str:
    override = config.get("api_base_url") if provider.spec.api_base_overridable else None
    return str(override or connector_config(provider.spec).api_base_url)


def build_adapter(
    provider: Provider, credentials: dict[str, Any], config: dict[str, Any], test_mode: bool
) -> Adapter:
    """An adapter wired to the real provider, or to its simulator in test mode."""
    if test_mode:
        http = _simulator_clients.get(provider.spec.key)
        if http is None or http.is_closed:
            http = httpx.AsyncClient(transport=provider.simulator.transport(), timeout=5.0)
            _simulator_clients[provider.spec.key] = http
        base = provider.spec.api_base_url
    else:
        http = get_client()
        base = api_base_for(provider, config)
    config = {**config, **_operator_oauth_config(provider)}
    return provider.adapter(
        AdapterContext(credentials=credentials, config=config, api_base_url=base, http=http)
    )


def _operator_oauth_config(provider: Provider) -> dict[str, str]:
    """The operator's OAuth app settings adapters need to revoke grants (GitHub deletes a
    grant with the app's client id/secret). In memory only: never stored per integration."""
    if provider.spec.oauth is None:
        return {}
    cfg = connector_config(provider.spec)
    values = {
        "oauth_client_id": cfg.client_id,
        "oauth_client_secret": cfg.client_secret,
        "oauth_revoke_url": cfg.revoke_url,
    }
    return {k: v for k, v in values.items() if v}


# Test mode talks to each provider's simulator in process (no network at all).
_simulator_clients: dict[str, httpx.AsyncClient] = {}


async def run_health_check(
    provider: Provider, credentials: dict[str, Any], config: dict[str, Any], test_mode: bool
) -> HealthResult:
    adapter = build_adapter(provider, credentials, config, test_mode)
    return await adapter.check_health()
