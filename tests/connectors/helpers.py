"""Shared helpers for connector tests: contexts and credentials per provider."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from backend.connectors.base import Adapter, AdapterContext, OperatorApp
from backend.connectors.registry import Provider


def invalid_credentials(provider: Provider) -> dict[str, Any]:
    """The sample credentials with every secret value marked invalid."""
    secret_names = {f.name for f in provider.spec.credential_fields if f.secret}
    if provider.spec.auth_type == "oauth2" and not secret_names:
        secret_names = {"access_token", "refresh_token"}
    return {
        name: f"invalid-{value}" if name in secret_names else value
        for name, value in provider.simulator.sample_credentials.items()
    }


def secret_values(credentials: dict[str, Any]) -> list[str]:
    return [str(v) for v in credentials.values() if isinstance(v, str) and len(v) >= 8]


@asynccontextmanager
async def adapter_for(
    provider: Provider,
    api_base_url: str,
    *,
    credentials: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
    transport: httpx.AsyncBaseTransport | None = None,
    operator: OperatorApp | None = None,
) -> AsyncIterator[Adapter]:
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout), headers=headers, transport=transport
    ) as http:
        ctx = AdapterContext(
            credentials=dict(
                provider.simulator.sample_credentials if credentials is None else credentials
            ),
            config=dict(provider.simulator.sample_config if config is None else config),
            api_base_url=api_base_url,
            http=http,
            operator=operator or OperatorApp(api_base_url=api_base_url),
        )
        yield provider.adapter(ctx)
