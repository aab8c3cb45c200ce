"""REST routes for metrics: per integration, the tenant's summary, and the operator's
Prometheus scrape endpoint."""

from __future__ import annotations

import hmac
from typing import Any, get_args

from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import Parameter

from backend.integrations import services as integrations
from backend.lib.clock import utc_now
from backend.lib.errors import Problem
from backend.lib.pagination import parse_choice
from backend.lib.tenancy import TenantScope
from backend.observability import queries
from backend.observability.export import export
from backend.observability.schemas import IntegrationMetrics, MetricsSummary, MetricWindow
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
    return Response(export().render(), media_type=_PROMETHEUS_TEXT)
