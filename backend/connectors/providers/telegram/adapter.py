"""Telegram health: getMe. The token is part of the URL path, so the URL is itself a secret:
no failure message or exception chain may carry it."""

from __future__ import annotations

from typing import Any

import httpx

from backend.connectors.base import (
    Adapter,
    HealthResult,
    ProviderError,
    WebhookRegistration,
    parse_retry_after,
)
from backend.connectors.providers.telegram.spec import SPEC


class TelegramAdapter(Adapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        return await self.health_via("GET", "getMe")

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        """setWebhook: a bot has one webhook, so registering again just replaces it."""
        body: dict[str, Any] = {"url": url, "drop_pending_updates": False}
        if signing_secret:
            body["secret_token"] = signing_secret
        await self.call("POST", "setWebhook", json=body)
        bot_id = str(self.ctx.credentials.get("bot_token", "")).split(":", 1)[0]
        return WebhookRegistration(bot_id, f"webhook of bot {bot_id}")

    async def unregister_webhook(self, provider_id: str) -> None:
        await self.call("POST", "deleteWebhook", json={"drop_pending_updates": False})

    def url(self, path: str) -> str:
        token = self.ctx.credentials.get("bot_token", "")
        return f"{self.ctx.api_base_url.rstrip('/')}/bot{token}/{path.lstrip('/')}"

    def auth_headers(self) -> dict[str, str]:
        return {}

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await super().call(method, path, **kwargs)
        except ProviderError as exc:
            error = ProviderError(
                exc.kind, exc.message, status_code=exc.status_code, retry_after=exc.retry_after
            )
        # Raised outside the handler so it carries no cause or context: the chained httpx
        # exception holds the request, whose URL holds the token.
        raise error

    def classify(self, response: httpx.Response) -> ProviderError | None:
        status = response.status_code
        if status == 429:
            return ProviderError(
                "rate_limited",
                "the provider is rate limiting requests",
                status_code=status,
                retry_after=_retry_after(response),
            )
        # A malformed token answers 404 Not Found (no such bot), a wrong one 401.
        if status == 404:
            return ProviderError(
                "auth_failed", "the provider rejected the credentials", status_code=status
            )
        if status == 400:
            # e.g. "Bad Request: bad webhook: HTTPS url must be provided for webhook"
            return ProviderError("bad_request", _description(response), status_code=status)
        return super().classify(response)


def _description(response: httpx.Response) -> str:
    try:
        text = response.json().get("description")
    except (ValueError, AttributeError):
        text = None
    return f"Telegram answered: {text[:300]}" if isinstance(text, str) else "Telegram answered 400"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = response.json().get("parameters", {}).get("retry_after")
    except (ValueError, AttributeError):
        seconds = None
    if isinstance(seconds, int | float):
        return float(seconds)
    return parse_retry_after(response.headers.get("Retry-After"))
