"""PayPal webhook events for test mode, shaped like PayPal's documented examples and signed
like PayPal signs them: SHA256withRSA over "{transmission_id}|{transmission_time}|
{webhook_id}|{crc32(body)}", here with the simulator's key, whose certificate the simulator
serves at `PAYPAL-CERT-URL` (see simulator.py: trusted for test-mode integrations only).
The webhook id is the integration's signing secret, as PayPal's verification expects.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    simulated_number,
)
from backend.connectors.providers.paypal.simulator import (
    CERT_URL,
    sign_transmission,
    transmission_message,
)

_API = "https://api.paypal.com"
_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXY"


def _paypal_id(n: int, salt: str, length: int = 17) -> str:
    """A PayPal-shaped id (upper-case letters and digits), the same for the same input."""
    number = int(uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}:{n}").hex, 16)
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[rest])
    return "".join(chars)


def _time(unix: float, *, millis: bool = False) -> str:
    moment = dt.datetime.fromtimestamp(unix, dt.UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(unix * 1000) % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Scene:
    def __init__(self, ctx: SimulationContext) -> None:
        self.n = simulated_number(ctx)
        self.now = ctx.now
        self.order = _paypal_id(self.n, "order")
        self.capture = _paypal_id(self.n, "capture")
        self.value = f"{10 + self.n % 90}.00"


def _capture(status: str) -> Callable[[_Scene], tuple[str, str, dict[str, Any]]]:
    def build(scene: _Scene) -> tuple[str, str, dict[str, Any]]:
        fee = f"{float(scene.value) * 0.0349 + 0.49:.2f}"
        net = f"{float(scene.value) - float(fee):.2f}"
        resource = {
            "amount": {"currency_code": "USD", "value": scene.value},
            "seller_protection": {
                "status": "ELIGIBLE",
                "dispute_categories": ["ITEM_NOT_RECEIVED", "UNAUTHORIZED_TRANSACTION"],
            },
            "supplementary_data": {"related_ids": {"order_id": scene.order}},
            "update_time": _time(scene.now),
            "create_time": _time(scene.now - 9),
            "final_capture": True,
            "seller_receivable_breakdown": {
                "gross_amount": {"currency_code": "USD", "value": scene.value},
                "paypal_fee": {"currency_code": "USD", "value": fee},
                "net_amount": {"currency_code": "USD", "value": net},
            },
            "links": [
                {
                    "href": f"{_API}/v2/payments/captures/{scene.capture}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{_API}/v2/payments/captures/{scene.capture}/refund",
                    "rel": "refund",
                    "method": "POST",
                },
                {"href": f"{_API}/v2/checkout/orders/{scene.order}", "rel": "up", "method": "GET"},
            ],
            "id": scene.capture,
            "status": status,
        }
        verb = {"COMPLETED": "completed", "DENIED": "denied"}[status]
        return "capture", f"Payment {verb} for $ {scene.value} USD", resource

    return build


def _order_approved(scene: _Scene) -> tuple[str, str, dict[str, Any]]:
    resource = {
        "id": scene.order,
        "status": "APPROVED",
        "intent": "CAPTURE",
        "payer": {
            "name": {"given_name": "John", "surname": "Doe"},
            "email_address": "buyer@example.com",
            "payer_id": "QYR5Z8XDVJNXQ",
        },
        "purchase_units": [
            {
                "reference_id": str(uuid.uuid5(uuid.NAMESPACE_URL, scene.order)),
                "amount": {"currency_code": "USD", "value": scene.value},
            }
        ],
        "create_time": _time(scene.now - 60),
        "links": [
            {"href": f"{_API}/v2/checkout/orders/{scene.order}", "rel": "self", "method": "GET"}
        ],
    }
    return "checkout-order", "An order has been approved by buyer", resource


Resource = Callable[[_Scene], tuple[str, str, dict[str, Any]]]


def _event(name: str, description: str, build: Resource) -> EventType:
    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        scene = _Scene(ctx)
        resource_type, summary, resource = build(scene)
        event_id = f"WH-{_paypal_id(scene.n, 'event')}-{_paypal_id(scene.n, 'event2')}"
        payload = {
            "id": event_id,
            "create_time": _time(scene.now, millis=True),
            "resource_type": resource_type,
            "event_version": "1.0",
            "event_type": name,
            "summary": summary,
            "resource_version": "2.0",
            "resource": resource,
            "links": [
                {
                    "href": f"{_API}/v1/notifications/webhooks-events/{event_id}",
                    "rel": "self",
                    "method": "GET",
                },
                {
                    "href": f"{_API}/v1/notifications/webhooks-events/{event_id}/resend",
                    "rel": "resend",
                    "method": "POST",
                },
            ],
        }
        payload = deep_merge(payload, ctx.overrides)
        transmission_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.integration_id}:{scene.n}"))
        return OutboundDelivery(
            event_type=name,
            # The handler dedupes on the signed transmission id, never the body's id.
            provider_event_id=transmission_id,
            body=msgspec.json.encode(payload),
            headers={
                "content-type": "application/json",
                "user-agent": "PayPal/AUHD-214.0-58843338",
                "paypal-transmission-id": transmission_id,
            },
            occurred_at=scene.now,
        )

    return EventType(name, description, delivery)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("PAYMENT.CAPTURE.COMPLETED", "A payment capture completed.", _capture("COMPLETED")),
    _event("PAYMENT.CAPTURE.DENIED", "A payment capture was denied.", _capture("DENIED")),
    _event("CHECKOUT.ORDER.APPROVED", "A buyer approved a checkout order.", _order_approved),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """PayPal's transmission headers for the integration's webhook id (its signing secret)."""
    if not ctx.signing_secret:
        return {}
    transmission_id = delivery.headers["paypal-transmission-id"]
    transmission_time = _time(ctx.timestamp)
    message = transmission_message(
        transmission_id, transmission_time, ctx.signing_secret, delivery.body
    )
    return {
        "paypal-transmission-time": transmission_time,
        "paypal-transmission-sig": sign_transmission(message),
        "paypal-cert-url": CERT_URL,
        "paypal-auth-algo": "SHA256withRSA",
    }
