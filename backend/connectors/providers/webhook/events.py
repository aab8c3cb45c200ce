"""Deliveries for the generic connector in test mode, signed the way the integration's
config says its sender signs: Standard Webhooks (default: `webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64>` keyed with the decoded `whsec_` secret) or a hex
HMAC-SHA256 of the body in `config.signature_header` (`signature_mode = "hmac_sha256"`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any

import msgspec

from backend.connectors.base import WebhookVerificationError
from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    simulated_number,
)
from backend.connectors.providers.webhook.webhook import DEFAULT_TYPE
from backend.connectors.webhook_schemes import hmac_digests, standard_webhooks_key, to_bytes


def _iso(unix: float) -> str:
    return (
        dt.datetime.fromtimestamp(unix, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def _order(n: int, ctx: SimulationContext) -> dict[str, Any]:
    order = 1000 + n % 10**6
    return {
        "type": "order.created",
        "created": int(ctx.now),
        "order": {"id": order, "total": f"{10 + n % 90}.90", "currency": "USD"},
        "shop": "example-shop",
    }


def _invoice(n: int, ctx: SimulationContext) -> dict[str, Any]:
    return {
        "type": "invoice.paid",
        "timestamp": _iso(ctx.now),
        "data": {"invoice_id": f"inv_{n % 10**6}", "amount": 4200, "currency": "EUR"},
        "customer": "cus_118",
        "livemode": False,
    }


def _untyped(n: int, ctx: SimulationContext) -> dict[str, Any]:
    """A sender that names no type: stored as the connector's default type."""
    return {"timestamp": _iso(ctx.now), "status": "ok", "sequence": n % 10**6}


def _event(
    name: str, description: str, build: Callable[[int, SimulationContext], dict[str, Any]]
) -> EventType:
    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        n = simulated_number(ctx)
        message_id = f"msg_{n:x}"
        payload = deep_merge({"id": message_id, **build(n, ctx)}, ctx.overrides)
        return OutboundDelivery(
            event_type=name,
            provider_event_id=message_id,
            body=msgspec.json.encode(payload),
            headers={"content-type": "application/json", "webhook-id": message_id},
            occurred_at=ctx.now,
        )

    return EventType(name, description, delivery)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("order.created", "An order was placed (the sender names the type).", _order),
    _event("invoice.paid", "An invoice was paid.", _invoice),
    _event(DEFAULT_TYPE, "A delivery that names no type.", _untyped),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """The headers of the integration's configured signature mode; no secret, none."""
    if not ctx.signing_secret:
        return {}
    mode = ctx.config.get("signature_mode", "standard")
    if mode == "hmac_sha256":
        name = ctx.config.get("signature_header") or "X-Signature"
        digest = hmac_digests([to_bytes(ctx.signing_secret)], delivery.body, hashlib.sha256)[0]
        return {str(name).lower(): digest.hex()}
    timestamp = int(ctx.timestamp)
    message_id = delivery.headers["webhook-id"]
    try:
        key = standard_webhooks_key(ctx.signing_secret)
    except WebhookVerificationError:
        return {}  # not a whsec_ secret: nothing a Standard Webhooks sender could sign with
    signed = to_bytes(f"{message_id}.{timestamp}.") + delivery.body
    digest = hmac_digests([key], signed, hashlib.sha256)[0]
    return {
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }
