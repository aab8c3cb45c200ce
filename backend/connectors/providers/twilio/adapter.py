"""Twilio health: fetch the account itself with HTTP Basic Account SID : Auth Token.

API keys and auth tokens cannot be revoked through this API (only rotated in the console).
"""

from __future__ import annotations

import base64

from backend.connectors.base import Adapter, HealthResult
from backend.connectors.providers.twilio.spec import SPEC


class TwilioAdapter(Adapter):
    spec = SPEC

    def auth_headers(self) -> dict[str, str]:
        sid = self.ctx.credentials.get("account_sid", "")
        token = self.ctx.credentials.get("auth_token", "")
        encoded = base64.b64encode(f"{sid}:{token}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}

    async def check_health(self) -> HealthResult:
        sid = str(self.ctx.credentials.get("account_sid", ""))
        if not sid.startswith("AC") or not sid.isalnum():
            return HealthResult(False, "misconfigured", "the Account SID must start with AC")
        return await self.health_via("GET", f"/2010-04-01/Accounts/{sid}.json")
