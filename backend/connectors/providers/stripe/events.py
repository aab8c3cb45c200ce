"""Stripe events for test mode, shaped like Stripe's documented Event objects and signed
like Stripe signs them (`Stripe-Signature: t=<unix>,v1=<hex>`, see webhook.py).

Objects come from `event_templates.json` (Stripe's documented examples, completed to what
its OpenAPI description requires). One simulated sale shares its ids: the charge, its
payment intent and invoice, and the subscription name each other and a customer the
simulator holds (`simulator.CUSTOMERS`), so a simulated charge's customer can be retrieved.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
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
from backend.connectors.providers.stripe.simulator import CUSTOMERS
from backend.connectors.webhook_schemes import hmac_digests, to_bytes

API_VERSION = "2023-08-16"  # the version of the OpenAPI description the objects follow
_TEMPLATES: dict[str, Any] = json.loads(
    Path(__file__).with_name("event_templates.json").read_bytes()
)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MONTH = 30 * 86400


def _stripe_id(prefix: str, seed: str, length: int = 24) -> str:
    """A Stripe-shaped id (`ch_3Mtw…`), the same for the same seed."""
    number = int.from_bytes(hashlib.sha256(f"{prefix}:{seed}".encode()).digest(), "big")
    chars = []
    for _ in range(length):
        number, rest = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[rest])
    return prefix + "".join(chars)


class _Sale:
    """The ids and amounts one simulated delivery's objects share."""

    def __init__(self, ctx: SimulationContext) -> None:
        seed = f"{ctx.integration_id}:{simulated_number(ctx)}"
        self.seed = seed
        self.created = int(ctx.now)
        self.customer = list(CUSTOMERS)[ctx.sequence % len(CUSTOMERS)]
        self.charge = _stripe_id("ch_", seed)
        self.payment_intent = _stripe_id("pi_", seed)
        self.invoice = _stripe_id("in_", seed)
        self.subscription = _stripe_id("sub_", seed)
        self.amount = 1000 + (simulated_number(ctx) % 90) * 100

    def template(self, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = copy.deepcopy(_TEMPLATES[name])
        obj["created"] = self.created
        obj["customer"] = self.customer
        return obj


def _charge(sale: _Sale, *, refunded: bool = False) -> dict[str, Any]:
    charge = sale.template("charge")
    charge.update(
        id=sale.charge,
        amount=sale.amount,
        amount_captured=sale.amount,
        amount_refunded=sale.amount if refunded else 0,
        refunded=refunded,
        payment_intent=sale.payment_intent,
        balance_transaction=_stripe_id("txn_", sale.seed),
        payment_method=_stripe_id("pm_", sale.seed),
    )
    return charge


def _payment_intent(sale: _Sale, *, failed: bool = False) -> dict[str, Any]:
    intent = sale.template("payment_intent")
    intent.update(
        id=sale.payment_intent,
        amount=sale.amount,
        amount_received=0 if failed else sale.amount,
        client_secret=f"{sale.payment_intent}_secret_{_stripe_id('', sale.seed, 25)}",
        invoice=sale.invoice,
        status="requires_payment_method" if failed else "succeeded",
    )
    if failed:
        intent["last_payment_error"] = {
            "code": "card_declined",
            "decline_code": "generic_decline",
            "doc_url": "https://stripe.com/docs/error-codes/card-declined",
            "message": "Your card was declined.",
            "type": "card_error",
        }
    return intent


def _invoice(sale: _Sale, *, paid: bool = True) -> dict[str, Any]:
    invoice = sale.template("invoice")
    customer = CUSTOMERS[sale.customer]
    number = f"{customer['invoice_prefix']!s}-{sale.seed[-4:].upper()}"
    invoice.update(
        id=sale.invoice,
        amount_due=sale.amount,
        amount_paid=sale.amount if paid else 0,
        amount_remaining=0 if paid else sale.amount,
        attempt_count=1,
        attempted=True,
        charge=sale.charge,
        customer_email=customer["email"],
        customer_name=customer["name"],
        number=number,
        paid=paid,
        payment_intent=sale.payment_intent,
        period_end=sale.created,
        period_start=sale.created - _MONTH,
        status="paid" if paid else "open",
        subscription=sale.subscription,
        subtotal=sale.amount,
        total=sale.amount,
        hosted_invoice_url=f"https://invoice.stripe.com/i/acct_test/{sale.invoice}",
        invoice_pdf=f"https://pay.stripe.com/invoice/acct_test/{sale.invoice}/pdf",
    )
    invoice["status_transitions"] = {
        "finalized_at": sale.created,
        "marked_uncollectible_at": None,
        "paid_at": sale.created if paid else None,
        "voided_at": None,
    }
    invoice["lines"]["url"] = f"/v1/invoices/{sale.invoice}/lines"
    for line in invoice["lines"]["data"]:
        line.update(amount=sale.amount, subscription=sale.subscription)
        line["period"] = {"start": sale.created - _MONTH, "end": sale.created}
    return invoice


def _subscription(sale: _Sale, *, status: str = "active") -> dict[str, Any]:
    subscription = sale.template("subscription")
    subscription.update(
        id=sale.subscription,
        billing_cycle_anchor=sale.created,
        current_period_start=sale.created,
        current_period_end=sale.created + _MONTH,
        start_date=sale.created,
        status=status,
        canceled_at=sale.created if status == "canceled" else None,
    )
    subscription["items"]["url"] = f"/v1/subscription_items?subscription={sale.subscription}"
    for item in subscription["items"]["data"]:
        item.update(id=_stripe_id("si_", sale.seed, 14), subscription=sale.subscription)
        item["created"] = sale.created
    return subscription


ObjectBuilder = Callable[[_Sale], dict[str, Any]]


def _event(
    name: str, description: str, build: ObjectBuilder, previous: dict[str, Any] | None = None
) -> EventType:
    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        sale = _Sale(ctx)
        data: dict[str, Any] = {"object": build(sale)}
        if previous is not None:
            data["previous_attributes"] = previous
        event_id = _stripe_id("evt_", sale.seed)
        payload = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": sale.created,
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {
                "id": _stripe_id("req_", sale.seed, 14),
                "idempotency_key": str(uuid.uuid5(uuid.NAMESPACE_URL, sale.seed)),
            },
            "type": name,
        }
        payload = deep_merge(payload, ctx.overrides)
        return OutboundDelivery(
            event_type=str(payload.get("type", name)),
            provider_event_id=str(payload.get("id", event_id)),
            body=msgspec.json.encode(payload),
            headers={
                "content-type": "application/json; charset=utf-8",
                "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
            occurred_at=float(sale.created),
        )

    return EventType(name, description, delivery)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("charge.succeeded", "A charge to a customer's card succeeded.", _charge),
    _event(
        "charge.refunded",
        "A charge was refunded in full.",
        lambda sale: _charge(sale, refunded=True),
        previous={"amount_refunded": 0, "refunded": False},
    ),
    _event("payment_intent.succeeded", "A payment intent was paid.", _payment_intent),
    _event(
        "payment_intent.payment_failed",
        "A payment attempt failed (card declined).",
        lambda sale: _payment_intent(sale, failed=True),
    ),
    _event("invoice.paid", "An invoice was paid.", _invoice),
    _event(
        "invoice.payment_failed",
        "Paying an invoice failed; it stays open.",
        lambda sale: _invoice(sale, paid=False),
    ),
    _event("customer.subscription.created", "A customer subscribed.", _subscription),
    _event(
        "customer.subscription.updated",
        "A subscription changed (here: it became past due).",
        lambda sale: _subscription(sale, status="past_due"),
        previous={"status": "active"},
    ),
    _event(
        "customer.subscription.deleted",
        "A subscription was canceled.",
        lambda sale: _subscription(sale, status="canceled"),
    ),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, keyed with the
    whole `whsec_…` string; no secret, no signature (the endpoint then refuses it)."""
    if not ctx.signing_secret:
        return {}
    timestamp = int(ctx.timestamp)
    message = to_bytes(f"{timestamp}.") + delivery.body
    digest = hmac_digests([to_bytes(ctx.signing_secret)], message, hashlib.sha256)[0]
    return {"stripe-signature": f"t={timestamp},v1={digest.hex()}"}
