"""A connector's event generators (its folder's `events.py`), found by name like the rest
of a provider folder: no list to keep, and a folder without one simply cannot simulate."""

from __future__ import annotations

import importlib
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    Signer,
    SimulationContext,
)
from backend.connectors.registry import Provider


@dataclass(frozen=True, slots=True)
class Generators:
    event_types: tuple[EventType, ...]
    sign: Signer

    def find(self, name: str) -> EventType | None:
        return next((e for e in self.event_types if e.name == name), None)


def generators_of(provider: Provider) -> Generators | None:
    """The folder's `EVENT_TYPES` and `sign`, or None when it has no `events.py`."""
    name = f"backend.connectors.providers.{provider.key}.events"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise  # a broken import inside the module must surface
    return Generators(tuple(module.EVENT_TYPES), module.sign)


def payload_of(delivery: OutboundDelivery) -> Any:
    """The body as a reader wants it: JSON decoded, a form as its fields, else the text."""
    text = delivery.body.decode("utf-8", "replace")
    content_type = delivery.headers.get("content-type", "")
    if "json" in content_type:
        try:
            return json.loads(text)
        except ValueError:
            return text
    if "x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(text, keep_blank_values=True))
    return text


def sample_delivery(provider: Provider, event_type: EventType) -> OutboundDelivery:
    """One delivery built as a fresh test-mode integration would get it (the simulator's
    sample config and no account yet): what the catalog shows as the event's sample."""
    ctx = SimulationContext(
        integration_id="00000000-0000-0000-0000-000000000000",
        account_id=None,
        config=dict(provider.simulator.sample_config),
        now=time.time(),
        sequence=0,
    )
    return event_type.build(ctx)
