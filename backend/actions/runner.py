"""Running one claimed action run against the provider, as syncs call providers: transient
failures (rate limits, 5xx, network) retried with exponential backoff and jitter, honouring
Retry-After, within an attempts and a time budget; a refused token refreshed once, then
`needs_reauth`; anything else fails the run with the provider's own (secret-free) message.

Every run is logged on the integration, audited, metered and traced (ids only, never input
values).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from opentelemetry import trace

from backend.actions.redaction import redact_response
from backend.actions.services import Target
from backend.actions.tables import ActionRun
from backend.actions.vocab import ActionRunStatus
from backend.connectors.actions import ActionCall, ActionResult
from backend.connectors.base import ProviderError
from backend.integrations import provider_calls
from backend.integrations.provider_calls import RETRIED, RefreshFailed, backoff_seconds
from backend.lib.clock import utc_now
from backend.lib.errors import Problem
from backend.lib.telemetry import tracer
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import FailureKind
from backend.oauth.services import OAuthService, ReauthRequired
from backend.observability.recorder import record_action
from backend.observability.services import write_audit, write_log

MAX_ATTEMPTS = 4
# Retries stop when the next wait would pass the budget: a caller waiting on the HTTP answer
# gets it within seconds (a longer Retry-After fails the run at once, saying the wait); a
# queued run may wait longer.
SYNC_TIME_BUDGET_SECONDS = 8.0
TIME_BUDGET_SECONDS = 60.0


class _Finished(Exception):
    """Ends the attempt loop with the run's final state."""

    def __init__(self, status: ActionRunStatus, kind: str, message: str, attempts: int) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message
        self.attempts = attempts


async def execute(
    scope: TenantScope,
    target: Target,
    run: dict[str, Any],
    data: dict[str, Any],
    *,
    redis: Any = None,
    flows: OAuthService | None = None,
    time_budget: float = TIME_BUDGET_SECONDS,
) -> dict[str, Any]:
    """Run the action for a claimed run and store its outcome; returns the finished run."""
    attributes = {
        "switchboard.tenant_id": str(scope.tenant_id),
        "switchboard.integration_id": str(target.integration["id"]),
        "switchboard.connector": target.provider.key,
        "switchboard.action": target.action.name,
        "switchboard.action_run_id": str(run["id"]),
    }
    started = time.monotonic()
    with tracer().start_as_current_span("action.run", attributes=attributes) as span:
        attempts = 0
        outcome: ActionResult | None = None
        try:
            outcome, attempts = await _attempts(
                scope, target, run, data, started + time_budget, redis, flows
            )
        except _Finished as finished:
            status, kind, error = finished.status, finished.kind, finished.message
            attempts = finished.attempts
        else:
            status, kind, error = ActionRunStatus.SUCCEEDED, "", ""
        span.set_attribute("switchboard.action_status", str(status))
        span.set_attribute("switchboard.attempts", attempts)
        if status != ActionRunStatus.SUCCEEDED:
            span.set_status(trace.Status(trace.StatusCode.ERROR, kind or "failed"))
        return await _store(scope, target, run, status, kind, error, outcome, attempts, started)


async def _attempts(
    scope: TenantScope,
    target: Target,
    run: dict[str, Any],
    data: dict[str, Any],
    deadline: float,
    redis: Any,
    flows: OAuthService | None,
) -> tuple[ActionResult, int]:
    row = target.integration
    refreshed = False
    attempt = 0
    call = ActionCall(input=data, idempotency_key=run["idempotency_key"])
    while True:
        attempt += 1
        try:
            row = await provider_calls.fresh_row(scope, target.provider, row, redis, flows)
            adapter = await provider_calls.adapter_for(target.provider, row)
            return await target.action.run(adapter, call), attempt
        except ProviderError as exc:
            if exc.kind == FailureKind.AUTH_FAILED:
                if refreshed or not provider_calls.refreshable(target.provider, row):
                    await _mark_needs_reauth(scope, target, exc.message)
                    raise _finished(ActionRunStatus.NEEDS_REAUTH, exc, attempt) from None
                refreshed = True
                row = await _refresh(scope, target, row, redis, flows, attempt)
                continue
            if exc.kind not in RETRIED or attempt >= MAX_ATTEMPTS:
                raise _finished(ActionRunStatus.FAILED, exc, attempt) from None
            delay = backoff_seconds(attempt, exc.retry_after)
            if time.monotonic() + delay > deadline:
                raise _finished(ActionRunStatus.FAILED, exc, attempt) from None
            await write_log(
                scope.tenant_id,
                row["id"],
                "action.retry",
                f"{target.action.name}: {exc.kind}, attempt {attempt} of {MAX_ATTEMPTS}; "
                f"retrying in {delay:.1f} s",
                level="warning",
                context={"run_id": str(run["id"]), "kind": str(exc.kind)},
            )
            await asyncio.sleep(delay)
        except ReauthRequired as exc:  # the refresh before the call met a revoked grant
            raise _Finished(
                ActionRunStatus.NEEDS_REAUTH, FailureKind.AUTH_FAILED, exc.detail, attempt
            ) from None
        except Problem as exc:  # a refresh before the call could not be made
            raise _Finished(
                ActionRunStatus.FAILED, FailureKind.PROVIDER_DOWN, exc.detail, attempt
            ) from None
        except (KeyError, ValueError, TypeError) as exc:
            # An answer without the documented fields: the run fails, never a 500.
            message = f"unexpected answer from the provider ({type(exc).__name__})"
            raise _Finished(
                ActionRunStatus.FAILED, FailureKind.PROVIDER_DOWN, message, attempt
            ) from None


