"""Declarative connector specs: the facts about a provider, as data.

A provider folder's `SPEC` is one `ConnectorSpec`. The registry validates every spec at
import (see `validate_spec`) and syncs it into the `connector` table; code in a provider
folder exists only for what these fields cannot express.
"""

from __future__ import annotations

import re
from typing import Literal

import msgspec

from backend.connectors.paths import is_well_formed
from backend.connectors.streams import Incremental, ListCall

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
    """How fast we may call the provider, and where a limited answer says how long to wait.

    The wait is the first of: `retry_after_header` (seconds or an HTTP date), the number at
    `retry_after_path` in the body, `reset_header` (read as `reset_kind`; when
    `remaining_header` is set, only while it says 0, since the reset of a quota that is not
    spent says nothing about this refusal), then `default_retry_after`.
    """

    requests: int
    per_seconds: float
    retry_after_header: str = "Retry-After"
    retry_after_path: str = ""
    remaining_header: str = ""
    reset_header: str = ""
    # epoch: unix seconds (GitHub) | delta: seconds from now | iso8601: a time (Jira)
    reset_kind: Literal["epoch", "delta", "iso8601"] = "epoch"
    # Seconds to wait when a limited answer names no time (GitHub: at least a minute).
    default_retry_after: float | None = None
    notes: str = ""


ErrorKind = Literal["auth", "rate_limit", "transient", "permanent"]


