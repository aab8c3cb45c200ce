"""REST routes for metrics (per integration, the tenant's summary), health from evidence,
alerts, and the operator's Prometheus scrape endpoint."""

from __future__ import annotations

import hmac
from typing import Any, get_args

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter

from backend.integrations import services as integrations
from backend.lib.clock import utc_now
from backend.lib.errors import Problem
from backend.lib.pagination import (
    choice_parameter,
    clamp_limit,
    cursor_parameter,
    limit_parameter,
    paginate,
    parse_choice,
)
from backend.lib.tenancy import TenantScope
from backend.observability import health, queries
from backend.observability.export import export, refresh_token_expiry
from backend.observability.schemas import (
    AlertEntry,
    AlertPage,
    AlertStatus,
    HealthReason,
    IntegrationHealth,
    IntegrationMetrics,
    MetricsSummary,
    MetricWindow,
)
from backend.observability.tables import Alert
from backend.settings import Settings
from backend.tenants.services import TenantContext

_WINDOWS: tuple[str, ...] = get_args(MetricWindow)
_PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def provide_scope(request: Request[TenantContext, Any, Any]) -> TenantScope:
    return TenantScope(request.user.tenant_id, request.user.actor)


def window_parameter() -> Any:
    # Typed `str` and checked by parse_choice: a bad window is a 400 problem naming it.
    return Parameter(
        default="24h",
        schema_extra={"enum": list(_WINDOWS)},
        description="How far back: 1h (5-minute steps), 24h (hourly), 7d (6-hour steps).",
    )


def _window(value: str) -> MetricWindow:
    parse_choice("window", value, _WINDOWS)
    return value  # type: ignore[return-value]


class MetricsController(Controller):
    path = "/api"
    tags = ["metrics"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get(
        "/integrations/{integration_id:str}/metrics",
        operation_id="get_integration_metrics",
        summary="An integration's counters and latencies over a window",
    )
    async def integration_metrics(
        self, tenancy: TenantScope, integration_id: str, window: str = window_parameter()
    ) -> IntegrationMetrics:
        chosen = _window(window)
        row = await integrations.get(tenancy, integration_id)
        return await queries.integration_metrics(tenancy.tenant_id, row["id"], chosen, utc_now())

    @get(
        "/metrics/summary",
        operation_id="get_metrics_summary",
        summary="The tenant's counters over a window, in total and per integration",
    )
    async def summary(
        self, tenancy: TenantScope, window: str = window_parameter()
    ) -> MetricsSummary:
        return await queries.tenant_summary(tenancy.tenant_id, _window(window), utc_now())


def _alert(row: dict[str, Any]) -> AlertEntry:
    return AlertEntry(
        id=str(row["id"]),
        integration_id=str(row["integration"]),
        kind=row["kind"],
        severity=row["severity"],
        status=row["status"],
        message=row["message"],
        opened_at=row["opened_at"],
        resolved_at=row["resolved_at"],
        acknowledged_at=row["acknowledged_at"],
    )


class HealthController(Controller):
    path = "/api/integrations"
    tags = ["alerts"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get(
        "/{integration_id:str}/health",
        operation_id="get_integration_health",
        summary="The integration's health from evidence, with the reasons",
    )
    async def integration_health(
        self, tenancy: TenantScope, integration_id: str
    ) -> IntegrationHealth:
        row = await integrations.get(tenancy, integration_id)
        now = utc_now()
        evidence = await health.gather(tenancy.tenant_id, row["id"], now)
        if evidence is None:
            raise Problem(404, "The integration does not exist.")
        state, findings = health.assess(evidence, now)
        return IntegrationHealth(
            state=state,  # type: ignore[arg-type]
            reasons=[HealthReason(code=f.code, message=f.message) for f in findings],
            assessed_at=now,
        )


class AlertController(Controller):
    path = "/api/alerts"
    tags = ["alerts"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @get("/", operation_id="list_alerts", summary="The tenant's alerts, newest first")
    async def list_alerts(
        self,
        tenancy: TenantScope,
        status: str | None = choice_parameter(get_args(AlertStatus), "Only alerts in this state."),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> AlertPage:
        query = tenancy.select(Alert)
        if parse_choice("status", status, get_args(AlertStatus)):
            query = query.where(Alert.status == status)
        rows, next_cursor = await paginate(
            query, time_column="opened_at", cursor=cursor, limit=clamp_limit(limit)
        )
        return AlertPage(items=[_alert(r) for r in rows], next_cursor=next_cursor)

    @post(
        "/{alert_id:str}/ack",
        operation_id="ack_alert",
        summary="Acknowledge an alert (it stays open until its rule resolves it)",
        status_code=200,
    )
    async def ack_alert(self, tenancy: TenantScope, alert_id: str) -> AlertEntry:
        row = await tenancy.get(Alert, alert_id, "alert")
        if row["acknowledged_at"] is None:
            await tenancy.update(
                Alert, {Alert.acknowledged_at: utc_now(), Alert.acknowledged_by: tenancy.actor}
            ).where(Alert.id == row["id"])
            row = await tenancy.get(Alert, alert_id, "alert")
        return _alert(row)


@get("/metrics", include_in_schema=False, opt={"exclude_from_auth": True})
async def prometheus_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus scrape endpoint for the operator: 404 unless enabled with a token (so it
    does not reveal itself), 401 without that token. Tenant API keys do not open it."""
    settings: Settings = request.app.state.settings
    if not settings.metrics_enabled or not settings.metrics_token:
        raise Problem(404, "The requested resource does not exist.")
    sent = request.headers.get("authorization", "")
    expected = f"Bearer {settings.metrics_token}"
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Problem(
            401,
            "The operator's metrics token is required.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    await refresh_token_expiry()
    return Response(export().render(), media_type=_PROMETHEUS_TEXT)
