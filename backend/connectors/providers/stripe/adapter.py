"""Stripe: the secret key as a bearer token; webhook endpoints are created through the API,
which issues their signing secret. Health and errors are data in its spec.

Stripe keys cannot be revoked through the API (only rolled in the Dashboard): no `revoke`.
"""

from __future__ import annotations

from backend.connectors.base import Adapter, WebhookRegistration
from backend.connectors.providers.stripe.spec import SPEC

# Every event: unknown types are kept with a generic envelope, so nothing is lost.
_DEFAULT_EVENTS = ("*",)


class StripeAdapter(Adapter):
    spec = SPEC

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.ctx.credentials.get('secret_key', '')}"}

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        """Create the endpoint (its whsec_ secret comes back once, on creation), or move an
        existing one to the new URL, keeping its secret."""
        path = f"/v1/webhook_endpoints/{existing_id}"
        # An endpoint deleted in the Dashboard answers 404: it is created again below.
        if existing_id and await self.call_if_exists("POST", path, data={"url": url}):
            return WebhookRegistration(existing_id, f"webhook endpoint {existing_id}")
        events = self.ctx.config.get("webhook_events") or list(_DEFAULT_EVENTS)
        response = await self.call(
            "POST",
            "/v1/webhook_endpoints",
            data={"url": url, "enabled_events[]": events, "description": "Switchboard"},
        )
        endpoint = response.json()
        return WebhookRegistration(
            str(endpoint["id"]),
            f"webhook endpoint {endpoint['id']}",
            signing_secret=str(endpoint["secret"]),
        )

    async def unregister_webhook(self, provider_id: str) -> None:
        await self.call_if_exists("DELETE", f"/v1/webhook_endpoints/{provider_id}")