def _finished(status: ActionRunStatus, exc: ProviderError, attempt: int) -> _Finished:
    message = exc.message
    if exc.kind == FailureKind.RATE_LIMITED and exc.retry_after:
        message = f"{message}; retry after {exc.retry_after:g} s"
    return _Finished(status, str(exc.kind), message, attempt)


async def _refresh(
    scope: TenantScope,
    target: Target,
    row: dict[str, Any],
    redis: Any,
    flows: OAuthService | None,
    attempt: int,
) -> dict[str, Any]:
    """One refresh after the provider refused the token (shared with concurrent ones)."""
    try:
        return await provider_calls.refresh_refused_token(
            scope, target.provider, row, target.action.name, redis, flows
        )
    except RefreshFailed as exc:
        if exc.needs_reauth:
            raise _Finished(
                ActionRunStatus.NEEDS_REAUTH, FailureKind.AUTH_FAILED, exc.message, attempt
            ) from None
        raise _Finished(
            ActionRunStatus.FAILED, FailureKind.PROVIDER_DOWN, exc.message, attempt
        ) from None


async def _mark_needs_reauth(scope: TenantScope, target: Target, reason: str) -> None:
    await provider_calls.mark_needs_reauth(
        scope,
        target.provider,
        target.integration["id"],
        reason,
        target.action.name,
        {"action": target.action.name},
    )


async def _store(
    scope: TenantScope,
    target: Target,
    run: dict[str, Any],
    status: ActionRunStatus,
    kind: str,
    error: str,
    outcome: ActionResult | None,
    attempts: int,
    started: float,
) -> dict[str, Any]:
    duration_ms = int((time.monotonic() - started) * 1000)
    values: dict[Any, Any] = {
        ActionRun.status: status,
        ActionRun.error: error[:2000],
        ActionRun.error_kind: kind,
        ActionRun.attempts: attempts,
        ActionRun.duration_ms: duration_ms,
        ActionRun.finished_at: utc_now(),
        ActionRun.input_sealed: None,
    }
    if outcome is not None:
        values[ActionRun.result] = redact_response(target.action, outcome.result)
        values[ActionRun.provider_response] = redact_response(
            target.action, outcome.provider_response
        )
    await scope.update(ActionRun, values).where(ActionRun.id == run["id"])
    name, integration_id = target.action.name, target.integration["id"]
    context = {
        "action": name,
        "run_id": str(run["id"]),
        "status": str(status),
        "attempts": attempts,
        "duration_ms": duration_ms,
        "kind": kind,
    }
    record_action(scope.tenant_id, integration_id, target.provider.key)
    ok = status == ActionRunStatus.SUCCEEDED
    await write_log(
        scope.tenant_id,
        integration_id,
        f"action.{status}",
        f"{name} {status} after {attempts} attempt(s)" + ("" if ok else f": {error}"),
        level="info" if ok else "warning",
        context=context,
    )
    await write_audit(
        scope.tenant_id,
        run["actor"] or scope.actor,
        f"action.{name}",
        "integration",
        str(integration_id),
        details=context,
    )
    return await scope.get(ActionRun, run["id"], "action run")


async def fail(scope: TenantScope, run: dict[str, Any], reason: str) -> None:
    """Fail a queued run before any provider call (its integration changed meanwhile)."""
    await scope.update(
        ActionRun,
        {
            ActionRun.status: ActionRunStatus.FAILED,
            ActionRun.error: reason[:2000],
            ActionRun.error_kind: FailureKind.MISCONFIGURED,
            ActionRun.finished_at: utc_now(),
            ActionRun.input_sealed: None,
        },
    ).where(ActionRun.id == run["id"])
    await write_log(
        scope.tenant_id,
        run["integration"],
        "action.failed",
        f"{run['action']} failed before calling the provider: {reason}",
        level="warning",
        context={"action": run["action"], "run_id": str(run["id"])},
    )
