"""Worker job: run a queued action run (`?async=true`) with the api's own code.

The job carries only the run id; the input waits sealed in the run row. A run is claimed by
moving it from queued to running in one statement, so a job delivered twice acts once.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from backend.actions import runner, services
from backend.actions.tables import ActionRun
from backend.actions.vocab import ActionRunStatus
from backend.lib.errors import Problem
from backend.lib.tenancy import TenantScope
from backend.tenants.vault import get_vault

log = logging.getLogger("switchboard.worker.actions")

RUN_ACTION_JOB = "run_action"


def job_id(run_id: uuid.UUID | str) -> str:
    return f"action:{run_id}"


async def run_action(ctx: dict[str, Any], run_id: str) -> str:
    """Run one queued action run; returns its final status."""
    claimed = await (
        ActionRun.update({ActionRun.status: ActionRunStatus.RUNNING})
        .where((ActionRun.id == uuid.UUID(run_id)) & (ActionRun.status == ActionRunStatus.QUEUED))
        .returning(ActionRun.tenant)
    )
    if not claimed:
        return "skipped"  # ran already, or gone with its integration
    scope = TenantScope(claimed[0]["tenant"], "system")
    run = await scope.get(ActionRun, run_id, "action run")
    scope = TenantScope(run["tenant"], run["actor"] or "system")
    data = await get_vault().open_json(
        str(run["tenant"]), bytes(run["input_sealed"]), services.input_record(run["id"])
    )
    try:
        target = await services.resolve(scope, str(run["integration"]), run["action"])
        services.check_connected(target)
        services.check_scopes(target)
    except Problem as exc:  # the integration changed since the call was accepted
        await runner.fail(scope, run, exc.detail)
        return str(ActionRunStatus.FAILED)
    finished = await runner.execute(scope, target, run, data, redis=ctx.get("redis"))
    log.info("action run %s %s", run_id, finished["status"])
    return str(finished["status"])


FUNCTIONS = [run_action]
