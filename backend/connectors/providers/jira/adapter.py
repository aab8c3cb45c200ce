"""Jira: the health path depends on the deployment, which no spec field can say.

Atlassian offers no token revocation endpoint for 3LO apps; users remove access in their
account's connected apps, so `revoke` stays False.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from backend.connectors.base import Adapter, ProviderError
from backend.connectors.providers.jira.spec import SPEC
from backend.lib.vocab import FailureKind

_CLOUD_HOST = urlsplit(SPEC.api_base_url).hostname


class JiraAdapter(Adapter):
    spec = SPEC

    def health_path(self) -> str:
        """Cloud paths go through the gateway with the site's cloud id; a Data Center base
        override serves REST v2 on the server itself."""
        if self.ctx.config.get("cloud_id"):
            return super().health_path()
        if urlsplit(self.ctx.api_base_url).hostname == _CLOUD_HOST:
            raise ProviderError(
                FailureKind.MISCONFIGURED, "the Jira Cloud site id (cloud_id) is not set"
            )
        return "/rest/api/2/myself"
