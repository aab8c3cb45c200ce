"""Slack: revocation (auth.revoke ends the token); health and Slack's HTTP 200 `ok: false`
errors are data in its spec."""

from __future__ import annotations

from backend.connectors.base import Adapter
from backend.connectors.providers.slack.spec import SPEC


class SlackAdapter(Adapter):
    spec = SPEC

    async def revoke(self) -> bool:
        await self.call("POST", "auth.revoke")
        return True
