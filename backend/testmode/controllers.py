"""REST routes of test mode: simulate webhooks through the real path, purge what it left."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Controller, Request, post
from litestar.di import Provide

from backend.integrations.controllers import provide_scope, request_meta
from backend.lib.bodies import strict_body
from backend.lib.tenancy import TenantScope
from backend.tenants.services import TenantContext
from backend.testmode import services
from backend.testmode.schemas import SimulateRequest, SimulationResult, TestDataPurged

#: `app.state` key of the transport simulate sends through; unset, it goes over loopback to
#: the api's own address (tests set an ASGI transport to the app).
LOOPBACK_TRANSPORT = "loopback_transport"


class TestModeController(Controller):
    path = "/api/integrations/{integration_id:str}"
    tags = ["test mode"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @post(
        "/simulate",
        operation_id="simulate_webhooks",
        summary="Send simulated provider webhooks through the integration's real webhook URL",
        description="Generates realistic deliveries of the connector's event types (its "
        "catalog entry lists them), signs them as the provider would with the integration's "
        "current secret and sends them to its own webhook URL: verification, dedupe, storage, "
        "normalization and mapping run for real, and each delivery's `status` is what that "
        "endpoint answered. Without `event_type` the deliveries cycle through every type. "
        "Variants: `duplicate` sends each delivery twice; `bad_signature` signs with a wrong "
        "secret; `stale` signs a time beyond the provider's window (422 for providers that "
        "sign no time); `out_of_order` sends newest first. Stored events are flagged "
        "`simulated` (live integrations too) and can be filtered out or purged.",
        status_code=202,
    )
    async def simulate_webhooks(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: SimulateRequest | None = None,
    ) -> SimulationResult:
        body: SimulateRequest = await strict_body(request, SimulateRequest | None) or (
            SimulateRequest()
        )
        transport: httpx.AsyncBaseTransport | None = getattr(
            request.app.state, LOOPBACK_TRANSPORT, None
        )
        return await services.simulate(
            tenancy,
            integration_id,
            body,
            request_meta(request),
            request.app.state.settings,
            transport,
        )

    @post(
        "/test-data/purge",
        operation_id="purge_test_data",
        summary="Delete the integration's simulated events and log entries, nothing else",
        status_code=200,
    )
    async def purge_test_data(
        self, request: Request[TenantContext, Any, Any], tenancy: TenantScope, integration_id: str
    ) -> TestDataPurged:
        return await services.purge(tenancy, integration_id, request_meta(request))
