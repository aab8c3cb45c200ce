"""Twilio: HTTP Basic with Account SID and Auth Token; health and errors are data in its spec.

API keys and auth tokens cannot be revoked through this API (only rotated in the console).
"""

from __future__ import annotations

import base64

from backend.connectors.base import Adapter
from backend.connectors.providers.twilio.spec import SPEC


class TwilioAdapter(Adapter):
    spec = SPEC

    def auth_headers(self) -> dict[str, str]:
        sid = self.ctx.credentials.get("account_sid", "")
        token = self.ctx.credentials.get("auth_token", "")
        encoded = base64.b64encode(f"{sid}:{token}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}
