"""Jira health: the current user (`myself`), through the cloud gateway or a Data Center base.

Atlassian offers no token revocation endpoint for 3LO apps; users remove access in their
account's connected apps, so `revoke` stays False.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from backend.connectors.base import Adapter, HealthResult
from backend.connectors.providers.jira.spec import SPEC

_CLOUD_HOST = urlsplit(SPEC.api_base_url).hostname


class JiraAdapter(Adapter):
    spec = SPEC

    async def check_health(self) -> HealthResult:
        cloud_id = str(self.ctx.config.get("cloud_id") or "")
        if cloud_id:
            path = f"/ex/jira/{quote(cloud_id, safe='')}/rest/api/3/myself"
        elif urlsplit(self.ctx.api_base_url).hostname == _CLOUD_HOST:
            return HealthResult(
                False, "misconfigured", "the Jira Cloud site id (cloud_id) is not set"
            )
        else:
            # A Data Center base override: REST v2 on the server itself.
            path = "/rest/api/2/myself"
        return await self.health_via("GET", path, headers={"Accept": "application/json"})
