"""REST routes of an integration's outbound actions and their runs (tenant-scoped)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from backend.actions import runner, services
from backend.actions.jobs import RUN_ACTION_JOB, job_id
from backend.actions.schemas import ActionOutcome, ActionRequest, ActionRun, ActionRunPage
from backend.actions.vocab import ActionRunStatus
from backend.integrations.controllers import provide_scope
from backend.lib.bodies import strict_body
from backend.lib.pagination import (
    choice_parameter,
    clamp_limit,
    cursor_parameter,
    filter_parameter,
    limit_parameter,
    parse_choice,
)
from backend.lib.queue import FastEnqueuer
from backend.lib.tenancy import TenantScope
from backend.oauth.services import get_oauth_flows
from backend.settings import get_settings
from backend.tenants.services import TenantContext

_ACTION = r"^[a-z][a-z0-9_]{0,63}$"


class ActionController(Controller):
    path = "/api/integrations/{integration_id:str}/actions"
    tags = ["actions"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @post(
        "/{action_name:str}",
        operation_id="run_action",
        summary="Call one of the connector's actions (send, post, create) with this integration",
        description="The input is checked against the action's JSON Schema (GET "
        "/api/connectors/{id} lists them; 422 names each failing field by JSON pointer). "
        "The same `idempotency_key` within 24 h answers the first call again without "
        "calling the provider. With `?async=true` the call is queued: 202 with the run to "
        "poll at GET .../actions/runs/{run_id}.",
        status_code=200,
        responses={
            202: ResponseSpec(
                data_container=ActionRun, description="Queued (`?async=true`): poll the run"
            )
        },
    )
    async def run_action(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: ActionRequest,
        action_name: str = Parameter(pattern=_ACTION, description="The action's name."),
        run_async: bool = Parameter(
            query="async", default=False, description="Queue the call and answer 202 at once."
        ),
    ) -> Response[ActionOutcome]:
        body: ActionRequest = await strict_body(request, ActionRequest)
        target = await services.resolve(tenancy, integration_id, action_name)
        services.check_connected(target)
        services.validate_input(target.action, body.input)
        services.check_scopes(target)
        run, created = await services.claim(
            tenancy, target, body.input, body.idempotency_key, queued=run_async
        )
        if run_async:
            if created:
                redis = request.app.state.redis
                enqueuer = FastEnqueuer(redis, get_settings().queue_name)
                await enqueuer.enqueue(RUN_ACTION_JOB, str(run["id"]), job_id=job_id(run["id"]))
            location = services.run_path(run)
            return Response(
                services.to_wire(run),  # type: ignore[arg-type]
                status_code=202,
                headers={"Location": location},
            )
        if not created:
            return Response(services.answer(await services.await_first(tenancy, run)))
        finished = await runner.execute(
            tenancy,
            target,
            run,
            body.input,
            redis=request.app.state.redis,
            flows=get_oauth_flows(request),
            time_budget=runner.SYNC_TIME_BUDGET_SECONDS,
        )
        return Response(services.answer(finished))

    @get(
        "/runs",
        operation_id="list_action_runs",
        summary="Past and pending action calls, newest first (inputs redacted)",
    )
    async def list_runs(
        self,
        tenancy: TenantScope,
        integration_id: str,
        action: str | None = filter_parameter("Only runs of this action."),
        status: str | None = choice_parameter(tuple(ActionRunStatus), "Only runs in this state."),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> ActionRunPage:
        rows, next_cursor = await services.list_runs(
            tenancy,
            integration_id,
            action=action,
            status=parse_choice("status", status, tuple(ActionRunStatus)),
            limit=clamp_limit(limit),
            cursor=cursor,
        )
        return ActionRunPage([services.to_wire(r) for r in rows], next_cursor)

    @get("/runs/{run_id:str}", operation_id="get_action_run", summary="One action run")
    async def get_run(self, tenancy: TenantScope, integration_id: str, run_id: str) -> ActionRun:
        return services.to_wire(await services.get_run(tenancy, integration_id, run_id))
