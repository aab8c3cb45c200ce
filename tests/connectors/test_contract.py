"""Every registered connector through the same checks: spec valid, adapter well formed, and
the health check against the provider's simulator over a real loopback HTTP port — healthy
with good credentials, and failing cleanly (classified, never raising, never echoing a
credential) on 401, 429, 500, a timeout and a closed port."""

from __future__ import annotations

import inspect

import pytest
from provider_server import ProviderServer, closed_port_url

from backend.connectors.base import Adapter
from backend.connectors.registry import Provider, providers
from backend.connectors.spec import validate_spec
from connectors.helpers import adapter_for, invalid_credentials, secret_values

PROVIDERS = providers()
KEYS = list(PROVIDERS)
# Connectors that call a provider API (the generic webhook has none).
CALLING = [key for key in KEYS if PROVIDERS[key].spec.auth_type != "none"]


def _assert_no_secret(reason: str, provider: Provider, credentials: dict[str, object]) -> None:
    for value in secret_values(credentials) + secret_values(provider.simulator.sample_credentials):
        assert value not in reason
    assert "/bot" not in reason  # Telegram's URL carries the token
    assert "http" not in reason.lower()


@pytest.mark.parametrize("key", KEYS)
def test_spec_is_valid(key: str) -> None:
    spec = PROVIDERS[key].spec
    validate_spec(spec)
    assert spec.key == key


@pytest.mark.parametrize("key", KEYS)
def test_adapter_subclasses_the_base(key: str) -> None:
    provider = PROVIDERS[key]
    assert issubclass(provider.adapter, Adapter)
    assert not inspect.isabstract(provider.adapter)
    assert provider.adapter.spec is provider.spec
    assert provider.simulator.key == key


@pytest.mark.parametrize("key", KEYS)
async def test_health_passes_against_the_simulator(
    key: str, provider_servers: dict[str, ProviderServer]
) -> None:
    provider = PROVIDERS[key]
    async with adapter_for(provider, provider_servers[key].url) as adapter:
        result = await adapter.check_health()
    assert result.ok, result
    assert result.status == "healthy"


@pytest.mark.parametrize("key", KEYS)
async def test_health_passes_in_test_mode(key: str) -> None:
    """Test mode: the spec's real base URL, answered in process by the simulator."""
    provider = PROVIDERS[key]
    async with adapter_for(
        provider, provider.spec.api_base_url, transport=provider.simulator.transport()
    ) as adapter:
        result = await adapter.check_health()
    assert result.ok, result


@pytest.mark.parametrize("key", CALLING)
async def test_invalid_credentials_fail_as_auth_failed(
    key: str, provider_servers: dict[str, ProviderServer]
) -> None:
    provider = PROVIDERS[key]
    credentials = invalid_credentials(provider)
    async with adapter_for(provider, provider_servers[key].url, credentials=credentials) as adapter:
        result = await adapter.check_health()
    assert not result.ok
    assert result.status == "auth_failed", result
    _assert_no_secret(result.reason, provider, credentials)


@pytest.mark.parametrize(
    ("forced", "status"),
    [("401", "auth_failed"), ("429", "rate_limited"), ("500", "provider_down")],
)
@pytest.mark.parametrize("key", CALLING)
async def test_forced_failures_are_classified(
    key: str, forced: str, status: str, provider_servers: dict[str, ProviderServer]
) -> None:
    provider = PROVIDERS[key]
    async with adapter_for(
        provider, provider_servers[key].url, headers={"X-Switchboard-Simulate": forced}
    ) as adapter:
        result = await adapter.check_health()
    assert not result.ok
    assert result.status == status, result
    if forced == "429":
        assert result.retry_after == pytest.approx(provider.simulator.retry_after, abs=1.5)
    _assert_no_secret(result.reason, provider, provider.simulator.sample_credentials)


@pytest.mark.parametrize("key", CALLING)
async def test_timeout_is_a_network_failure(
    key: str, provider_servers: dict[str, ProviderServer]
) -> None:
    provider = PROVIDERS[key]
    async with adapter_for(
        provider,
        provider_servers[key].url,
        headers={"X-Switchboard-Simulate": "timeout"},
        timeout=0.3,
    ) as adapter:
        result = await adapter.check_health()
    assert result.status == "network", result
    _assert_no_secret(result.reason, provider, provider.simulator.sample_credentials)


@pytest.mark.parametrize("key", CALLING)
async def test_closed_port_is_a_network_failure(key: str) -> None:
    provider = PROVIDERS[key]
    async with adapter_for(provider, closed_port_url()) as adapter:
        result = await adapter.check_health()
    assert not result.ok
    assert result.status == "network", result
    _assert_no_secret(result.reason, provider, provider.simulator.sample_credentials)


@pytest.mark.parametrize("key", CALLING)
async def test_fail_with_forces_failures_in_test_mode(key: str) -> None:
    provider = PROVIDERS[key]
    provider.simulator.fail_with = "500"
    try:
        async with adapter_for(
            provider, provider.spec.api_base_url, transport=provider.simulator.transport()
        ) as adapter:
            result = await adapter.check_health()
    finally:
        provider.simulator.fail_with = None
    assert result.status == "provider_down", result


async def test_generic_webhook_is_always_healthy() -> None:
    provider = PROVIDERS["webhook"]
    async with adapter_for(provider, closed_port_url(), credentials={}) as adapter:
        result = await adapter.check_health()
    assert result.ok
    assert await adapter.revoke() is False
