"""The integration lifecycle: connect (API key), test, update, revoke, delete, rotate.

Services take a `TenantScope` and plain values, so the api, the worker and the CLI share
them. OAuth's authorization step lives in `backend.oauth` and is handed in by the caller
(`OAuthFlows`), keeping imports pointing one way.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from piccolo.columns import Column
from piccolo.table import Table

from backend.connectors.base import HealthResult
from backend.connectors.config import api_host_allowed, connector_config, env_name
from backend.connectors.registry import Provider, get_provider
from backend.integrations import secrets as sealed
from backend.integrations import webhook_registration as registration
from backend.integrations.adapters import build_adapter, run_health_check
from backend.integrations.schemas import (
    Account,
    Health,
    Integration,
    IntegrationCreate,
    IntegrationUpdate,
    WebhookRegistration,
)
from backend.integrations.tables import Integration as IntegrationRow
from backend.lib import tokens
from backend.lib.clock import utc_now
from backend.lib.errors import FieldError, Problem, not_found, validation_error
from backend.lib.http import UnsafeURLError, check_public_url
from backend.lib.pagination import paginate
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import HealthStatus, IntegrationStatus, WebhookRegistrationStatus
from backend.observability.services import write_audit, write_log
from backend.settings import Settings, get_settings
from backend.testmode.faults import FaultOwner


@dataclass(frozen=True, slots=True)
class RequestMeta:
    """Who is acting and from where, for the audit trail."""

    actor: str
    ip: str = ""
    user_agent: str = ""


class OAuthFlows(Protocol):
    def validate(self, provider: Provider, scopes: list[str], return_url: str | None) -> None: ...

    async def begin(
        self,
        scope: TenantScope,
        integration: dict[str, Any],
        provider: Provider,
        scopes: list[str],
        return_url: str | None,
    ) -> str: ...

    async def refresh(self, scope: TenantScope, integration: dict[str, Any]) -> dict[str, Any]: ...


async def _audit(
    scope: TenantScope, meta: RequestMeta, action: str, target_id: str, details: dict[str, Any]
) -> None:
    await write_audit(
        scope.tenant_id,
        meta.actor,
        action,
        "integration",
        target_id,
        ip=meta.ip,
        user_agent=meta.user_agent,
        details=details,
    )


# -- reading ------------------------------------------------------------------------------


async def to_wire(row: dict[str, Any], settings: Settings | None = None) -> Integration:
    settings = settings or get_settings()
    url = None
    instructions = ""
    if row["status"] != IntegrationStatus.REVOKED:
        token = await sealed.open_token(row["tenant"], row["id"], row["webhook_token_sealed"])
        if token:
            url = registration.webhook_url(settings, row["connector"], token)
    try:
        spec = get_provider(row["connector"]).spec
    except KeyError:
        spec = None
    if url and spec is not None and spec.webhook is not None:
        instructions = spec.webhook.setup_instructions.replace("{webhook_url}", url)
    return Integration(
        id=str(row["id"]),
        connector_id=row["connector"],
        name=row["name"],
        status=row["status"],
        test_mode=row["test_mode"],
        health=Health(row["health_status"], row["health_reason"], row["health_checked_at"]),
        account=Account(row["account_id"], row["account_name"]) if row["account_id"] else None,
        webhook_url=url,
        setup_instructions=instructions,
        scopes=list(row["scopes"] or []),
        config=_public_config(sealed.masked_config(spec, row["config"] or {})),
        webhook_registration=_registration_to_wire(row),
        token_expires_at=row["token_expires_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        revoked_at=row["revoked_at"],
    )


def _registration_to_wire(row: dict[str, Any]) -> WebhookRegistration | None:
    value = registration.recorded(row)
    if value is None:
        return None
    at, expires_at = value.get("at"), value.get("expires_at")
    return WebhookRegistration(
        status=WebhookRegistrationStatus(str(value.get("status"))),
        reason=str(value.get("reason", "")),
        provider_id=value.get("provider_id"),
        at=dt.datetime.fromisoformat(at) if isinstance(at, str) else None,
        expires_at=dt.datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else None,
    )


def _public_config(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if not k.startswith("_")}


async def get(scope: TenantScope, integration_id: str) -> dict[str, Any]:
    return await scope.get(IntegrationRow, integration_id, "integration")


def check_connected(integration: dict[str, Any]) -> None:
    """Only a connected integration syncs or acts; anything else is 409 saying what to do."""
    status = integration["status"]
    if status == IntegrationStatus.CONNECTED:
        return
    advice = {
        IntegrationStatus.PENDING: "finish connecting it first",
        IntegrationStatus.NEEDS_REAUTH: "reconnect it (POST /api/integrations/{id}/reconnect)",
        IntegrationStatus.ERROR: "test or fix its credentials first",
        IntegrationStatus.REVOKED: "it is revoked for good",
    }.get(status, "connect it first")
    raise Problem(
        409,
        f"The integration is {status}, not connected: " + advice.format(id=integration["id"]),
        kind="not-connected",
        title="Integration not connected",
    )


async def get_child(
    scope: TenantScope, integration_id: str, table: type[Table], row_id: str, what: str
) -> dict[str, Any]:
    """A row that belongs to one integration (a sync job, an action run), in the caller's
    tenant; 404 when it belongs to another integration, so ids are not guessable across them."""
    integration = await get(scope, integration_id)
    row = await scope.get(table, row_id, what)
    if row["integration"] != integration["id"]:
        raise not_found(what)
    return row


async def list_children(
    scope: TenantScope,
    integration_id: str,
    table: type[Table],
    *,
    filters: Iterable[tuple[Column, str | None]],
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One integration's rows of `table`, newest first a page at a time; a filter whose value
    is empty is not applied."""
    integration = await get(scope, integration_id)
    query = scope.select(table).where(
        table._meta.get_column_by_name("integration") == integration["id"]
    )
    for column, value in filters:
        if value:
            query = query.where(column == value)
    return await paginate(query, time_column="created_at", cursor=cursor, limit=limit)


