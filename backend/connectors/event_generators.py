"""What a provider folder's `events.py` gives test mode: realistic deliveries, signed as the
provider signs them.

Each folder's `events.py` holds `EVENT_TYPES` (one `EventType` per event type its normalizer
knows) and `sign(delivery, ctx) -> headers`. Simulation (`POST /api/integrations/{id}/simulate`)
builds a delivery, signs it with the integration's current secret and sends it over HTTP to
the integration's own webhook URL, so verification, dedupe, storage, normalization and
mapping all run for real. Nothing here knows our tables or routes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SimulationContext:
    """Facts a generator may use to keep ids and cross-references consistent."""

    integration_id: str
    # The provider account the integration is connected to (routing, mismatch checks).
    account_id: str | None
    config: dict[str, Any]
    now: float  # unix seconds: the delivery's provider timestamps derive from it
    sequence: int  # 0, 1, 2… within one simulate call (ids unique, times increasing)
    overrides: dict[str, Any] = field(default_factory=dict)  # merged into the payload


@dataclass(frozen=True, slots=True)
class OutboundDelivery:
    """An unsigned delivery: what the provider would send, minus its signature headers."""

    event_type: str
    provider_event_id: str
    body: bytes
    headers: dict[str, str]  # lower-case names: content-type, event type, delivery id…
    occurred_at: float  # the provider's own event time (unix seconds)
    method: str = "POST"
    query: str = ""


@dataclass(frozen=True, slots=True)
class SigningContext:
    """What signing may use: exactly what the provider holds for this integration."""

    url: str  # the full public URL the delivery goes to (Twilio, HubSpot sign it)
    signing_secret: str | None  # the integration's current signing secret
    credentials: dict[str, Any]
    config: dict[str, Any]
    timestamp: float  # the signed time (stale variants move it back)


@dataclass(frozen=True, slots=True)
class EventType:
    name: str  # as the normalizer names it, e.g. "issues.opened"
    description: str
    build: Callable[[SimulationContext], OutboundDelivery]


Signer = Callable[[OutboundDelivery, SigningContext], dict[str, str]]


def deep_merge(payload: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`payload` with `overrides` merged in: nested objects merge key by key, anything else
    (lists included) replaces, so a caller can change one field deep in a template."""
    merged = dict(payload)
    for key, value in overrides.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def simulated_number(ctx: SimulationContext) -> int:
    """An increasing number unique per simulated delivery (ids, message numbers): the
    call's millisecond time, then its sequence (a call sends at most 100)."""
    return int(ctx.now * 1000) * 100 + ctx.sequence


def event_time(ctx: SimulationContext) -> float:
    """The provider's time of a simulated event: one second apart in sequence order, all
    in the last 100 s (an event happens before the provider delivers it)."""
    return ctx.now - 100 + ctx.sequence
