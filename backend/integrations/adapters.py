"""Reaching a provider for one integration: its adapter, wired to the real API (the
operator's or an allow-listed tenant API base) or, in test mode, to the in-process simulator.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx

from backend.connectors.base import (
    Adapter,
    AdapterContext,
    HealthResult,
    OperatorApp,
    ProviderError,
)
from backend.connectors.config import api_host_allowed, connector_config
from backend.connectors.registry import Provider
from backend.lib.http import get_client
from backend.lib.telemetry import instrument_http_client
from backend.lib.vocab import FailureKind, HealthStatus
from backend.testmode.faults import FaultInjectingTransport, FaultOwner

# A health check retries a transient failure (5xx, timeout, network) once after this pause:
# one blip must not mark a connection broken, and a person waiting on "Test" gets an answer
# within seconds. Rate limits are not retried here: the result reports the wait instead.
HEALTH_RETRY_PAUSE = 0.5
_TRANSIENT = (HealthStatus.PROVIDER_DOWN, HealthStatus.NETWORK)


def api_base_for(provider: Provider, config: dict[str, Any]) -> str:
    """The integration's API base: the operator's, or the tenant's override when the
    connector allows one and the operator allow-lists its host. Checked at every use, so
    removing an allow-list entry stops the override at once; `misconfigured` otherwise."""
    operator = connector_config(provider.spec)
    override = config.get("api_base_url")
    if not override:
        return operator.api_base_url
    if not provider.spec.api_base_overridable or not api_host_allowed(operator, str(override)):
        raise ProviderError(
            FailureKind.MISCONFIGURED,
            f"the operator does not allow this API base for {provider.spec.name}",
        )
    return str(override)


def operator_app(provider: Provider) -> OperatorApp:
    """The operator's app settings for this connector, in memory only (never stored)."""
    cfg = connector_config(provider.spec)
    return OperatorApp(
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        revoke_url=cfg.revoke_url,
        api_base_url=cfg.api_base_url,
    )


def build_adapter(
    provider: Provider,
    credentials: dict[str, Any],
    config: dict[str, Any],
    test_mode: bool,
    owner: FaultOwner | None = None,
) -> Adapter:
    """An adapter wired to the real provider, or to its simulator in test mode; `owner`
    (the integration) makes the simulator answer with that integration's faults."""
    operator = operator_app(provider)
    if test_mode:
        http = _simulator_clients.get(provider.spec.key)
        if owner is not None:
            # In process, no sockets: a client per adapter costs nothing to leave unclosed.
            transport = FaultInjectingTransport(provider.simulator, owner)
            http = instrument_http_client(httpx.AsyncClient(transport=transport, timeout=5.0))
        elif http is None or http.is_closed:
            http = httpx.AsyncClient(transport=provider.simulator.transport(), timeout=5.0)
            _simulator_clients[provider.spec.key] = instrument_http_client(http)
        base = provider.spec.api_base_url
        operator = OperatorApp(
            operator.client_id, operator.client_secret, operator.revoke_url, base
        )
    else:
        http = get_client()
        base = api_base_for(provider, config)
    return provider.adapter(
        AdapterContext(
            credentials=credentials,
            config=dict(config),
            api_base_url=base,
            http=http,
            operator=operator,
            tenant_id=owner.tenant_id if owner else None,
            integration_id=owner.integration_id if owner else None,
        )
    )


# Test mode talks to each provider's simulator in process (no network at all).
_simulator_clients: dict[str, httpx.AsyncClient] = {}


async def run_health_check(
    provider: Provider,
    credentials: dict[str, Any],
    config: dict[str, Any],
    test_mode: bool,
    owner: FaultOwner | None = None,
) -> HealthResult:
    """The one way to check an integration's credentials (at connect, on demand, after a
    token exchange): a refused API base is a failed check, never an exception. A transient
    failure is retried once (`HEALTH_RETRY_PAUSE`); the second answer is the result."""
    result = await _health_once(provider, credentials, config, test_mode, owner)
    if result.status == HealthStatus.RATE_LIMITED and result.retry_after is not None:
        # The wait is part of the answer a person (and the stored health reason) sees.
        wait = f"{result.reason}; retry after {result.retry_after:g} s"
        return dataclasses.replace(result, reason=wait)
    if result.ok or result.status not in _TRANSIENT or not result.transient:
        return result
    await asyncio.sleep(HEALTH_RETRY_PAUSE)
    return await _health_once(provider, credentials, config, test_mode, owner)


async def _health_once(
    provider: Provider,
    credentials: dict[str, Any],
    config: dict[str, Any],
    test_mode: bool,
    owner: FaultOwner | None,
) -> HealthResult:
    try:
        return await build_adapter(provider, credentials, config, test_mode, owner).check_health()
    except ProviderError as exc:
        return HealthResult.from_error(exc)
