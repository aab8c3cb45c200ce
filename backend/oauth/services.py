"""OAuth 2.0 connections: begin (authorization URL), complete (callback), refresh.

`OAuthService` implements `backend.integrations.services.OAuthFlows`; the api gets it as the
`oauth` dependency, the worker through `get_oauth_flows()`. The protocol is authlib's
(client.py); what is ours is binding state to tenant and integration, sealing tokens,
keeping a consent's public facts (consent.py), and making one refresh per integration at a
time across processes.

Test mode never reaches a provider: its "authorization URL" points straight back at our
callback with a simulated code, and the exchange and refresh mint the provider simulator's
sample tokens, so the whole state/callback path runs while adapters talk to the simulator.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlencode

from litestar import Request

from backend.connectors.base import Adapter, ProviderError
from backend.connectors.config import connector_config
from backend.connectors.registry import Provider, get_provider
from backend.connectors.spec import OAuthSpec
from backend.integrations import secrets as sealed
from backend.integrations import webhook_registration
from backend.integrations.adapters import build_adapter, run_health_check
from backend.integrations.services import get, record_health
from backend.integrations.tables import Integration as IntegrationRow
from backend.lib.clock import utc_now
from backend.lib.errors import Problem, validation_error
from backend.lib.http import get_client
from backend.lib.redis import connect as connect_redis
from backend.lib.tenancy import TenantScope
from backend.oauth.client import (
    ResponseInfo,
    TokenEndpointError,
    build_client,
    exchange_code,
    refresh_grant,
    safe_code,
    standard_code,
)
from backend.oauth.consent import consent_config
from backend.oauth.locks import LockTimeout, RedisLock
from backend.oauth.redirects import default_return_url, validate_return_url, with_params
from backend.oauth.states import consume_state, create_state, open_verifier
from backend.oauth.tokenset import build_token_set, expiry_of, granted_scopes
from backend.observability.services import open_alert, resolve_alerts, write_audit, write_log
from backend.settings import Settings, get_settings
from backend.testmode.faults import FaultOwner, token_endpoint_fault

CALLBACK_PATH = "/api/connectors/oauth/callback"
REAUTH_ALERT = "oauth.needs_reauth"
REFRESH_FAILED_ALERT = "oauth.refresh_failed"
# The lock outlives the slowest token request (http timeout) with room to store the result.
LOCK_TTL = 60.0
LOCK_WAIT = 45.0
# Waiters that find the winner failed transiently answer the same failure instead of
# hammering a provider that is down: the winner leaves this note for a few seconds.
FAILURE_NOTE_MS = 5000
SIMULATED_LIFETIME = 3600

T = TypeVar("T")


def redirect_uri(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + CALLBACK_PATH


def consent_spec(provider: Provider) -> OAuthSpec:
    oauth = provider.spec.oauth
    if oauth is None or oauth.grant_type != "authorization_code":
        raise Problem(409, f"{provider.spec.name} does not connect through an OAuth consent.")
    return oauth


def resolve_scopes(oauth: OAuthSpec, requested: list[str]) -> list[str]:
    """Least-privilege defaults plus what the caller asked for from the allowed list."""
    unknown = [
        s for s in requested if s not in oauth.optional_scopes and s not in oauth.default_scopes
    ]
    if unknown:
        allowed = ", ".join(oauth.optional_scopes) or "none"
        raise validation_error(
            "scopes", f"not offered by this connector: {', '.join(unknown)} (allowed: {allowed})"
        )
    return list(dict.fromkeys([*oauth.default_scopes, *requested]))


def validate_authorization_request(
    provider: Provider, scopes: list[str], return_url: str | None, settings: Settings | None = None
) -> None:
    """What `begin` would reject, checked before an integration row exists (a 422 then
    leaves nothing behind)."""
    resolve_scopes(consent_spec(provider), scopes)
    validate_return_url(return_url, settings or get_settings(), "check")


class ReauthRequired(Problem):
    """The provider no longer accepts the grant; only a person reconnecting restores it."""

    def __init__(self, name: str) -> None:
        super().__init__(
            409,
            f"{name} no longer accepts this connection's authorization; reconnect the integration.",
            kind="needs-reauth",
            title="Reconnection required",
        )


# Words a person understands, for RFC 6749's error codes on the callback (a provider's own
# codes are mapped to these by its spec's `error_codes`; a hook may bring its own words).
_CALLBACK_REASONS = {
    "access_denied": "Access was not granted: the authorization request was declined at {name}. "
    "Connect again to retry.",
    "invalid_scope": "{name} refused the requested permissions. Check the scopes and connect "
    "again.",
    "unauthorized_client": "{name} does not allow this OAuth app to ask for access; the operator "
    "must check the app's settings at {name}.",
    "server_error": "{name} failed while asking for consent. Try connecting again later.",
    "temporarily_unavailable": "{name} is temporarily unavailable. Try connecting again later.",
    "missing_code": "{name} sent the browser back without an authorization code. Connect again.",
    "invalid_grant": "{name} did not accept the authorization code (it expired or was already "
    "used). Connect again.",
}


def reason_for(code: str, name: str, kind: str = "rejected", oauth: OAuthSpec | None = None) -> str:
    template = _CALLBACK_REASONS.get(standard_code(oauth, code) if oauth else code)
    if template:
        return template.format(name=name)
    if kind == "unavailable":
        return f"{name} could not be reached to finish the connection ({code}). Try again."
    return (
        f"{name} refused the authorization ({code}). Connect again, or ask the operator to "
        "check the OAuth app."
    )


def simulated_token(provider: Provider) -> tuple[dict[str, Any], bool]:
    """Test mode's token response: the simulator's sample tokens, with an expiry when the
    provider issues refresh tokens so the refresh path is exercised too."""
    oauth = consent_spec(provider)
    sample = provider.simulator.sample_credentials
    token: dict[str, Any] = {
        "access_token": sample.get("access_token") or "simulated_" + secrets.token_urlsafe(16),
        "token_type": sample.get("token_type", "Bearer"),
    }
    if oauth.refresh_tokens:
        token["refresh_token"] = sample.get(
            "refresh_token"
        ) or "simulated_refresh_" + secrets.token_urlsafe(16)
        token["expires_at"] = int(time.time()) + SIMULATED_LIFETIME
    return token, oauth.refresh_tokens


def json_list(value: Any) -> list[str]:
    """A JSONB list column's value (Piccolo hands back text from UPDATE ... RETURNING)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return [str(v) for v in value or []]


