"""REST routes of an integration's syncs: trigger, jobs, records, schedule (tenant-scoped)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from backend.integrations.controllers import audit, provide_scope
from backend.lib.bodies import strict_body
from backend.lib.pagination import (
    choice_parameter,
    clamp_limit,
    cursor_parameter,
    filter_parameter,
    limit_parameter,
    parse_choice,
)
from backend.lib.tenancy import TenantScope
from backend.syncs import schedules, services
from backend.syncs.schemas import (
    SyncedRecordPage,
    SyncJob,
    SyncJobPage,
    SyncJobResult,
    SyncRequest,
    SyncSchedule,
    SyncScheduleUpdate,
)
from backend.tenants.services import TenantContext


class SyncController(Controller):
    path = "/api/integrations/{integration_id:str}"
    tags = ["syncs"]
    dependencies = {"tenancy": Provide(provide_scope, sync_to_thread=False)}

    @post(
        "/sync",
        operation_id="trigger_sync",
        summary="Sync one stream now (full, incremental or a backfill window)",
        description="Queues a job for the worker: 202 with it. A stream has at most one "
        "queued or running job: asking again answers 200 with that job. 409 for a stream "
        "the connector does not have, a stream with no pull API (the detail says why), a "
        "mode the stream does not support, or an integration that is not connected "
        "(revoked, needs_reauth). A backfill needs `since` (RFC 3339) and reads "
        "[since, until), `until` defaulting to now; it never moves the incremental cursor.",
        status_code=202,
        responses={200: ResponseSpec(data_container=SyncJobResult, description="Already live")},
    )
    async def trigger_sync(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: SyncRequest,
    ) -> Response[SyncJobResult]:
        body: SyncRequest = await strict_body(request, SyncRequest)
        job, created = await services.trigger(
            tenancy, integration_id, body, request.app.state.redis
        )
        if created:
            details = {"integration_id": str(job["integration"]), "stream": job["stream"]}
            details["mode"] = job["mode"]
            await audit(request, tenancy, "sync.triggered", ("sync_job", str(job["id"])), details)
        return Response(
            SyncJobResult(services.to_wire(job)),
            status_code=202 if created else 200,
            headers={"Location": services.job_path(job)},
        )

    @get(
        "/sync-jobs",
        operation_id="list_sync_jobs",
        summary="Sync jobs of the integration, newest first",
    )
    async def list_sync_jobs(
        self,
        tenancy: TenantScope,
        integration_id: str,
        stream: str | None = filter_parameter("Only jobs of this stream."),
        status: str | None = choice_parameter(services.JOB_STATUSES, "Only jobs in this state."),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> SyncJobPage:
        rows, next_cursor = await services.list_jobs(
            tenancy,
            integration_id,
            stream=stream,
            status=parse_choice("status", status, services.JOB_STATUSES),
            limit=clamp_limit(limit),
            cursor=cursor,
        )
        return SyncJobPage([services.to_wire(r) for r in rows], next_cursor)

    @get("/sync-jobs/{job_id:str}", operation_id="get_sync_job", summary="One sync job")
    async def get_sync_job(self, tenancy: TenantScope, integration_id: str, job_id: str) -> SyncJob:
        return services.to_wire(await services.get_job(tenancy, integration_id, job_id))

    @post(
        "/sync-jobs/{job_id:str}/cancel",
        operation_id="cancel_sync_job",
        summary="Cancel a queued or running sync job",
        description="A running job stops at its next page: what it committed stays. "
        "Cancelling a cancelled job answers it again; 409 once it succeeded or failed.",
        status_code=200,
    )
    async def cancel_sync_job(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        job_id: str,
    ) -> SyncJobResult:
        job, cancelled = await services.cancel_job(tenancy, integration_id, job_id)
        if cancelled:
            details = {"integration_id": str(job["integration"]), "stream": job["stream"]}
            await audit(request, tenancy, "sync.cancelled", ("sync_job", str(job["id"])), details)
        return SyncJobResult(services.to_wire(job))

    @get(
        "/records",
        operation_id="list_synced_records",
        summary="Records the integration's syncs stored, newest first",
        description="Ordered by when each record was first seen. Deleted records (the "
        "provider deleted them, or a full sync no longer saw them) only with "
        "`include_deleted=true`.",
    )
    async def list_records(
        self,
        tenancy: TenantScope,
        integration_id: str,
        stream: str | None = filter_parameter("Only records of this stream."),
        include_deleted: bool = Parameter(
            default=False, description="Also list records marked deleted."
        ),
        limit: int = limit_parameter(),
        cursor: str | None = cursor_parameter(),
    ) -> SyncedRecordPage:
        rows, next_cursor = await services.list_records(
            tenancy,
            integration_id,
            stream=stream,
            include_deleted=include_deleted,
            limit=clamp_limit(limit),
            cursor=cursor,
        )
        return SyncedRecordPage([services.record_to_wire(r) for r in rows], next_cursor)

    @get(
        "/schedule",
        operation_id="get_sync_schedule",
        summary="Which streams sync on their own, how often, and whether that is paused",
    )
    async def get_schedule(self, tenancy: TenantScope, integration_id: str) -> SyncSchedule:
        return await schedules.get_schedule(tenancy, integration_id)

    @put(
        "/schedule",
        operation_id="update_sync_schedule",
        summary="Change the sync schedule, or pause and resume automatic syncs",
        description='Given fields replace, absent ones stay: `{"paused": true}` pauses '
        "scheduled and webhook-triggered syncs (manual ones still run); `streams` "
        "replaces the set (`{}`: nothing scheduled). 422 names each stream the connector "
        "cannot sync that way.",
    )
    async def update_schedule(
        self,
        request: Request[TenantContext, Any, Any],
        tenancy: TenantScope,
        integration_id: str,
        data: SyncScheduleUpdate,
    ) -> SyncSchedule:
        body: SyncScheduleUpdate = await strict_body(request, SyncScheduleUpdate)
        schedule = await schedules.update_schedule(tenancy, integration_id, body)
        changes = msgspec.to_builtins(body)
        await audit(
            request, tenancy, "sync.schedule_updated", ("integration", integration_id), changes
        )
        return schedule
