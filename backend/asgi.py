"""The Litestar application: routes, auth, problem details, tracing, lifespan.

`create_app()` is the only way the api is built — by the server (`switchboard api`), the
tests and the benchmarks alike.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from backend.lib import db, http
from backend.lib.errors import exception_handlers
from backend.lib.json_logs import configure_json_logging
from backend.lib.openapi import AllowHeaderMiddleware, finish_document
from backend.lib.queue import FastEnqueuer
from backend.lib.redis import connect as connect_redis
from backend.lib.telemetry import redact_request_span, setup_tracing, span_details
from backend.observability import recorder as metrics_recorder
from backend.settings import Settings, get_settings
from backend.system.controllers import health, ready
from backend.tenants.auth import ApiKeyAuthMiddleware
from backend.tenants.controllers import me
from backend.tenants.vault import init_vault
from backend.webhooks.fastpath import WebhookFastPath
from backend.webhooks.ingest import Ingestor

log = logging.getLogger("switchboard.api")


def route_handlers() -> list[Any]:
    from backend.actions.controllers import ActionController
    from backend.catalog.controllers import ConnectorController
    from backend.integrations.controllers import AuditController, IntegrationController
    from backend.mappings.controllers import MappingController
    from backend.oauth.controllers import oauth_callback
    from backend.observability.controllers import (
        AlertController,
        HealthController,
        MetricsController,
        prometheus_metrics,
    )
    from backend.syncs.controllers import SyncController
    from backend.testmode.controllers import TestModeController
    from backend.testmode.fault_controllers import FaultController
    from backend.webhooks.controllers import EventController, WebhookReceiver

    return [
        health,
        ready,
        me,
        ConnectorController,
        IntegrationController,
        AuditController,
        MappingController,
        ActionController,
        SyncController,
        EventController,
        WebhookReceiver,
        oauth_callback,
        TestModeController,
        FaultController,
        MetricsController,
        HealthController,
        AlertController,
        prometheus_metrics,
    ]


def create_app(settings: Settings | None = None) -> WebhookFastPath:
    settings = settings or get_settings()
    provider = setup_tracing(settings.otel_service_name, settings.otel_endpoint)
    init_vault(settings.master_keys)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # A second app in the same process (tests) shares the pool the first one opened.
        owns_pool = db.engine().pool is None
        if owns_pool:
            await db.open_pool(settings.db_pool_size, min_size=0)  # starts with PostgreSQL down
        app.state.redis = connect_redis(settings.redis_url, settings.queue_name)
        app.state.settings = settings
        app.state.ingestor = Ingestor(settings, FastEnqueuer(app.state.redis, settings.queue_name))
        http.get_client(settings.http_timeout)
        metrics_recorder.install(settings.otel_service_name)
        try:
            yield
        finally:
            await app.state.ingestor.drain()
            await metrics_recorder.close()
            await app.state.redis.aclose()
            if owns_pool:
                await http.close_client()
                await db.close_pool()

    openapi = OpenAPIConfig(
        title="Switchboard API",
        version="0.1.0",
        description="Connect tenants to third-party services. Errors are RFC 9457 problems.",
        path="/schema",
        render_plugins=[ScalarRenderPlugin(), SwaggerRenderPlugin(path="/swagger")],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(type="http", scheme="bearer", description="Tenant API key")
            }
        ),
        security=[{"apiKey": []}],
    )
    from backend.oauth.services import get_oauth_flows

    app = Litestar(
        route_handlers=route_handlers(),
        dependencies={"oauth": Provide(get_oauth_flows, sync_to_thread=False)},
        lifespan=[lifespan],
        exception_handlers=exception_handlers(),
        middleware=[
            DefineMiddleware(ApiKeyAuthMiddleware, rate_limit_per_minute=settings.api_rate_limit),
            AllowHeaderMiddleware(),
        ],
        plugins=[
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    tracer_provider=provider,
                    exclude_spans=["receive", "send"],
                    # Deliveries get one manual span in webhooks/fastpath.py instead.
                    exclude=["^/api/webhooks/"],
                    scope_span_details_extractor=span_details,
                    server_request_hook_handler=redact_request_span,
                )
            )
        ],
        openapi_config=openapi,
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=[settings.dashboard_url], allow_credentials=False),
        debug=False,
    )
    finish_document(app)
    return WebhookFastPath(app, settings.max_body_bytes)


def app() -> WebhookFastPath:
    """Factory for ASGI servers (`granian --factory backend.asgi:app`)."""
    configure_json_logging(get_settings().log_level)
    return create_app()
