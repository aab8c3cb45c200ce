"""Telegram: the bot token is part of the URL path (no spec field builds such a URL), so
the URL is itself a secret: no failure message or exception chain may carry it. Webhooks
are registered with setWebhook."""

from __future__ import annotations

from typing import Any

import httpx

from backend.connectors.base import Adapter, ProviderError, WebhookRegistration
from backend.connectors.providers.telegram.spec import SPEC


class TelegramAdapter(Adapter):
    spec = SPEC

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
