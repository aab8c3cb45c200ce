"""REST routes for integrations, their logs, and the tenant's audit trail."""

from __future__ import annotations

from typing import Any, get_args

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import Provide
from litestar.params import Parameter

from backend.integrations import services
from backend.integrations.schemas import (
    AuditEntry,
    AuditPage,
    HealthCheck,
    Integration,
    IntegrationCreate,
    IntegrationCreated,
    IntegrationEnvelope,
    IntegrationPage,
    IntegrationUpdate,
    LogEntry,
    LogLevel,
    LogPage,
    Reconnect,
    Reconnected,
)
from backend.integrations.schemas import Health as HealthOut
from backend.integrations.tables import Integration as IntegrationRow
from backend.lib.bodies import strict_body
from backend.lib.pagination import (
    TEXT_PATTERN,
    choice_parameter,
    clamp_limit,
    cursor_parameter,
    filter_parameter,
    limit_parameter,
    paginate,
    parse_choice,
    parse_time,
    time_parameter,
)
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import IntegrationStatus
from backend.observability.logs import MAX_QUERY_LENGTH, filter_logs
from backend.observability.services import write_audit
from backend.observability.tables import AuditLog, IntegrationLog
from backend.tenants.services import TenantContext


def provide_scope(request: Request[TenantContext, Any, Any]) -> TenantScope:
    return TenantScope(request.user.tenant_id, request.user.actor)


def request_meta(request: Request[TenantContext, Any, Any]) -> services.RequestMeta:
    client = request.client.host if request.client else ""
    return services.RequestMeta(
        actor=request.user.actor, ip=client, user_agent=request.headers.get("user-agent", "")
    )


async def audit(
    request: Request[TenantContext, Any, Any],
    tenancy: TenantScope,
    action: str,
    target: tuple[str, str],
    details: dict[str, Any],
) -> None:
    """Record who did `action` to `target` (kind, id) and from where (GET /api/audit)."""
    meta = request_meta(request)
    await write_audit(
        tenancy.tenant_id,
        meta.actor,
        action,
        target[0],
        target[1],
        ip=meta.ip,
        user_agent=meta.user_agent,
        details=details,
    )


