"""Calling an integration's outbound action: resolve it, check the integration, its input and
scopes, claim the idempotency key, run it (see `runner.py`) and answer like the first call.

Every query goes through the caller's `TenantScope`. The api runs calls inline (or queues
them with `?async=true`); the worker's `run_action` job runs queued ones with the same code.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import msgspec
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from backend.actions import schemas
from backend.actions.redaction import redact_input
from backend.actions.tables import ActionRun
from backend.actions.vocab import FINISHED, ActionRunStatus
from backend.connectors.actions import Action
from backend.connectors.registry import Provider, get_provider
from backend.integrations import services as integrations
from backend.lib.clock import utc_now
from backend.lib.errors import FieldError, Problem
from backend.lib.tenancy import TenantScope
from backend.lib.vocab import FailureKind
from backend.tenants.vault import get_vault

IDEMPOTENCY_WINDOW = dt.timedelta(hours=24)
# A repeated key waits this long for a first call still running, then answers 409.
WAIT_FOR_FIRST_SECONDS = 5.0
_POLL_SECONDS = 0.1
_MAX_FIELD_ERRORS = 20


@dataclass(frozen=True, slots=True)
class Target:
    """The integration row, its provider and the action being called."""

    integration: dict[str, Any]
    provider: Provider
    action: Action


def input_record(run_id: uuid.UUID | str) -> str:
    """The vault record a queued run's input is sealed under (bound to the run)."""
    return f"action_run:{run_id}:input"


# -- checks ------------------------------------------------------------------------------


async def resolve(scope: TenantScope, integration_id: str, action_name: str) -> Target:
    """The integration (404 when not this tenant's) and its connector's action (404)."""
    row = await integrations.get(scope, integration_id)
    provider = get_provider(row["connector"])
    action = provider.actions.get(action_name)
    if action is None:
        raise Problem(
            404,
            f"{provider.spec.name} has no action {action_name!r}; "
            f"GET /api/connectors/{provider.key} lists its actions.",
        )
    return Target(row, provider, action)


def check_connected(target: Target) -> None:
    """Only a connected integration acts; anything else is 409 saying what to do."""
    integrations.check_connected(target.integration)


def _pointer(parts: Any) -> str:
    """An RFC 6901 JSON pointer under `/input`."""
    escaped = (str(p).replace("~", "~0").replace("/", "~1") for p in parts)
    return "/input" + "".join("/" + p for p in escaped)


def _field_errors(error: ValidationError) -> list[FieldError]:
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [n for n in error.validator_value if n not in error.instance]
        return [FieldError(_pointer([*path, n]), "is required") for n in missing]
    return [FieldError(_pointer(path), error.message[:300])]


def validate_input(action: Action, data: dict[str, Any]) -> None:
    """422 naming each failing field by JSON pointer (`/input/to`) when the input breaks
    the action's schema."""
    validator = Draft202012Validator(action.input_schema, format_checker=FormatChecker())
    errors: dict[str, FieldError] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        for item in _field_errors(error):
            errors.setdefault(item.field, item)
    if errors:
        named = list(errors.values())[:_MAX_FIELD_ERRORS]
        detail = "; ".join(f"{e.field}: {e.message}" for e in named)
        raise Problem(422, detail[:2000], errors=named)


def check_scopes(target: Target) -> None:
    """403 naming the first missing scope and how to reconnect with it (OAuth connectors)."""
    spec = target.provider.spec
    if spec.oauth is None:
        return
    granted = {str(s) for s in target.integration["scopes"] or []}
    for group in target.action.required_scopes:
        if granted.isdisjoint(group):
            wanted = " or ".join(group)
            body = msgspec.json.encode({"scopes": [group[0]]}).decode()
            raise Problem(
                403,
                f"{target.action.name} needs the {spec.name} scope {wanted}, which this "
                f"connection was not granted; reconnect with it: POST /api/integrations/"
                f"{target.integration['id']}/reconnect with {body}.",
                kind="missing-scope",
                title="Missing scope",
                errors=[FieldError("scopes", f"missing {wanted}")],
            )


def request_hash(action: Action, data: dict[str, Any]) -> str:
    """The call's fingerprint: a key reused for a different call is refused, not replayed."""
    canonical = msgspec.json.encode([action.name, data], order="sorted")
    return hashlib.sha256(canonical).hexdigest()


# -- claiming a run ------------------------------------------------------------------------


