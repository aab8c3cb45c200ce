"""Wire types of test mode's simulate and purge."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

# valid: as the provider sends it. duplicate: each delivery twice (a provider's retry).
# bad_signature: signed with a wrong secret. stale: signed time moved back beyond the
# provider's window. out_of_order: newest first.
SimulationVariant = Literal["valid", "duplicate", "bad_signature", "stale", "out_of_order"]
EventTypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[^\x00]*$")]


class SimulateRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Without `event_type`, the `count` deliveries cycle through every event type the
    connector knows (its catalog entry lists them). `overrides` is merged into each
    generated payload (objects key by key, anything else replaced)."""

    event_type: EventTypeName | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1
    variant: SimulationVariant = "valid"
    overrides: dict[str, Any] | None = None


class SimulatedDelivery(msgspec.Struct):
    """One send, and what our own webhook endpoint answered it."""

    event_type: str
    provider_event_id: str
    status: int


class SimulationResult(msgspec.Struct):
    sent: int
    deliveries: list[SimulatedDelivery]


class TestDataPurged(msgspec.Struct):
    """What purge removed: simulated events (with their normalized and mapped records) and
    the log entries simulation wrote."""

    events: int
    logs: int
