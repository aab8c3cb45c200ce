"""GitHub: what its spec cannot say. Revoking a grant needs the operator's app credentials,
and repository webhooks are created, moved and removed through the API."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx

from backend.connectors.base import Adapter, ProviderError, WebhookRegistration
from backend.connectors.providers.github.spec import SPEC
from backend.lib.vocab import FailureKind

_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
# Every event: unknown types are kept with a generic envelope, so nothing is lost.
_DEFAULT_EVENTS = ("*",)


class GitHubAdapter(Adapter):
    spec = SPEC

    async def revoke(self) -> bool:
        """Delete the whole grant; needs the OAuth app's own client id and secret, so the
        call goes to the operator's API base whatever the integration's override says."""
        app = self.ctx.operator
        token = self.ctx.credentials.get("access_token")
        if not (app.client_id and app.client_secret and token):
            return False
        basic = base64.b64encode(f"{app.client_id}:{app.client_secret}".encode()).decode()
        body: dict[str, Any] = {"access_token": token}
        await self.call(
            "DELETE",
            f"/applications/{app.client_id}/grant",
            as_operator=True,
            json=body,
            headers={"Authorization": f"Basic {basic}"},
        )
        return True

    # -- repository webhook ---------------------------------------------------------------
    def _repository(self) -> str:
        repo = self.ctx.config.get("repository")
        if not isinstance(repo, str) or not _REPOSITORY.fullmatch(repo):
            raise ProviderError(
                FailureKind.MISCONFIGURED,
                "set config.repository to owner/name to have the repository webhook created",
            )
        return repo

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        """Create the repository hook, or point an existing one at the new URL and secret."""
        repo = self._repository()
        config = {"url": url, "content_type": "json", "insecure_ssl": "0"}
        if signing_secret:
            config["secret"] = signing_secret
        path = f"/repos/{repo}/hooks/{existing_id}/config"
        # A hook deleted by hand at GitHub answers 404: it is created again below.
        if existing_id and await self.call_if_exists("PATCH", path, json=config):
            return WebhookRegistration(existing_id, f"webhook {existing_id} of {repo}")
        events = self.ctx.config.get("webhook_events") or list(_DEFAULT_EVENTS)
        response = await self._hook_call(
            "POST",
            f"/repos/{repo}/hooks",
            {"name": "web", "active": True, "events": events, "config": config},
        )
        hook_id = str(response.json()["id"])
        return WebhookRegistration(hook_id, f"webhook {hook_id} of {repo}")

    async def unregister_webhook(self, provider_id: str) -> None:
        await self.call_if_exists("DELETE", f"/repos/{self._repository()}/hooks/{provider_id}")

    async def _hook_call(self, method: str, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return await self.call(method, path, json=body)
        except ProviderError as exc:
            if exc.status_code == 404:
                raise ProviderError(
                    FailureKind.BAD_REQUEST,
                    "GitHub answered 404: the repository does not exist or this token may "
                    "not manage its webhooks (it needs the admin:repo_hook scope and admin "
                    "rights on the repository)",
                    status_code=404,
                ) from None
            raise
