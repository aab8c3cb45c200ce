"""Wire types of the actions API (named in the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from backend.actions.vocab import ActionRunStatus

# Printable ASCII, as Stripe's and PayPal's own idempotency headers accept.
IdempotencyKey = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[!-~]+$")]


class ActionRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """`input` is checked against the action's input JSON Schema (see GET /api/connectors/{id});
    the same `idempotency_key` within 24 h answers the first call again."""

    input: dict[str, Any]
    idempotency_key: IdempotencyKey | None = None


class ActionOutcome(msgspec.Struct):
    """A finished, successful call: normalized ids and URLs in `result`, the provider's own
    answer in `provider_response`."""

    action: str
    status: ActionRunStatus
    result: dict[str, Any]
    provider_response: dict[str, Any]
    run_id: str


class ActionRun(msgspec.Struct):
    """One past or pending call; `input` has the action's message and secret fields
    redacted; `error`/`error_kind` say why a failed run failed."""

    id: str
    action: str
    status: ActionRunStatus
    idempotency_key: str | None
    input: dict[str, Any]
    result: dict[str, Any]
    provider_response: dict[str, Any]
    error: str
    error_kind: str
    attempts: int
    duration_ms: int
    created_at: dt.datetime
    finished_at: dt.datetime | None


class ActionRunPage(msgspec.Struct):
    items: list[ActionRun]
    next_cursor: str | None
