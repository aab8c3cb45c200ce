"""Jira Cloud's consent needs one more call: every API path contains the site's cloud id,
which the token response does not name (GET /oauth/token/accessible-resources does).

Docs: https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/#3-1-get-the-cloudid-for-your-site
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from backend.connectors.hooks import ConsentError

NO_SITE = "The Jira consent granted no site. Connect again and pick a site."


async def after_consent(
    token: Mapping[str, Any], http: httpx.AsyncClient, api_base: str
) -> dict[str, str]:
    """The cloud id, URL and name of the site the person granted.

    The consent screen picks one site; when the app already had others, the first listed
    resource is the one the person most recently granted. HTTP and JSON failures are
    classified by the caller.
    """
    response = await http.get(
        api_base.rstrip("/") + "/oauth/token/accessible-resources",
        headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"},
    )
    response.raise_for_status()
    sites = response.json()
    site = sites[0] if isinstance(sites, list) and sites else None
    if not isinstance(site, dict) or not site.get("id"):
        raise ConsentError("rejected", "no_accessible_jira_site", NO_SITE)
    return {
        "cloud_id": str(site["id"]),
        "site_url": str(site.get("url") or ""),
        "site_name": str(site.get("name") or ""),
    }
