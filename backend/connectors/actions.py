"""What a provider folder's `actions.py` declares: outbound actions (send the email, post the
message, open the issue), each with its input JSON Schema, the scopes it needs, and the code
that performs it through the folder's adapter.

The generic action service (backend/actions/) validates input against `input_schema`, checks
`required_scopes` against the integration's granted scopes, handles idempotency, retries,
token refresh, logging and redaction, then calls `run`. `run` makes the provider calls with
`adapter.call(...)` (so errors are classified by the spec's error table) and returns the
normalized result. Nothing here knows our tables or routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backend.connectors.base import Adapter


@dataclass(frozen=True, slots=True)
class ActionCall:
    """One action invocation as `run` sees it."""

    input: dict[str, Any]  # already validated against the action's input_schema
    # A stable key for the provider's own idempotency mechanism (Stripe's Idempotency-Key,
    # PayPal's PayPal-Request-Id); None when the caller gave none.
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    """`result`: normalized ids and URLs (e.g. {"id", "url", "thread_id"});
    `provider_response`: the provider's answer as JSON, for the caller to inspect."""

    result: dict[str, Any]
    provider_response: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # snake_case, unique per connector: "send_email", "create_issue"
    description: str
    input_schema: dict[str, Any]  # JSON Schema (draft 2020-12) of `ActionCall.input`
    run: Callable[[Adapter, ActionCall], Awaitable[ActionResult]]
    # Any one of each inner tuple suffices (providers name equivalent scopes differently).
    required_scopes: tuple[tuple[str, ...], ...] = ()
    # Input fields whose values are message content or secrets: stored redacted in runs.
    redact_fields: tuple[str, ...] = ()
    # True when the provider itself makes a repeat harmless (Stripe's Idempotency-Key,
    # PayPal's PayPal-Request-Id, an upsert by key); False when a repeat would act twice.
    idempotent_at_provider: bool = False
