"""Stripe webhooks: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`.

The signed string is "{t}.{body}", HMAC-SHA256 keyed with the whole `whsec_…` string as
UTF-8 (not base64-decoded). Any `v1` may match (Stripe sends one per active secret while a
rolled secret overlaps); `v0` and other schemes are ignored. Like Stripe's SDK, only a
timestamp older than the tolerance is rejected.
"""

from __future__ import annotations

from typing import Any

import msgspec

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import dig, from_unix, generic_event, load_json, text
from backend.connectors.webhook_schemes import (
    check_hex_hmac,
    check_timestamp,
    decode_json,
    parse_int,
    require_header,
    signing_keys,
    to_bytes,
)


class _Event(msgspec.Struct):
    id: str
    type: str


def parse_signature_header(value: str) -> tuple[int, list[str]]:
    """(timestamp, v1 signatures) from a Stripe-Signature header."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in value.split(","):
        key, _, val = item.strip().partition("=")
        if key == "t":
            timestamp = parse_int(val)
        elif key == "v1":
            signatures.append(val)
    if timestamp is None or not signatures:
        raise WebhookVerificationError("malformed Stripe-Signature header")
    return timestamp, signatures


# The object fields worth keeping, per object family (beyond id, object, status, livemode).
_FIELDS: dict[str, tuple[str, ...]] = {
    "payment_intent": ("amount", "amount_received", "currency", "customer", "payment_method"),
    "invoice": (
        "amount_due",
        "amount_paid",
        "amount_remaining",
        "currency",
        "customer",
        "subscription",
        "number",
        "hosted_invoice_url",
    ),
    "charge": ("amount", "amount_refunded", "currency", "customer", "payment_intent", "paid"),
    "subscription": ("customer", "current_period_end", "cancel_at_period_end", "canceled_at"),
}
_PREFIXES = ("payment_intent.", "invoice.", "charge.", "customer.subscription.")


class StripeWebhook(WebhookHandler):
    stored_headers = ("stripe-signature", "content-type", "user-agent")

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        timestamp, signatures = parse_signature_header(require_header(request, "Stripe-Signature"))
        message = to_bytes(f"{timestamp}.") + request.body
        check_hex_hmac(signing_keys(secrets), message, signatures)
        check_timestamp(timestamp, request.received_at, future=False)
        event = decode_json(request.body, _Event)
        return VerifiedDelivery(event.id, event.type)

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        event_type = text(dig(payload, "type")) or "unknown"
        obj = dig(payload, "data", "object")
        subject = text(dig(obj, "id"))
        if not event_type.startswith(_PREFIXES):
            return generic_event(event_type, payload, subject)
        object_name = text(dig(obj, "object")) or ""
        data: dict[str, Any] = {
            "event_id": text(dig(payload, "id")),
            "object": object_name,
            "id": subject,
            "status": text(dig(obj, "status")),
            "livemode": dig(payload, "livemode") is True,
        }
        for name in _FIELDS.get(object_name, ()):
            value = dig(obj, name)
            data[name] = value if isinstance(value, str | int | float | bool) else None
        if object_name == "subscription":
            data["price_ids"] = _subscription_prices(obj)
        return NormalizedEvent(event_type, subject, from_unix(dig(payload, "created")), data)


def _subscription_prices(subscription: Any) -> list[str]:
    items = dig(subscription, "items", "data")
    if not isinstance(items, list):
        return []
    return [p for p in (text(dig(item, "price", "id")) for item in items) if p]


HANDLER = StripeWebhook()