# -- validation ---------------------------------------------------------------------------


def _provider_or_422(connector_id: str, settings: Settings) -> Provider:
    try:
        provider = get_provider(connector_id)
    except KeyError:
        raise validation_error("connector_id", f"unknown connector {connector_id!r}") from None
    if connector_id in settings.disabled_connectors:
        raise validation_error("connector_id", f"connector {connector_id!r} is disabled")
    return provider


def validate_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise validation_error("name", "must be 1 to 200 characters")
    return name


def validate_credentials(provider: Provider, credentials: dict[str, Any] | None) -> dict[str, str]:
    """Check credentials against the spec's fields; every problem is reported at its field."""
    fields = {f.name: f for f in provider.spec.credential_fields}
    given = credentials or {}
    errors: list[FieldError] = []
    clean: dict[str, str] = {}
    for name in given:
        if name not in fields:
            errors.append(FieldError(f"credentials.{name}", "is not a field of this connector"))
    for name, f in fields.items():
        value = given.get(name)
        if value is None or value == "":
            if f.required:
                errors.append(FieldError(f"credentials.{name}", "is required"))
            continue
        if not isinstance(value, str):
            errors.append(FieldError(f"credentials.{name}", "must be a string"))
            continue
        value = value.strip()
        if f.pattern and not re.fullmatch(f.pattern, value):
            errors.append(
                FieldError(
                    f"credentials.{name}", f"does not match the expected format of {f.label}"
                )
            )
            continue
        clean[name] = value
    if errors:
        raise Problem(422, "; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    return clean


async def validate_config(
    provider: Provider, config: dict[str, Any] | None, settings: Settings
) -> dict[str, Any]:
    config = dict(config or {})
    for key in list(config):
        if key.startswith("_"):
            raise validation_error(f"config.{key}", "names starting with _ are reserved")
    if not isinstance(config.get("register_webhook", False), bool):
        raise validation_error("config.register_webhook", "must be true or false")
    base = config.get("api_base_url")
    if base is not None:
        if not provider.spec.api_base_overridable:
            raise validation_error(
                "config.api_base_url", "this connector's API base cannot be changed"
            )
        if not isinstance(base, str):
            raise validation_error("config.api_base_url", "must be a string")
        operator = connector_config(provider.spec)
        if not api_host_allowed(operator, base):
            allowed = ", ".join(operator.allowed_api_hosts) or "none"
            raise validation_error(
                "config.api_base_url",
                f"this server allows these API hosts for {provider.spec.name}: {allowed} "
                f"(the operator sets {env_name(provider.spec.key, 'ALLOWED_API_HOSTS')})",
            )
        try:
            # Answers the tenant early; every call is checked again when it connects.
            await check_public_url(base, settings.allowed_private_hosts)
        except UnsafeURLError as exc:
            raise validation_error("config.api_base_url", str(exc)) from None
    return config


# -- lifecycle ----------------------------------------------------------------------------


@dataclass(slots=True)
class Created:
    row: dict[str, Any]
    signing_secret: str | None
    authorization_url: str | None


async def create(
    scope: TenantScope, data: IntegrationCreate, meta: RequestMeta, oauth: OAuthFlows
) -> Created:
    settings = get_settings()
    provider = _provider_or_422(data.connector_id, settings)
    spec = provider.spec
    name = validate_name(data.name)
    config = await validate_config(provider, data.config, settings)
    is_redirect_oauth = (
        spec.auth_type == "oauth2"
        and spec.oauth is not None
        and spec.oauth.grant_type == "authorization_code"
    )
    if is_redirect_oauth:
        if data.credentials:
            raise validation_error(
                "credentials", "this connector connects through OAuth; send no credentials"
            )
        cfg = connector_config(spec)
        if not cfg.configured and not data.test_mode:
            raise Problem(
                409, f"{spec.name} is not configured on this server: {cfg.configured_reason}"
            )
        oauth.validate(provider, list(data.scopes or []), data.return_url)
        credentials: dict[str, str] = {}
    else:
        if data.scopes:
            raise validation_error("scopes", "only OAuth connectors take scopes")
        if data.return_url:
            raise validation_error("return_url", "only OAuth connectors take a return URL")
        credentials = validate_credentials(provider, data.credentials)

    signing_secret, generated = _initial_signing_secret(provider, data.webhook_signing_secret)

    health: HealthResult | None = None
    if not is_redirect_oauth:
        health = await run_health_check(provider, credentials, config, data.test_mode)
        if not health.ok:
            _raise_for_health(spec.name, health)

    integration_id = uuid.uuid4()
    token = tokens.random_token(32)
    stamp = utc_now()
    row = scope.new(
        IntegrationRow,
        id=integration_id,
        connector=spec.key,
        name=name,
        status=IntegrationStatus.PENDING if is_redirect_oauth else IntegrationStatus.CONNECTED,
        test_mode=data.test_mode,
        credentials=await sealed.seal_credentials(scope.tenant_id, integration_id, credentials)
        if credentials
        else None,
        config=await sealed.seal_config(scope.tenant_id, integration_id, spec, config),
        scopes=[],
        webhook_token_hash=tokens.hash_token(token),
        webhook_token_sealed=await sealed.seal_token(scope.tenant_id, integration_id, token),
        webhook_secrets=await sealed.seal_signing_secrets(
            scope.tenant_id,
            integration_id,
            [sealed.SigningSecret(signing_secret)] if signing_secret else [],
        ),
        **_account_columns(health),
        health_status=health.status if health else HealthStatus.UNKNOWN,
        health_reason=health.reason if health else "waiting for the OAuth authorization",
        health_checked_at=stamp if health else None,
        created_at=stamp,
        updated_at=stamp,
    )
    async with IntegrationRow._meta.db.transaction():
        await IntegrationRow.insert(row)
        await _audit(
            scope,
            meta,
            "integration.create",
            str(integration_id),
            {"connector": spec.key, "name": name, "test_mode": data.test_mode},
        )
        await write_log(
            scope.tenant_id,
            integration_id,
            "integration.created",
            f"{spec.name} integration created" + (" (test mode)" if data.test_mode else ""),
            context={"status": row.status},
        )
    stored = await get(scope, str(integration_id))
    authorization_url = None
    if is_redirect_oauth:
        authorization_url = await oauth.begin(
            scope, stored, provider, list(data.scopes or []), data.return_url
        )
    elif registration.supported(provider):
        stored = await registration.register(scope, stored)
    return Created(stored, signing_secret if generated else None, authorization_url)


def _initial_signing_secret(provider: Provider, supplied: str | None) -> tuple[str | None, bool]:
    webhook = provider.spec.webhook
    if webhook is None or webhook.signing_secret_source in ("none", "credentials"):
        if supplied:
            raise validation_error(
                "webhook_signing_secret", "this connector does not take a signing secret"
            )
        return None, False
    if webhook.signing_secret_source == "generated":
        if supplied:
            raise validation_error(
                "webhook_signing_secret", "Switchboard generates this connector's signing secret"
            )
        return sealed.generate_signing_secret(provider.spec), True
    if supplied is not None:
        supplied = supplied.strip()
        if not 1 <= len(supplied) <= 512:
            raise validation_error("webhook_signing_secret", "must be 1 to 512 characters")
    return supplied or None, False


def _raise_for_health(name: str, health: HealthResult) -> None:
    if health.status == HealthStatus.AUTH_FAILED:
        raise Problem(
            422,
            f"{name} rejected the credentials: {health.reason}",
            kind="provider-rejected",
            title="The provider rejected the credentials",
        )
    if health.status == HealthStatus.RATE_LIMITED:
        headers = {"Retry-After": str(int(health.retry_after or 60))}
        raise Problem(503, f"{name} is rate limiting us; try again later.", headers=headers)
    raise Problem(502, f"Could not verify the credentials with {name}: {health.reason}")


async def reconnect(
    scope: TenantScope,
    integration_id: str,
    scopes: list[str],
    return_url: str | None,
    meta: RequestMeta,
    oauth: OAuthFlows,
) -> tuple[dict[str, Any], str]:
    """A fresh authorization for an OAuth integration (after needs_reauth, or to add scopes);
    the current tokens keep working until the new consent completes."""
    row = await get(scope, integration_id)
    if row["status"] == IntegrationStatus.REVOKED:
        raise Problem(409, "A revoked integration cannot be reconnected; create a new one.")
    provider = get_provider(row["connector"])
    oauth_spec = provider.spec.oauth
    if oauth_spec is None or oauth_spec.grant_type != "authorization_code":
        raise Problem(409, f"{provider.spec.name} does not connect through an OAuth consent.")
    oauth.validate(provider, scopes, return_url)
    url = await oauth.begin(scope, row, provider, scopes, return_url)
    await _audit(scope, meta, "integration.reconnect", str(row["id"]), {"scopes": scopes})
    return await get(scope, integration_id), url


async def update(
    scope: TenantScope, integration_id: str, data: IntegrationUpdate, meta: RequestMeta
) -> dict[str, Any]:
    row = await get(scope, integration_id)
    if row["status"] == IntegrationStatus.REVOKED:
        raise Problem(409, "A revoked integration cannot be changed.")
    provider = get_provider(row["connector"])
    values: dict[Any, Any] = {IntegrationRow.updated_at: utc_now()}
    changed: list[str] = []
    if data.name is not None:
        values[IntegrationRow.name] = validate_name(data.name)
        changed.append("name")
    if data.config is not None:
        values[IntegrationRow.config] = await _patched_config(provider, row, data.config)
        changed.append("config")
    if data.test_mode is not None:
        values[IntegrationRow.test_mode] = data.test_mode
        changed.append("test_mode")
    if data.webhook_signing_secret is not None:
        webhook = provider.spec.webhook
        if webhook is None or webhook.signing_secret_source != "user":
            raise validation_error(
                "webhook_signing_secret", "this connector's signing secret is not supplied by you"
            )
        secret, _ = _initial_signing_secret(provider, data.webhook_signing_secret)
        current = await sealed.open_signing_secrets(
            row["tenant"], row["id"], row["webhook_secrets"]
        )
        values[IntegrationRow.webhook_secrets] = await sealed.seal_signing_secrets(
            row["tenant"], row["id"], sealed.rotate(current, secret or "")
        )
        changed.append("webhook_signing_secret")
    async with IntegrationRow._meta.db.transaction():
        await scope.update(IntegrationRow, values).where(IntegrationRow.id == row["id"])
        await _audit(scope, meta, "integration.update", str(row["id"]), {"changed": changed})
        await write_log(
            scope.tenant_id,
            row["id"],
            "integration.updated",
            "settings changed: " + ", ".join(changed) if changed else "nothing changed",
        )
    return await get(scope, integration_id)


async def _patched_config(
    provider: Provider, row: dict[str, Any], patch: dict[str, Any]
) -> dict[str, Any]:
    """`config` in PATCH is a JSON merge patch (RFC 7396, top level): given keys replace,
    null removes, absent keys stay — so facts learned at consent (Slack team, Jira cloud id)
    and what Switchboard recorded (reserved `_` keys) survive an edit."""
    for key in patch:
        if key.startswith("_"):
            raise validation_error(f"config.{key}", "names starting with _ are reserved")
    current = sealed.masked_config(provider.spec, row["config"] or {})
    reserved = {k: v for k, v in current.items() if k.startswith("_")}
    merged = {k: v for k, v in current.items() if not k.startswith("_")}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    validated = {**await validate_config(provider, merged, get_settings()), **reserved}
    return await sealed.seal_config(
        row["tenant"], row["id"], provider.spec, validated, row["config"] or {}
    )


def _account_columns(health: HealthResult | None) -> dict[str, str]:
    """The provider account a successful health check named (`details["account"]`), as the
    integration's columns; nothing when it named none, so a known account is kept."""
    account = health.details.get("account") if health is not None and health.ok else None
    if not isinstance(account, dict):
        return {}
    account_id, name = account.get("id"), account.get("name")
    # PostgreSQL text cannot hold U+0000: such an id names no account we could route by.
    if not isinstance(account_id, str) or not account_id or "\x00" in account_id:
        return {}
    name = name.replace("\x00", "") if isinstance(name, str) else ""
    return {"account_id": account_id[:255], "account_name": name[:255]}


async def record_health(
    scope: TenantScope, row: dict[str, Any], health: HealthResult
) -> dict[str, Any]:
    values: dict[Any, Any] = {
        IntegrationRow.health_status: health.status,
        IntegrationRow.health_reason: health.reason,
        IntegrationRow.health_checked_at: utc_now(),
        IntegrationRow.updated_at: utc_now(),
    }
    for column, value in _account_columns(health).items():
        values[getattr(IntegrationRow, column)] = value
    if row["status"] in (IntegrationStatus.CONNECTED, IntegrationStatus.ERROR):
        values[IntegrationRow.status] = (
            IntegrationStatus.CONNECTED
            if health.ok
            else (
                IntegrationStatus.ERROR
                if health.status != HealthStatus.RATE_LIMITED
                else row["status"]
            )
        )
    await scope.update(IntegrationRow, values).where(IntegrationRow.id == row["id"])
    return await get(scope, str(row["id"]))


async def test(
    scope: TenantScope, integration_id: str, meta: RequestMeta, oauth: OAuthFlows | None = None
) -> tuple[dict[str, Any], HealthResult]:
    row = await get(scope, integration_id)
    if row["status"] == IntegrationStatus.REVOKED:
        raise Problem(409, "A revoked integration has no credentials to test.")
    if row["status"] == IntegrationStatus.PENDING:
        raise Problem(409, "The integration is waiting for its OAuth authorization.")
    provider = get_provider(row["connector"])
    credentials = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
    health = await _check_health(provider, row, credentials)
    if health.status == HealthStatus.AUTH_FAILED and oauth and credentials.get("refresh_token"):
        # A rejected access token may only have expired: refresh once, as any provider call
        # does (with_fresh_token), then check again. A revoked grant ends in needs_reauth.
        try:
            row = await oauth.refresh(scope, row)
        except Problem as exc:
            health = HealthResult(False, HealthStatus.AUTH_FAILED, exc.detail)
            row = await get(scope, integration_id)
        else:
            credentials = await sealed.open_credentials(
                row["tenant"], row["id"], row["credentials"]
            )
            health = await _check_health(provider, row, credentials)
    updated = await record_health(scope, row, health)
    await _audit(scope, meta, "integration.test", str(row["id"]), {"result": health.status})
    await write_log(
        scope.tenant_id,
        row["id"],
        "health.checked",
        f"health check: {health.status} — {health.reason}",
        level="info" if health.ok else "warning",
        context={"status": health.status},
    )
    return updated, health


async def _check_health(
    provider: Provider, row: dict[str, Any], credentials: dict[str, Any]
) -> HealthResult:
    owner = FaultOwner(row["tenant"], row["id"])
    return await run_health_check(
        provider, credentials, row["config"] or {}, row["test_mode"], owner
    )


async def revoke(
    scope: TenantScope,
    integration_id: str,
    meta: RequestMeta,
    oauth: registration.TokenRefresher | None = None,
) -> dict[str, Any]:
    row = await get(scope, integration_id)
    if row["status"] == IntegrationStatus.REVOKED:
        return row
    provider = get_provider(row["connector"])
    revoked_at_provider = False
    note = "the provider offers no revocation; credentials destroyed here"
    config = dict(row["config"] or {})
    config.pop(sealed.SEALED_CONFIG, None)  # destroyed with the other secrets
    # The webhook goes first: removing it needs the credentials revocation destroys.
    removal = await registration.unregister(scope, row, oauth)
    if removal is not None:
        config[registration.KEY] = removal
    if row["credentials"]:
        credentials = await sealed.open_credentials(row["tenant"], row["id"], row["credentials"])
        try:
            revoked_at_provider = await build_adapter(
                provider, credentials, row["config"] or {}, row["test_mode"]
            ).revoke()
            if revoked_at_provider:
                note = "revoked at the provider"
        except Exception as exc:
            note = f"revocation at the provider failed ({type(exc).__name__}); destroyed here"
    stamp = utc_now()
    async with IntegrationRow._meta.db.transaction():
        await scope.update(
            IntegrationRow,
            {
                IntegrationRow.status: IntegrationStatus.REVOKED,
                IntegrationRow.credentials: None,
                IntegrationRow.webhook_token_hash: None,
                IntegrationRow.webhook_token_sealed: None,
                IntegrationRow.webhook_secrets: None,
                IntegrationRow.token_expires_at: None,
                IntegrationRow.health_status: HealthStatus.REVOKED,
                IntegrationRow.health_reason: note,
                IntegrationRow.health_checked_at: stamp,
                IntegrationRow.revoked_at: stamp,
                IntegrationRow.updated_at: stamp,
                IntegrationRow.config: config,
            },
        ).where(IntegrationRow.id == row["id"])
        await _audit(
            scope,
            meta,
            "integration.revoke",
            str(row["id"]),
            {"revoked_at_provider": revoked_at_provider},
        )
        if removal is not None:
            await registration.log_outcome(scope, row, removal)
        await write_log(scope.tenant_id, row["id"], "integration.revoked", note)
    return await get(scope, integration_id)


async def delete(scope: TenantScope, integration_id: str, meta: RequestMeta) -> None:
    row = await get(scope, integration_id)
    if row["status"] != IntegrationStatus.REVOKED:
        raise Problem(409, "Revoke the integration before deleting it.")
    async with IntegrationRow._meta.db.transaction():
        await scope.delete(IntegrationRow).where(IntegrationRow.id == row["id"])
        await _audit(
            scope,
            meta,
            "integration.delete",
            str(row["id"]),
            {"connector": row["connector"], "name": row["name"]},
        )


async def rotate_webhook(
    scope: TenantScope,
    integration_id: str,
    meta: RequestMeta,
    oauth: registration.TokenRefresher | None = None,
) -> tuple[dict[str, Any], str | None]:
    """New path token (the old URL stops at once) and, where we generate it, a new signing
    secret; the previous secret keeps verifying during the overlap window. Where we
    registered the webhook at the provider, it is pointed at the new URL and secret."""
    row = await get(scope, integration_id)
    if row["status"] == IntegrationStatus.REVOKED:
        raise Problem(409, "A revoked integration has no webhook URL.")
    provider = get_provider(row["connector"])
    token = tokens.random_token(32)
    values: dict[Any, Any] = {
        IntegrationRow.webhook_token_hash: tokens.hash_token(token),
        IntegrationRow.webhook_token_sealed: await sealed.seal_token(
            row["tenant"], row["id"], token
        ),
        IntegrationRow.updated_at: utc_now(),
    }
    new_secret = None
    webhook = provider.spec.webhook
    if webhook is not None and webhook.signing_secret_source == "generated":
        new_secret = sealed.generate_signing_secret(provider.spec)
        current = await sealed.open_signing_secrets(
            row["tenant"], row["id"], row["webhook_secrets"]
        )
        values[IntegrationRow.webhook_secrets] = await sealed.seal_signing_secrets(
            row["tenant"], row["id"], sealed.rotate(current, new_secret)
        )
    async with IntegrationRow._meta.db.transaction():
        await scope.update(IntegrationRow, values).where(IntegrationRow.id == row["id"])
        await _audit(
            scope,
            meta,
            "integration.webhook.rotate",
            str(row["id"]),
            {"new_signing_secret": new_secret is not None},
        )
        await write_log(
            scope.tenant_id,
            row["id"],
            "webhook.rotated",
            "webhook URL rotated" + (" and signing secret" if new_secret else ""),
        )
    rotated = await get(scope, integration_id)
    if registration.supported(provider) and rotated["status"] in (
        IntegrationStatus.CONNECTED,
        IntegrationStatus.ERROR,
    ):
        rotated = await registration.register(scope, rotated, oauth)
    return rotated, new_secret


async def register_webhook(
    scope: TenantScope,
    integration_id: str,
    meta: RequestMeta,
    oauth: registration.TokenRefresher | None = None,
) -> dict[str, Any]:
    row = await get(scope, integration_id)
    registered = await registration.register(scope, row, oauth)
    outcome = registration.recorded(registered) or {}
    await _audit(
        scope,
        meta,
        "integration.webhook.register",
        str(row["id"]),
        {"outcome": outcome.get("status")},
    )
    return registered
