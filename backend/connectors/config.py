"""Per-connector operator configuration from the environment, one naming scheme for all:

    SWITCHBOARD_<KEY>_CLIENT_ID, _CLIENT_SECRET, _AUTHORIZE_URL, _TOKEN_URL, _REVOKE_URL,
    _API_BASE_URL, _ALLOWED_API_HOSTS   (<KEY> = the connector key upper-cased)

URLs default to the spec. `_ALLOWED_API_HOSTS` (comma-separated host names, `*.example.com`
for a domain's subdomains) lists where tenants may point an overridable connector's API
base (GitHub Enterprise Server, Jira Data Center); empty, the default, allows none.

A connector is `configured` when a tenant could connect it now: OAuth consent needs the
operator's app credentials; API-key, no-auth and tenant-app (client_credentials)
connectors need nothing from the operator.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from backend.connectors.spec import ConnectorSpec

SUFFIXES = (
    "CLIENT_ID",
    "CLIENT_SECRET",
    "AUTHORIZE_URL",
    "TOKEN_URL",
    "REVOKE_URL",
    "API_BASE_URL",
    "ALLOWED_API_HOSTS",
)


@dataclass(frozen=True, slots=True)
class ConnectorConfig:
    key: str
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    authorize_url: str = ""
    token_url: str = ""
    revoke_url: str = ""
    api_base_url: str = ""
    allowed_api_hosts: tuple[str, ...] = ()
    configured: bool = False
    configured_reason: str = ""


def env_name(key: str, suffix: str) -> str:
    return f"SWITCHBOARD_{key.upper()}_{suffix}"


def connector_config(spec: ConnectorSpec, env: Mapping[str, str] = os.environ) -> ConnectorConfig:
    """The operator's settings for one connector, spec defaults applied."""

    def get(suffix: str, default: str = "") -> str:
        return env.get(env_name(spec.key, suffix), "").strip() or default

    oauth = spec.oauth
    client_id, client_secret = get("CLIENT_ID"), get("CLIENT_SECRET")
    needs_app = oauth is not None and oauth.grant_type == "authorization_code"
    missing = [
        env_name(spec.key, suffix)
        for suffix, value in (("CLIENT_ID", client_id), ("CLIENT_SECRET", client_secret))
        if needs_app and not value
    ]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        reason = f"{' and '.join(missing)} {verb} not set"
    elif needs_app:
        reason = "OAuth app credentials are set"
    elif spec.auth_type == "oauth2":
        reason = "each tenant connects with its own app credentials"
    elif spec.auth_type == "api_key":
        reason = "each tenant connects with its own API credentials"
    else:
        reason = "nothing to configure"
    return ConnectorConfig(
        key=spec.key,
        client_id=client_id,
        client_secret=client_secret,
        authorize_url=get("AUTHORIZE_URL", oauth.authorize_url if oauth else ""),
        token_url=get("TOKEN_URL", oauth.token_url if oauth else ""),
        revoke_url=get("REVOKE_URL", oauth.revoke_url if oauth else ""),
        api_base_url=get("API_BASE_URL", spec.api_base_url),
        allowed_api_hosts=tuple(
            h.strip().lower() for h in get("ALLOWED_API_HOSTS").split(",") if h.strip()
        ),
        configured=not missing,
        configured_reason=reason,
    )


def api_host_allowed(config: ConnectorConfig, url: str) -> bool:
    """Whether the operator allows tenants to point this connector's API base at `url`."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        return False
    for entry in config.allowed_api_hosts:
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return True
    return False
