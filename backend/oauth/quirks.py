"""What a provider's consent yields beyond tokens: public facts stored in integration config.

Slack names the workspace and the bot user in the token response; Jira Cloud needs a second
call (accessible-resources) for the cloud id every API path contains. Data in the spec cannot
express either, so each is a small function keyed by connector.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from backend.oauth.client import TokenEndpointError


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def slack_config(
    token: dict[str, Any], http: httpx.AsyncClient, api_base: str
) -> dict[str, Any]:
    team = _dict(token.get("team"))
    enterprise = _dict(token.get("enterprise"))
    user = _dict(token.get("authed_user"))
    found = {
        "team_id": team.get("id"),
        "team_name": team.get("name"),
        "enterprise_id": enterprise.get("id"),
        "bot_user_id": token.get("bot_user_id"),
        "app_id": token.get("app_id"),
        "authed_user_id": user.get("id"),
    }
    return {k: str(v) for k, v in found.items() if v}


async def jira_config(
    token: dict[str, Any], http: httpx.AsyncClient, api_base: str
) -> dict[str, Any]:
    """The cloud id (and site) from GET /oauth/token/accessible-resources on the API base.

    The consent screen picks one site; when the app already had others, the first listed
    resource is the one the person most recently granted.
    """
    url = api_base.rstrip("/") + "/oauth/token/accessible-resources"
    headers = {"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"}
    try:
        response = await http.get(url, headers=headers)
    except httpx.HTTPError as exc:
        raise TokenEndpointError("unavailable", type(exc).__name__) from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TokenEndpointError("unavailable", f"accessible_resources_http_{response.status_code}")
    if response.status_code >= 400:
        raise TokenEndpointError("rejected", f"accessible_resources_http_{response.status_code}")
    try:
        sites = response.json()
    except ValueError:
        raise TokenEndpointError("unavailable", "accessible_resources_bad_response") from None
    if (
        not isinstance(sites, list)
        or not sites
        or not isinstance(sites[0], dict)
        or not sites[0].get("id")
    ):
        raise TokenEndpointError("rejected", "no_accessible_jira_site")
    site = sites[0]
    return {
        "cloud_id": str(site["id"]),
        "site_url": str(site.get("url", "")),
        "site_name": str(site.get("name", "")),
    }


ConfigQuirk = Callable[[dict[str, Any], httpx.AsyncClient, str], Awaitable[dict[str, Any]]]

AFTER_EXCHANGE: dict[str, ConfigQuirk] = {"slack": slack_config, "jira": jira_config}


async def config_after_exchange(
    connector: str, token: dict[str, Any], http: httpx.AsyncClient, api_base: str
) -> dict[str, Any]:
    quirk = AFTER_EXCHANGE.get(connector)
    return await quirk(token, http, api_base) if quirk else {}
