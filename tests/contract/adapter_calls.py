"""The provider calls each adapter makes, run through a transport that records every exchange.

Both contract tests drive the same calls: against Prism (is each request what the provider's
description allows?) and against the provider's simulator (is each answer what the
description promises?). Which calls a connector makes follows from its adapter: health
always, webhook registration and revocation where the adapter implements them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from backend.connectors.base import Adapter, AdapterContext, OperatorApp, WebhookRegistration
from backend.connectors.registry import Provider

WEBHOOK_URL = "https://hooks.example.test/api/webhooks/contract/5ZbV2yQ8rT1kLmN0pXcD"
SIGNING_SECRET = "contract-test-signing-secret_0123456789"
# The operator's OAuth app: GitHub deletes a grant with the app's own client id and secret.
OPERATOR_CLIENT_ID = "Iv1.8a61f9b3a7aba766"
OPERATOR_CLIENT_SECRET = "operator-client-secret-0123456789abcdef"
# Tenant config some calls need beyond the simulator's sample (which repository's webhook).
EXTRA_CONFIG: dict[str, dict[str, Any]] = {
    "github": {"repository": "octocat/Hello-World"},
    # The Pub/Sub topic Gmail's users.watch publishes to.
    "gmail": {"pubsub_topic": "projects/switchboard-contract/topics/gmail-push"},
}


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request an adapter call sent and the answer it got (body already read)."""

    call: str
    request: httpx.Request
    response: httpx.Response


Router = Callable[[httpx.Request], httpx.AsyncBaseTransport]


class RecordingTransport(httpx.AsyncBaseTransport):
    """Send each request through the transport `route` picks for it, and keep the exchange."""

    def __init__(self, route: Router, rewrite: Callable[[httpx.URL], httpx.URL] | None = None):
        self._route = route
        self._rewrite = rewrite
        self.exchanges: list[Exchange] = []
        self.call = ""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._rewrite is not None:
            request.url = self._rewrite(request.url)
        await request.aread()
        response = await self._route(request).handle_async_request(request)
        await response.aread()
        self.exchanges.append(Exchange(self.call, request, response))
        return response


def _overrides(adapter: type[Adapter], name: str) -> bool:
    return getattr(adapter, name) is not getattr(Adapter, name)


def call_names(provider: Provider) -> list[str]:
    """The calls this connector's adapter makes to its provider."""
    names = ["check_health"]
    if _overrides(provider.adapter, "register_webhook"):
        names += ["register_webhook", "register_webhook (update)", "unregister_webhook"]
    if _overrides(provider.adapter, "revoke"):
        names.append("revoke")
    return names


def make_adapter(
    provider: Provider,
    api_base_url: str,
    http: httpx.AsyncClient,
    credentials: dict[str, Any] | None = None,
) -> Adapter:
    """The connector's adapter with the simulator's sample credentials (valid in shape)."""
    sample = provider.simulator
    ctx = AdapterContext(
        credentials=dict(sample.sample_credentials if credentials is None else credentials),
        config={**sample.sample_config, **EXTRA_CONFIG.get(provider.key, {})},
        api_base_url=api_base_url,
        http=http,
        operator=OperatorApp(
            client_id=OPERATOR_CLIENT_ID,
            client_secret=OPERATOR_CLIENT_SECRET,
            api_base_url=api_base_url,
        ),
    )
    return provider.adapter(ctx)


async def run_calls(
    adapter: Adapter, names: list[str], recorder: RecordingTransport
) -> dict[str, Any]:
    """Run `names` in order (registration before its update and removal); returns each
    call's result, or the exception it raised, by name."""
    registration: WebhookRegistration | None = None

    async def register() -> WebhookRegistration:
        nonlocal registration
        registration = await adapter.register_webhook(WEBHOOK_URL, SIGNING_SECRET, None)
        return registration

    def existing_id() -> str:
        assert registration is not None, "register_webhook runs first"
        return registration.provider_id

    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "check_health": adapter.check_health,
        "register_webhook": register,
        "register_webhook (update)": lambda: adapter.register_webhook(
            WEBHOOK_URL, SIGNING_SECRET, existing_id()
        ),
        "unregister_webhook": lambda: adapter.unregister_webhook(existing_id()),
        "revoke": adapter.revoke,
    }
    results: dict[str, Any] = {}
    for name in names:
        recorder.call = name
        try:
            results[name] = await calls[name]()
        except Exception as exc:  # reported per call by the tests, with the exchanges
            results[name] = exc
    return results
