"""REST routes for a test-mode integration's runtime faults: set one, list them, clear them."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, put
from litestar.di import Provide

from backend.integrations import services
from backend.integrations.controllers import audit, provide_scope
from backend.lib.bodies import strict_body
from backend.lib.errors import Problem, validation_error
from backend.lib.tenancy import TenantScope
from backend.observability.services import write_log
from backend.tenants.services import TenantContext
from backend.testmode import faults as store
from backend.testmode.faults import Faults, FaultSet


async def _test_mode_row(tenancy: TenantScope, integration_id: str) -> dict[str, Any]:
    """The integration (404 for another tenant's, like a missing one); faults only ever
    touch a simulated provider, so a live integration answers 409."""
    row = await services.get(tenancy, integration_id)
    if not row["test_mode"]:
        raise Problem(
            409,
            "Faults can only be injected into a test-mode integration; "
            "switch test_mode on first (PATCH /api/integrations/{id}).",
        )
    return row


class FaultController(Controller):
    path = "/api/integrations/{integration_id:str}/faults"
    tags = ["test mode"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @put(
        "/",
        operation_id="set_faults",
        summary="Inject a provider fault into a test-mode integration",
        status_code=200,
    )
    async def set_faults(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: FaultSet,
    ) -> Faults:
        fault: FaultSet = await strict_body(request, FaultSet)
        if fault is None:
            raise validation_error("kind", "is required")
        row = await _test_mode_row(tenancy, integration_id)
        faults = await store.set_fault(row["id"], fault, request.app.state.redis)
        details = {"kind": fault.kind.value, "count": fault.count, "probability": fault.probability}
        await audit(
            request, tenancy, "integration.faults.set", ("integration", str(row["id"])), details
        )
        await write_log(
            tenancy.tenant_id,
            row["id"],
            "testmode.fault_set",
            f"test mode: the simulated provider will answer {fault.kind}",
            context=details,
        )
        return Faults(faults)

    @get("/", operation_id="list_faults", summary="The faults in force")
    async def list_faults(self, tenancy: TenantScope, integration_id: str) -> Faults:
        row = await _test_mode_row(tenancy, integration_id)
        return Faults(await store.list_faults(row["id"]))

    @delete("/", operation_id="clear_faults", summary="Clear every injected fault", status_code=200)
    async def clear_faults(
        self, request: Request[TenantContext, Any, Any], tenancy: TenantScope, integration_id: str
    ) -> Faults:
        row = await _test_mode_row(tenancy, integration_id)
        await store.clear_faults(row["id"], request.app.state.redis)
        await audit(
            request, tenancy, "integration.faults.clear", ("integration", str(row["id"])), {}
        )
        await write_log(
            tenancy.tenant_id,
            row["id"],
            "testmode.faults_cleared",
            "test mode: the simulated provider answers normally again",
        )
        return Faults([])