class ErrorRule(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a provider's error table: an answer that matches every condition given
    here is a failure of `kind`. Rules are tried in order, then the default table (401/403
    auth, 429 rate_limit, 5xx transient, other 4xx permanent)."""

    kind: ErrorKind
    # Empty: any status, 2xx included (Slack's and Telegram's `ok: false`).
    status: tuple[int, ...] = ()
    # A dotted path into the JSON body: its value is present, or one of `body_equals`
    # (compared as text: numbers in decimal, booleans as true/false).
    body_path: str = ""
    body_equals: tuple[str, ...] = ()
    # The raw body contains this text (case-insensitive).
    body_contains: str = ""
    # This header is present, or equal to `header_equals`.
    header: str = ""
    header_equals: str = ""
    # A fixed message instead of the one `error_message_paths` extracts.
    message: str = ""


class HealthCheck(msgspec.Struct, frozen=True, kw_only=True):
    """The cheapest authenticated call proving an integration's credentials work.

    `path` is relative to the API base; `{credentials.NAME}` and `{config.NAME}` in it are
    filled in percent-encoded, and a credential with a `pattern` must match it first.
    """

    path: str
    method: str = "GET"
    params: dict[str, str] = {}
    # Success also needs a value at `success_path` (equal to `success_equals` when set).
    success_path: str = ""
    success_equals: str = ""
    # The provider account the credentials belong to, read from the same answer, or from
    # the integration's config where consent already named it (Jira's site).
    account_id_path: str = ""
    account_name_path: str = ""
    account_from: Literal["answer", "config"] = "answer"


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
    # The provider sends every account's events to the operator's one app URL,
    # POST /api/webhooks/{key}, which routes each event to the integrations of its account.
    app_level: bool = False
    # Where an event names its provider account, "body:<dotted path>" into the event's JSON
    # (each element of a batch); per-integration URLs refuse events of another account.
    account_id_source: str = ""
    # The operator's secret for app-level deliveries: SWITCHBOARD_<KEY>_<app_secret_env>
    # (comma-separated, newest first, during a rotation).
    app_secret_env: str = ""
    # Config the app-level check needs, from the environment: config key -> env suffix
    # (Meta's verify_token, Gmail's push service account).
    app_config_env: dict[str, str] = {}


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A collection the sync engine can read (see backend/connectors/streams.py).

    Data first: `list` (and `incremental`) describe the provider's list API for the
    generic reader; `reader` names a function in the folder's `streams.py` only where data
    cannot say it. `unavailable` says why a stream has no pull API (the API answers 409
    with it). Records are keyed by `id_path`; `updated_path` dates them; a record whose
    `deleted_path` equals `deleted_value` is a deletion (Calendar's cancelled events).
    """

    name: str
    description: str
    required_scopes: tuple[str, ...] = ()
    list: ListCall | None = None
    incremental: Incremental | None = None
    reader: str = ""
    unavailable: str = ""
    id_path: str = "id"
    updated_path: str = ""
    deleted_path: str = ""
    deleted_value: str | bool = True
    # A full run marks records it did not see as deleted (the list shows everything).
    full_marks_deletions: bool = True
    # Backfills send the window as {since}/{until}; False: the provider cannot bound a read.
    backfill: bool = True
    # Normalized event types after which the stream runs an incremental sync (trigger
    # "webhook"): for pushes that only say "something changed" (Calendar, Drive, Gmail).
    triggered_by: tuple[str, ...] = ()

    @property
    def modes(self) -> tuple[str, ...]:
        """The sync modes this stream supports."""
        if self.unavailable:
            return ()
        modes = ["full"]
        if self.incremental is not None:
            modes.append("incremental")
        if self.backfill:
            modes.append("backfill")
        return tuple(modes)


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
    # Headers every API call carries (GitHub's API version).
    request_headers: dict[str, str] = {}
    # The provider's error table, tried before the default one (see ErrorRule).
    errors: tuple[ErrorRule, ...] = ()
    # Where an error answer's human-readable message is; the first non-empty one is used.
    error_message_paths: tuple[str, ...] = (
        "message",
        "error.message",
        "error_description",
        "error",
    )
    # None only for connectors that call no provider API.
    health: HealthCheck | None = None
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


_ENV_SUFFIX = re.compile(r"^[A-Z][A-Z0-9_]{0,60}$")


def _app_level_problems(spec: ConnectorSpec) -> list[str]:
    """Account routing must name where the account is, and app-level delivery a secret."""
    webhook = spec.webhook
    if webhook is None:
        return []
    problems: list[str] = []
    where, _, path = webhook.account_id_source.partition(":")
    if webhook.account_id_source and (where != "body" or not is_well_formed(path)):
        problems.append("webhook.account_id_source must be 'body:<dotted path>'")
    suffixes = [webhook.app_secret_env, *webhook.app_config_env.values()]
    if any(s and not _ENV_SUFFIX.match(s) for s in suffixes):
        problems.append("webhook app_secret_env/app_config_env must be UPPER_SNAKE env suffixes")
    if webhook.app_level:
        if not webhook.account_id_source or not webhook.app_secret_env:
            problems.append("app_level webhooks need account_id_source and app_secret_env")
        # The account is learned from the provider's answer at connect; a tenant's own API
        # host could claim any account and receive its events.
        if spec.api_base_overridable:
            problems.append("app_level webhooks cannot have an overridable API base")
    return problems


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
    problems.extend(_error_rule_problems(spec.errors))
    if spec.health is None and spec.auth_type != "none":
        problems.append("connectors that call a provider API need a health check")
    problems.extend(_app_level_problems(spec))
    if problems:
        raise SpecError(f"connector {spec.key!r}: " + "; ".join(problems))


def _error_rule_problems(rules: tuple[ErrorRule, ...]) -> list[str]:
    """A rule must test something, and a test of any status must look at the answer itself
    (else it would turn every success into a failure)."""
    problems: list[str] = []
    for index, rule in enumerate(rules):
        where = f"errors[{index}]"
        if rule.body_equals and not rule.body_path:
            problems.append(f"{where}: body_equals needs body_path")
        if rule.header_equals and not rule.header:
            problems.append(f"{where}: header_equals needs header")
        if not (rule.body_path or rule.body_contains or rule.header):
            if not rule.status:
                problems.append(f"{where} matches every answer")
            elif any(status < 400 for status in rule.status):
                problems.append(f"{where} turns a success status into a failure")
    return problems