async def claim(
    scope: TenantScope,
    target: Target,
    data: dict[str, Any],
    key: str | None,
    *,
    queued: bool,
) -> tuple[dict[str, Any], bool]:
    """Insert the run, or find the one holding the same idempotency key (within 24 h).

    Returns (run row, created). The unique index on (integration, idempotency_key) decides
    concurrent claims: exactly one insert wins, the others read the winner's row. A key older
    than the window is released first, so it starts a new run."""
    integration_id = target.integration["id"]
    if key is not None:
        await scope.update(ActionRun, {ActionRun.idempotency_key: None}).where(
            (ActionRun.integration == integration_id)
            & (ActionRun.idempotency_key == key)
            & (ActionRun.created_at < utc_now() - IDEMPOTENCY_WINDOW)
        )
    run_id = uuid.uuid4()
    fingerprint = request_hash(target.action, data)
    sealed = (
        await get_vault().seal_json(str(scope.tenant_id), data, input_record(run_id))
        if queued
        else None
    )
    inserted = await ActionRun.raw(
        "INSERT INTO action_run (id, tenant, integration, connector, action, status,"
        " idempotency_key, request_hash, input, input_sealed, actor, created_at)"
        " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}::jsonb, {}, {}, {})"
        " ON CONFLICT (integration, idempotency_key) DO NOTHING RETURNING id",
        run_id,
        scope.tenant_id,
        integration_id,
        target.provider.key,
        target.action.name,
        str(ActionRunStatus.QUEUED if queued else ActionRunStatus.RUNNING),
        key,
        fingerprint,
        msgspec.json.encode(redact_input(target.action, data)).decode(),
        sealed,
        scope.actor[:255],
        utc_now(),
    )
    if inserted:
        return await scope.get(ActionRun, run_id, "action run"), True
    existing = (
        await scope.select(ActionRun)
        .where((ActionRun.integration == integration_id) & (ActionRun.idempotency_key == key))
        .first()
    )
    if existing is None:  # released by a concurrent claim after its window: try once more
        return await claim(scope, target, data, key, queued=queued)
    if existing["request_hash"] != fingerprint:
        raise Problem(
            422,
            "idempotency_key: was used within 24 h for a different call (another action or "
            "input); use a new key",
            errors=[FieldError("idempotency_key", "was used for a different call")],
        )
    return existing, False


async def await_first(scope: TenantScope, run: dict[str, Any]) -> dict[str, Any]:
    """The first call's finished run; 409 naming it when it is still running after a while."""
    deadline = time.monotonic() + WAIT_FOR_FIRST_SECONDS
    while run["status"] not in FINISHED and time.monotonic() < deadline:
        await asyncio.sleep(_POLL_SECONDS)
        run = await scope.get(ActionRun, run["id"], "action run")
    if run["status"] in FINISHED:
        return run
    location = run_path(run)
    raise Problem(
        409,
        f"The first call with this idempotency key is still running (run {run['id']}); "
        f"poll GET {location}.",
        kind="action-running",
        title="Action still running",
        headers={"Location": location, "Retry-After": "1"},
    )


def run_path(run: dict[str, Any]) -> str:
    return f"/api/integrations/{run['integration']}/actions/runs/{run['id']}"


# -- answers ------------------------------------------------------------------------------


def to_outcome(run: dict[str, Any]) -> schemas.ActionOutcome:
    return schemas.ActionOutcome(
        action=run["action"],
        status=ActionRunStatus(run["status"]),
        result=run["result"] or {},
        provider_response=run["provider_response"] or {},
        run_id=str(run["id"]),
    )


def to_wire(run: dict[str, Any]) -> schemas.ActionRun:
    return schemas.ActionRun(
        id=str(run["id"]),
        action=run["action"],
        status=ActionRunStatus(run["status"]),
        idempotency_key=run["idempotency_key"],
        input=run["input"] or {},
        result=run["result"] or {},
        provider_response=run["provider_response"] or {},
        error=run["error"],
        error_kind=run["error_kind"],
        attempts=run["attempts"],
        duration_ms=run["duration_ms"],
        created_at=run["created_at"],
        finished_at=run["finished_at"],
    )


# A failed run's kind → (HTTP status, problem type) of the synchronous answer.
_FAILED_ANSWER: dict[str, tuple[int, str]] = {
    FailureKind.BAD_REQUEST: (422, "provider-rejected"),
    FailureKind.MISCONFIGURED: (409, "misconfigured"),
    FailureKind.RATE_LIMITED: (429, "rate-limited"),
    FailureKind.PROVIDER_DOWN: (502, "provider-error"),
    FailureKind.NETWORK: (502, "provider-error"),
    FailureKind.AUTH_FAILED: (409, "needs-reauth"),
}


def answer(run: dict[str, Any]) -> schemas.ActionOutcome:
    """The synchronous answer of a finished run: its outcome, or the problem it met."""
    if run["status"] == ActionRunStatus.SUCCEEDED:
        return to_outcome(run)
    name = get_provider(run["connector"]).spec.name
    if run["status"] == ActionRunStatus.NEEDS_REAUTH:
        raise Problem(
            409,
            f"{name} refused the connection's credentials even after a token refresh; "
            f"reconnect the integration (run {run['id']}).",
            kind="needs-reauth",
            title="Reconnection required",
        )
    status, kind = _FAILED_ANSWER.get(run["error_kind"], (502, "provider-error"))
    raise Problem(
        status,
        f"{run['action']} failed at {name}: {run['error']} (run {run['id']})",
        kind=kind,
        title="The action failed",
    )


async def get_run(scope: TenantScope, integration_id: str, run_id: str) -> dict[str, Any]:
    return await integrations.get_child(scope, integration_id, ActionRun, run_id, "action run")


async def list_runs(
    scope: TenantScope,
    integration_id: str,
    *,
    action: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    filters = [(ActionRun.action, action), (ActionRun.status, status)]
    return await integrations.list_children(
        scope, integration_id, ActionRun, filters=filters, limit=limit, cursor=cursor
    )