class IntegrationController(Controller):
    path = "/api/integrations"
    tags = ["integrations"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get("/", operation_id="list_integrations", summary="List the tenant's integrations")
    async def list_integrations(
        self,
        tenancy: TenantScope,
        connector_id: str | None = filter_parameter("Only this connector's integrations."),
        status: str | None = choice_parameter(
            tuple(IntegrationStatus), "Only integrations in this state."
        ),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> IntegrationPage:
        query = tenancy.select(IntegrationRow)
        if connector_id:
            query = query.where(IntegrationRow.connector == connector_id)
        if parse_choice("status", status, tuple(IntegrationStatus)):
            query = query.where(IntegrationRow.status == status)
        rows, next_cursor = await paginate(
            query, time_column="created_at", cursor=cursor, limit=clamp_limit(limit)
        )
        return IntegrationPage([await services.to_wire(r) for r in rows], next_cursor)

    @post("/", operation_id="create_integration", summary="Connect a connector", status_code=201)
    async def create_integration(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        data: IntegrationCreate,
        oauth: Any,
    ) -> IntegrationCreated:
        data = await strict_body(request, IntegrationCreate)
        created = await services.create(tenancy, data, request_meta(request), oauth)
        return IntegrationCreated(
            integration=await services.to_wire(created.row),
            authorization_url=created.authorization_url,
            webhook_signing_secret=created.signing_secret,
        )

    @get(
        "/{integration_id:str}",
        operation_id="get_integration",
        summary="One integration (never its secrets)",
    )
    async def get_integration(self, tenancy: TenantScope, integration_id: str) -> Integration:
        return await services.to_wire(await services.get(tenancy, integration_id))

    @patch(
        "/{integration_id:str}",
        operation_id="update_integration",
        summary="Rename, reconfigure, switch test mode, set a signing secret",
    )
    async def update_integration(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: IntegrationUpdate,
    ) -> Integration:
        data = await strict_body(request, IntegrationUpdate)
        row = await services.update(tenancy, integration_id, data, request_meta(request))
        return await services.to_wire(row)

    @post(
        "/{integration_id:str}/test",
        operation_id="test_integration",
        summary="Run the health check now",
        status_code=200,
    )
    async def test_integration(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        oauth: Any,
    ) -> HealthCheck:
        row, health = await services.test(tenancy, integration_id, request_meta(request), oauth)
        wire = await services.to_wire(row)
        return HealthCheck(wire, HealthOut(health.status, health.reason, wire.health.checked_at))

    @post(
        "/{integration_id:str}/refresh",
        operation_id="refresh_integration",
        summary="Refresh the OAuth token now",
        status_code=200,
    )
    async def refresh_integration(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        oauth: Any,
    ) -> IntegrationEnvelope:
        row = await services.get(tenancy, integration_id)
        refreshed = await oauth.refresh(tenancy, row)
        return IntegrationEnvelope(integration=await services.to_wire(refreshed))

    @post(
        "/{integration_id:str}/reconnect",
        operation_id="reconnect_integration",
        summary="Start a new OAuth consent (after needs_reauth, or for more scopes)",
        status_code=200,
    )
    async def reconnect_integration(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        oauth: Any,
        data: Reconnect | None = None,
    ) -> Reconnected:
        body: Reconnect = await strict_body(request, Reconnect | None) or Reconnect()
        row, url = await services.reconnect(
            tenancy,
            integration_id,
            list(body.scopes or []),
            body.return_url,
            request_meta(request),
            oauth,
        )
        return Reconnected(integration=await services.to_wire(row), authorization_url=url)

    @post(
        "/{integration_id:str}/revoke",
        operation_id="revoke_integration",
        summary="Revoke credentials and disable the webhook URL",
        status_code=200,
    )
    async def revoke_integration(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        oauth: Any,
    ) -> IntegrationEnvelope:
        row = await services.revoke(tenancy, integration_id, request_meta(request), oauth)
        return IntegrationEnvelope(integration=await services.to_wire(row))

    @delete(
        "/{integration_id:str}",
        operation_id="delete_integration",
        summary="Delete a revoked integration",
        status_code=204,
    )
    async def delete_integration(
        self, request: Request[TenantContext, Any, Any], tenancy: TenantScope, integration_id: str
    ) -> None:
        await services.delete(tenancy, integration_id, request_meta(request))

    @post(
        "/{integration_id:str}/webhook/rotate",
        operation_id="rotate_webhook_secret",
        summary="New webhook URL (and signing secret where we generate it)",
        status_code=200,
    )
    async def rotate_webhook_secret(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        oauth: Any,
    ) -> IntegrationEnvelope:
        row, secret = await services.rotate_webhook(
            tenancy, integration_id, request_meta(request), oauth
        )
        return IntegrationEnvelope(
            integration=await services.to_wire(row), webhook_signing_secret=secret
        )

    @post(
        "/{integration_id:str}/webhook/register",
        operation_id="register_webhook",
        summary="Register (or re-register) the webhook at the provider",
        description="For connectors whose provider API allows it (Telegram, GitHub, Stripe). "
        "The outcome is in `webhook_registration`; a provider refusal is recorded there, "
        "not raised. Other connectors answer 409: follow `setup_instructions`.",
        status_code=200,
    )
    async def register_webhook(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        oauth: Any,
    ) -> IntegrationEnvelope:
        row = await services.register_webhook(tenancy, integration_id, request_meta(request), oauth)
        return IntegrationEnvelope(integration=await services.to_wire(row))

    @get(
        "/{integration_id:str}/logs",
        operation_id="list_integration_logs",
        summary="The integration's log entries, newest first",
    )
    async def list_logs(
        self,
        tenancy: TenantScope,
        integration_id: str,
        level: str | None = choice_parameter(get_args(LogLevel), "Only entries of this level."),
        event: str | None = filter_parameter("Only entries of this event, e.g. oauth.refreshed."),
        since: str | None = time_parameter("Written at or after this instant."),
        until: str | None = time_parameter("Written before this instant."),
        q: str | None = Parameter(
            default=None,
            pattern=TEXT_PATTERN,
            max_length=MAX_QUERY_LENGTH,
            description="Only entries whose message or event contains this text "
            "(case-insensitive, taken literally: % and _ are not wildcards).",
        ),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> LogPage:
        written_from, written_before = parse_time("since", since), parse_time("until", until)
        row = await services.get(tenancy, integration_id)
        query = tenancy.select(IntegrationLog).where(IntegrationLog.integration == row["id"])
        if parse_choice("level", level, get_args(LogLevel)):
            query = query.where(IntegrationLog.level == level)
        query = filter_logs(query, event=event, since=written_from, until=written_before, text=q)
        rows, next_cursor = await paginate(
            query, time_column="created_at", cursor=cursor, limit=clamp_limit(limit)
        )
        return LogPage(
            [
                LogEntry(
                    str(r["id"]),
                    r["level"],
                    r["event"],
                    r["message"],
                    r["context"] or {},
                    r["trace_id"],
                    r["created_at"],
                )
                for r in rows
            ],
            next_cursor,
        )


class AuditController(Controller):
    path = "/api/audit"
    tags = ["audit"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get("/", operation_id="list_audit_entries", summary="The tenant's audit trail, newest first")
    async def list_audit(
        self,
        tenancy: TenantScope,
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> AuditPage:
        rows, next_cursor = await paginate(
            tenancy.select(AuditLog),
            time_column="created_at",
            cursor=cursor,
            limit=clamp_limit(limit),
        )
        return AuditPage(
            [
                AuditEntry(
                    str(r["id"]),
                    r["actor"],
                    r["action"],
                    r["target_type"],
                    r["target_id"],
                    r["ip"],
                    r["user_agent"],
                    r["details"] or {},
                    r["created_at"],
                )
                for r in rows
            ],
            next_cursor,
        )


__all__ = ["AuditController", "IntegrationController", "Response"]