def _credentials_changed(current: dict[str, Any], seen: bytes | None) -> bool:
    return bytes(current["credentials"] or b"") != bytes(seen or b"")


class OAuthService:
    """The one OAuthFlows implementation. Holds no per-tenant state; Redis may be attached."""

    def __init__(self, redis: Any = None) -> None:
        self._redis = redis

    def validate(self, provider: Provider, scopes: list[str], return_url: str | None) -> None:
        """Reject what `begin` would reject, before the integration row is written."""
        validate_authorization_request(provider, scopes, return_url)

    def attach_redis(self, redis: Any) -> None:
        self._redis = redis

    def redis_for(self, redis: Any = None) -> Any:
        if redis is not None:
            return redis
        if self._redis is None:
            self._redis = connect_redis(
                get_settings().redis_url or "redis://127.0.0.1:6379/0", get_settings().queue_name
            )
        return self._redis

    # -- begin ---------------------------------------------------------------------------
    async def begin(
        self,
        scope: TenantScope,
        integration: dict[str, Any],
        provider: Provider,
        scopes: list[str],
        return_url: str | None,
    ) -> str:
        settings = get_settings()
        oauth = consent_spec(provider)
        if integration["status"] == "revoked":
            raise Problem(
                409, "A revoked integration cannot be authorized again; create a new one."
            )
        wanted = resolve_scopes(oauth, scopes)
        back_to = validate_return_url(return_url, settings, str(integration["id"]))
        callback = redirect_uri(settings)
        if integration["test_mode"]:
            state = await create_state(scope, integration["id"], wanted, back_to, None)
            code = "simulated_" + secrets.token_urlsafe(16)
            return f"{callback}?{urlencode({'code': code, 'state': state})}"
        cfg = connector_config(provider.spec)
        if not cfg.configured:
            raise Problem(
                409,
                f"{provider.spec.name} is not configured on this server: {cfg.configured_reason}",
            )
        verifier = secrets.token_urlsafe(64) if oauth.pkce else None
        state = await create_state(scope, integration["id"], wanted, back_to, verifier)
        params: dict[str, str] = dict(oauth.extra_authorize_params)
        params[oauth.scope_param] = oauth.scope_separator.join(wanted)
        async with build_client(oauth, cfg, callback, settings.http_timeout) as client:
            url, _ = client.create_authorization_url(
                cfg.authorize_url, state=state, code_verifier=verifier, **params
            )
        return str(url)

    # -- callback ------------------------------------------------------------------------
    async def complete(self, params: Mapping[str, str]) -> str:
        """Finish an authorization; returns where to send the browser. Raises StateError
        (400, nothing stored) when the state does not check out."""
        settings = get_settings()
        record = await consume_state(params.get("state", ""))
        scope = TenantScope(record["tenant"], actor="oauth-callback")
        try:
            row = await get(scope, str(record["integration"]))
        except Problem:
            # The cascade removes states with their integration, so this is a race at most.
            raise Problem(400, "The integration of this authorization no longer exists.") from None
        if row["status"] == "revoked":
            raise Problem(400, "The integration of this authorization was revoked.")
        back_to = record["return_url"] or default_return_url(settings, str(row["id"]))
        provider = get_provider(row["connector"])
        name = provider.spec.name
        error = params.get("error")
        code = params.get("code", "")
        if error or not code or len(code) > 2048:
            reason = safe_code(error) if error else "missing_code"
            words = reason_for(reason, name, oauth=provider.spec.oauth)
            await self._mark_failed(scope, row, reason, words)
            return with_params(back_to, oauth="error", error=reason, reason=words)
        try:
            token_set, config_add = await self._exchange(row, record, provider, code, settings)
        except TokenEndpointError as exc:
            words = exc.reason or reason_for(exc.code, name, exc.kind, provider.spec.oauth)
            await self._mark_failed(scope, row, exc.code, words)
            return with_params(back_to, oauth="error", error=exc.code, reason=words)
        await self._store_connected(scope, row, provider, token_set, config_add)
        return with_params(back_to, oauth="connected")

    async def _exchange(
        self,
        row: dict[str, Any],
        record: dict[str, Any],
        provider: Provider,
        code: str,
        settings: Settings,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        oauth = consent_spec(provider)
        requested = json_list(record["scopes"])
        if row["test_mode"]:
            token, had_refresh = simulated_token(provider)
            config_add = dict(provider.simulator.sample_config)
        else:
            cfg = connector_config(provider.spec)
            info = ResponseInfo()
            verifier = await open_verifier(record)
            async with build_client(
                oauth, cfg, redirect_uri(settings), settings.http_timeout, info
            ) as client:
                token = await exchange_code(client, oauth, cfg.token_url, code, verifier)
            had_refresh = info.had_refresh_token
            config_add = await consent_config(
                provider,
                token,
                get_client(settings.http_timeout),
                # Consent facts come from the operator's API, where the token was issued,
                # never from a tenant's override.
                cfg.api_base_url,
            )
        scopes = granted_scopes(token, requested)
        token_set = build_token_set(
            token,
            previous=None,
            rotating=oauth.rotating_refresh_tokens,
            had_refresh_token=had_refresh,
            scopes=scopes,
            user_token_path=oauth.user_token_path,
        )
        return token_set, config_add

    async def _mark_failed(
        self, scope: TenantScope, row: dict[str, Any], code: str, reason: str
    ) -> None:
        values: dict[Any, Any] = {IntegrationRow.updated_at: utc_now()}
        # A declined re-consent must not break a connection that still works.
        if row["status"] in ("pending", "error", "needs_reauth"):
            values.update(
                {
                    IntegrationRow.health_status: "auth_failed",
                    IntegrationRow.health_reason: reason,
                    IntegrationRow.health_checked_at: utc_now(),
                }
            )
        if row["status"] in ("pending", "error"):
            values[IntegrationRow.status] = "error"
        await scope.update(IntegrationRow, values).where(IntegrationRow.id == row["id"])
        await write_log(
            scope.tenant_id,
            row["id"],
            "oauth.failed",
            reason,
            level="warning",
            context={"error": code},
        )
        await write_audit(
            scope.tenant_id,
            scope.actor,
            "integration.oauth.failed",
            "integration",
            str(row["id"]),
            details={"error": code},
        )

    async def _store_connected(
        self,
        scope: TenantScope,
        row: dict[str, Any],
        provider: Provider,
        token_set: dict[str, Any],
        config_add: dict[str, Any],
    ) -> None:
        scopes = token_set["scope"].split()
        config = {**(row["config"] or {}), **config_add}
        stamp = utc_now()
        await scope.update(
            IntegrationRow,
            {
                IntegrationRow.credentials: await sealed.seal_credentials(
                    row["tenant"], row["id"], token_set
                ),
                IntegrationRow.token_expires_at: expiry_of(token_set),
                IntegrationRow.scopes: scopes,
                IntegrationRow.config: config,
                IntegrationRow.status: "connected",
                IntegrationRow.updated_at: stamp,
            },
        ).where(IntegrationRow.id == row["id"])
        await resolve_alerts(row["id"], REAUTH_ALERT)
        await write_log(
            scope.tenant_id,
            row["id"],
            "oauth.connected",
            f"Connected to {provider.spec.name} with scopes: {', '.join(scopes) or '(none)'}",
            context={"scopes": scopes, "expires_at": token_set.get("expires_at")},
        )
        await write_audit(
            scope.tenant_id,
            scope.actor,
            "integration.oauth.connect",
            "integration",
            str(row["id"]),
            details={"connector": provider.spec.key, "scopes": scopes},
        )
        connected = await get(scope, str(row["id"]))
        health = await run_health_check(provider, token_set, config, row["test_mode"])
        connected = await record_health(scope, connected, health)
        if webhook_registration.supported(provider):
            await webhook_registration.register(scope, connected)
        await write_log(
            scope.tenant_id,
            row["id"],
            "health.checked",
            f"health check: {health.status} — {health.reason}",
            level="info" if health.ok else "warning",
            context={"status": health.status},
        )

    # -- refresh -------------------------------------------------------------------------
    async def refresh(
        self, scope: TenantScope, integration: dict[str, Any], *, redis: Any = None
    ) -> dict[str, Any]:
        """Refresh the access token now; concurrent callers share one token request."""
        provider = get_provider(integration["connector"])
        spec = provider.spec
        if spec.oauth is None:
            raise Problem(
                409, f"{spec.name} does not use OAuth tokens; there is nothing to refresh."
            )
        if integration["status"] == "revoked":
            raise Problem(409, "A revoked integration has no tokens to refresh.")
        if integration["status"] == "pending":
            raise Problem(409, "The integration is waiting for its OAuth authorization.")
        if integration["status"] == "needs_reauth":
            raise ReauthRequired(spec.name)
        if spec.oauth.grant_type == "client_credentials":
            return await self._recheck_tenant_app(scope, integration, provider)
        credentials = await sealed.open_credentials(
            integration["tenant"], integration["id"], integration["credentials"]
        )
        if not credentials.get("refresh_token"):
            why = (
                "its access token does not expire"
                if not credentials.get("expires_at")
                else "the provider issued none"
            )
            raise Problem(
                409,
                f"This {spec.name} connection has no refresh token ({why}); reconnect to renew it.",
            )
        return await self._single_flight(scope, integration, provider, self.redis_for(redis))

    async def _single_flight(
        self, scope: TenantScope, integration: dict[str, Any], provider: Provider, redis: Any
    ) -> dict[str, Any]:
        """Take the integration's lock, or wait for whoever has it and use what they stored.

        `seen` is the sealed credentials the caller read: once they differ, someone else
        has refreshed since, and that token is the answer (no second token request).
        """
        seen = integration["credentials"]
        key = f"sb:oauth:refresh:{integration['id']}"
        failure_key = key + ":failed"
        lock = RedisLock(redis, key, ttl=LOCK_TTL)
        deadline = time.monotonic() + LOCK_WAIT
        while not await lock.try_acquire():
            try:
                await lock.wait_until_free(deadline)
            except LockTimeout:
                raise Problem(
                    503,
                    "Another refresh of this integration is still running; try again shortly.",
                    headers={"Retry-After": "5"},
                ) from None
            current = await get(scope, str(integration["id"]))
            if _credentials_changed(current, seen):
                return current
            if current["status"] == "needs_reauth":
                raise ReauthRequired(provider.spec.name)
            note = await redis.get(failure_key)
            if note:
                raise _unavailable(
                    provider.spec.name,
                    note.decode() if isinstance(note, bytes) else str(note),
                    None,
                )
        try:
            current = await get(scope, str(integration["id"]))
            if _credentials_changed(current, seen):
                return current
            if current["status"] == "needs_reauth":
                raise ReauthRequired(provider.spec.name)
            try:
                return await self._refresh_locked(scope, current, provider)
            except Problem as exc:
                if exc.status in (502, 503):
                    await redis.set(failure_key, exc.kind, px=FAILURE_NOTE_MS)
                raise
        finally:
            await lock.release()

    async def _refresh_locked(
        self, scope: TenantScope, row: dict[str, Any], provider: Provider
    ) -> dict[str, Any]:
        settings = get_settings()
        oauth = consent_spec(provider)
        name = provider.spec.name
        previous = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
        if row["test_mode"]:
            if await token_endpoint_fault(FaultOwner(row["tenant"], row["id"])):
                revoked = TokenEndpointError("invalid_grant", "invalid_grant")
                await self._refresh_failed(scope, row, name, revoked)
            token, had_refresh = simulated_token(provider)
        else:
            cfg = connector_config(provider.spec)
            info = ResponseInfo()
            try:
                async with build_client(
                    oauth, cfg, redirect_uri(settings), settings.http_timeout, info
                ) as client:
                    token = await refresh_grant(
                        client, oauth, cfg.token_url, str(previous["refresh_token"])
                    )
            except TokenEndpointError as exc:
                await self._refresh_failed(scope, row, name, exc)
            had_refresh = info.had_refresh_token
        scopes = granted_scopes(token, json_list(row["scopes"]))
        token_set = build_token_set(
            token,
            previous=previous,
            rotating=oauth.rotating_refresh_tokens,
            had_refresh_token=had_refresh,
            scopes=scopes,
            user_token_path=oauth.user_token_path,
        )
        # Compare-and-set on the credentials read under the lock: a reconnect that stored new
        # tokens meanwhile wins over this refresh.
        stored = await (
            scope.update(
                IntegrationRow,
                {
                    IntegrationRow.credentials: await sealed.seal_credentials(
                        row["tenant"], row["id"], token_set
                    ),
                    IntegrationRow.token_expires_at: expiry_of(token_set),
                    IntegrationRow.scopes: scopes,
                    IntegrationRow.updated_at: utc_now(),
                },
            )
            .where(
                (IntegrationRow.id == row["id"])
                & (IntegrationRow.credentials == row["credentials"])
            )
            .returning(IntegrationRow.id)
        )
        if not stored:
            await write_log(
                scope.tenant_id,
                row["id"],
                "oauth.refresh_discarded",
                "A refreshed token was discarded: the connection was re-authorized meanwhile.",
                level="warning",
            )
            return await get(scope, str(row["id"]))
        rotated = bool(
            had_refresh and token_set.get("refresh_token") != previous.get("refresh_token")
        )
        expires = expiry_of(token_set)
        await resolve_alerts(row["id"], REFRESH_FAILED_ALERT)
        await write_log(
            scope.tenant_id,
            row["id"],
            "oauth.refreshed",
            "Access token refreshed"
            + (f"; valid until {expires:%Y-%m-%d %H:%M} UTC" if expires else ""),
            context={"rotated_refresh_token": rotated, "expires_at": token_set.get("expires_at")},
        )
        await write_audit(
            scope.tenant_id,
            scope.actor,
            "integration.oauth.refresh",
            "integration",
            str(row["id"]),
            details={"rotated_refresh_token": rotated},
        )
        return await get(scope, str(row["id"]))

    async def _refresh_failed(
        self, scope: TenantScope, row: dict[str, Any], name: str, exc: TokenEndpointError
    ) -> NoReturn:
        """Record a failed refresh (never the token) and raise the matching problem."""
        if exc.kind == "invalid_grant":
            reason = (
                f"{name} no longer accepts the refresh token ({exc.code}); "
                "reconnect the integration."
            )
            await scope.update(
                IntegrationRow,
                {
                    IntegrationRow.status: "needs_reauth",
                    IntegrationRow.health_status: "auth_failed",
                    IntegrationRow.health_reason: reason,
                    IntegrationRow.health_checked_at: utc_now(),
                    IntegrationRow.updated_at: utc_now(),
                },
            ).where(IntegrationRow.id == row["id"])
            await open_alert(scope.tenant_id, row["id"], REAUTH_ALERT, reason, severity="critical")
            await write_log(
                scope.tenant_id,
                row["id"],
                "oauth.needs_reauth",
                reason,
                level="error",
                context={"error": exc.code},
            )
            raise ReauthRequired(name)
        if exc.kind == "rejected":
            reason = (
                f"{name} rejected the token refresh ({exc.code}); "
                "the operator should check the OAuth app."
            )
            await open_alert(scope.tenant_id, row["id"], REFRESH_FAILED_ALERT, reason)
            await write_log(
                scope.tenant_id,
                row["id"],
                "oauth.refresh_failed",
                reason,
                level="error",
                context={"error": exc.code},
            )
            raise Problem(502, reason)
        await write_log(
            scope.tenant_id,
            row["id"],
            "oauth.refresh_failed",
            f"{name} could not be reached to refresh the token ({exc.code}); will retry.",
            level="warning",
            context={"error": exc.code},
        )
        raise _unavailable(name, exc.code, exc.retry_after)

    async def _recheck_tenant_app(
        self, scope: TenantScope, row: dict[str, Any], provider: Provider
    ) -> dict[str, Any]:
        """client_credentials (PayPal): the adapter fetches a fresh app token on every use,
        so "refresh" means proving the tenant's app credentials still get one."""
        credentials = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
        health = await run_health_check(
            provider, credentials, row["config"] or {}, row["test_mode"]
        )
        updated = await record_health(scope, row, health)
        await write_log(
            scope.tenant_id,
            row["id"],
            "oauth.refreshed" if health.ok else "oauth.refresh_failed",
            f"app token check: {health.status} — {health.reason}",
            level="info" if health.ok else "warning",
            context={"status": health.status},
        )
        if health.status == "auth_failed":
            raise Problem(
                422,
                f"{provider.spec.name} rejected the app credentials: {health.reason}",
                kind="provider-rejected",
                title="The provider rejected the credentials",
            )
        return updated


def _unavailable(name: str, code: str, retry_after: float | None) -> Problem:
    return Problem(
        503,
        f"{name} could not be reached to refresh the token ({safe_code(code)}); try again shortly.",
        headers={"Retry-After": str(int(retry_after or 30))},
    )


_service: OAuthService | None = None


def get_oauth_flows(request: Request[Any, Any, Any] | None = None) -> OAuthService:
    """The process's OAuthService (the api's `oauth` dependency); in the api it borrows the
    app's Redis client so refresh locks share the app's pool."""
    global _service
    if _service is None:
        _service = OAuthService()
    if request is not None and _service._redis is None:
        redis = getattr(request.app.state, "redis", None)
        if redis is not None:
            _service.attach_redis(redis)
    return _service


async def with_fresh_token(
    scope: TenantScope,
    integration: dict[str, Any],
    call: Callable[[Adapter], Awaitable[T]],
    *,
    redis: Any = None,
    flows: OAuthService | None = None,
) -> T:
    """Run `call(adapter)` with the integration's current token; on a 401, refresh once
    (shared with any concurrent refresh) and retry with the new token.

        user = await with_fresh_token(scope, row, lambda a: a.call("GET", "/user"), redis=redis)

    A token already past its expiry is refreshed before the first call.
    """
    flows = flows or get_oauth_flows()
    provider = get_provider(integration["connector"])
    row = integration
    expires = row["token_expires_at"]
    if expires is not None and expires <= utc_now() + dt.timedelta(seconds=30):
        row = await flows.refresh(scope, row, redis=redis)
    adapter = await _adapter_for(provider, row)
    try:
        return await call(adapter)
    except ProviderError as exc:
        credentials = adapter.ctx.credentials
        if exc.status_code != 401 or not credentials.get("refresh_token"):
            raise
    row = await flows.refresh(scope, row, redis=redis)
    return await call(await _adapter_for(provider, row))


async def _adapter_for(provider: Provider, row: dict[str, Any]) -> Adapter:
    credentials = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
    owner = FaultOwner(row["tenant"], row["id"])
    return build_adapter(provider, credentials, row["config"] or {}, row["test_mode"], owner)
