"""Declarative connector specs: the facts about a provider, as data.

A provider folder's `SPEC` is one `ConnectorSpec`. The registry validates every spec at
import (see `validate_spec`) and syncs it into the `connector` table; code in a provider
folder exists only for what these fields cannot express.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

AuthType = Literal["oauth2", "api_key", "none"]
# In catalog order: the registry lists connectors by category in this order, then by name.
Category = Literal[
    "email", "calendar", "files", "chat", "messaging", "crm", "dev", "payments", "generic"
]
SigningSecretSource = Literal["generated", "user", "credentials", "none"]


class OAuthSpec(msgspec.Struct, frozen=True, kw_only=True):
    """OAuth 2.0 facts from the provider's documentation (`docs_url`)."""

    authorize_url: str
    token_url: str
    docs_url: str
    revoke_url: str = ""
    # Least-privilege scopes requested by default.
    default_scopes: tuple[str, ...] = ()
    # Scopes a caller may add, each with what it unlocks (streams / actions).
    optional_scopes: dict[str, str] = {}
    scope_separator: str = " "
    # Name of the scope parameter (Slack's bot scopes are `scope`, user scopes `user_scope`).
    scope_param: str = "scope"
    pkce: bool = True
    refresh_tokens: bool = True
    rotating_refresh_tokens: bool = False
    extra_authorize_params: dict[str, str] = {}
    # client_secret_post | client_secret_basic
    token_endpoint_auth_method: str = "client_secret_post"
    # authorization_code (a person consents) | client_credentials (the tenant's own app keys)
    grant_type: Literal["authorization_code", "client_credentials"] = "authorization_code"
    # Public facts kept from the token response in the integration's config: config key ->
    # dotted path (Nango's token_response_metadata), e.g. {"team_id": "team.id"}. The config
    # is shown by the API, so a path may never name a token (checked by validate_spec).
    token_response_metadata: dict[str, str] = {}
    # Where a second, user-level token sits in the token response (an object with
    # access_token, refresh_token, token_type, expires_in); sealed beside the main token.
    user_token_path: str = ""
    # The provider's own token-endpoint error codes -> the RFC 6749 code each means, e.g.
    # {"bad_refresh_token": "invalid_grant"}: an invalid_grant needs a person to reconnect.
    error_codes: dict[str, str] = {}


class CredentialField(msgspec.Struct, frozen=True, kw_only=True):
    """One field of an API-key connector's credentials form."""

    name: str
    label: str
    secret: bool = True
    required: bool = True
    # A full-match regular expression the value must satisfy.
    pattern: str = ""
    help: str = ""
    example: str = ""


class RateLimitPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How fast we may call the provider, and which headers tell us to slow down."""

    requests: int
    per_seconds: float
    retry_after_header: str = "Retry-After"
    remaining_header: str = ""
    reset_header: str = ""
    notes: str = ""


class WebhookContract(msgspec.Struct, frozen=True, kw_only=True):
    """How the provider signs and identifies deliveries (see notes/provider-webhooks.md)."""

    scheme: str
    signing_secret_source: SigningSecretSource
    event_id_source: str
    event_type_source: str
    docs_url: str
    content_types: tuple[str, ...] = ("application/json",)
    handshake: str = ""
    # True when the adapter can register the webhook URL at the provider itself.
    auto_register: bool = False
    setup_instructions: str = ""
    # Config keys whose values are secrets the handshake checks (Meta's verify_token): sealed
    # at rest like credentials and shown by the API only as set.
    secret_config: tuple[str, ...] = ()


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A collection the sync engine can read (filled in by the sync work)."""

    name: str
    description: str
    required_scopes: tuple[str, ...] = ()
    incremental: bool = False


class ConnectorSpec(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str
    category: Category
    description: str
    icon: str  # a Lucide icon name the dashboard renders
    docs_url: str
    auth_type: AuthType
    api_base_url: str
    # Self-hosted editions (GitHub Enterprise Server, Jira Data Center) take a per-integration base.
    api_base_overridable: bool = False
    oauth: OAuthSpec | None = None
    credential_fields: tuple[CredentialField, ...] = ()
    rate_limit: RateLimitPolicy
    webhook: WebhookContract | None = None
    streams: tuple[StreamSpec, ...] = ()
    # Short names of what the connector can do, shown in the catalog.
    capabilities: tuple[str, ...] = ()
    # Names of functions in the folder's hooks.py (see backend/connectors/hooks.py).
    hooks: tuple[str, ...] = ()


class SpecError(ValueError):
    pass


_KEY = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
# A token-response field whose value is a credential: never copied into the public config.
_SECRET_FIELD = re.compile(r"token|secret|password", re.IGNORECASE)


def _token_metadata_problems(oauth: OAuthSpec) -> list[str]:
    return [
        f"oauth.token_response_metadata[{key!r}] names a secret field ({path!r})"
        for key, path in oauth.token_response_metadata.items()
        if _SECRET_FIELD.search(path)
    ]


def validate_spec(spec: ConnectorSpec) -> None:
    """Reject a spec whose fields contradict each other; raised at registry load."""
    problems: list[str] = []
    if not _KEY.match(spec.key):
        problems.append("key must be lower_snake_case")
    if not spec.docs_url.startswith("https://"):
        problems.append("docs_url must be an https URL")
    if not spec.api_base_url.startswith(("https://", "http://")) and spec.auth_type != "none":
        problems.append("api_base_url must be an http(s) URL")
    if spec.auth_type == "oauth2":
        if spec.oauth is None:
            problems.append("oauth2 connectors need an oauth section")
        else:
            for name in ("authorize_url", "token_url", "docs_url"):
                if not getattr(spec.oauth, name).startswith("https://"):
                    problems.append(f"oauth.{name} must be an https URL")
            problems.extend(_token_metadata_problems(spec.oauth))
        # The client_credentials grant runs on the tenant's own app keys, so only such
        # connectors ask the tenant for credentials; the others get tokens by consent.
        tenant_app = spec.oauth is not None and spec.oauth.grant_type == "client_credentials"
        if tenant_app and not spec.credential_fields:
            problems.append("client_credentials connectors need credential_fields")
        if not tenant_app and spec.credential_fields:
            problems.append("authorization_code connectors must not have credential_fields")
    elif spec.oauth is not None:
        problems.append("only oauth2 connectors may have an oauth section")
    if spec.auth_type == "api_key" and not spec.credential_fields:
        problems.append("api_key connectors need credential_fields")
    names = [f.name for f in spec.credential_fields]
    if len(names) != len(set(names)):
        problems.append("credential field names must be unique")
    for f in spec.credential_fields:
        if f.pattern:
            try:
                re.compile(f.pattern)
            except re.error as exc:
                problems.append(f"credential field {f.name}: bad pattern ({exc})")
            if f.example and not re.fullmatch(f.pattern, f.example):
                problems.append(f"credential field {f.name}: example does not match pattern")
    if spec.rate_limit.requests <= 0 or spec.rate_limit.per_seconds <= 0:
        problems.append("rate_limit must be positive")
    if problems:
        raise SpecError(f"connector {spec.key!r}: " + "; ".join(problems))
