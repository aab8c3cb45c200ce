"""Stripe: Stripe-Signature t=,v1= signed with the whole whsec_ string, signed here by the SDK."""

from __future__ import annotations

import pytest
import stripe

from backend.connectors.base import WebhookVerificationError

from .helpers import NOW, fixture, handler, request, secrets

STRIPE = handler("stripe")
SECRET = "whsec_test_2b7e1516b4a5f4d3c2e1"
OLD_SECRET = "whsec_test_previous_9f8e7d6c5b4a"


def signed(body: bytes, secret: str = SECRET, timestamp: int = int(NOW)) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        body.decode("utf-8"), secret, timestamp=timestamp
    )


def stripe_request(body: bytes, header: str, received_at: float = NOW):
    return request(
        body,
        {"Stripe-Signature": header, "Content-Type": "application/json"},
        received_at=received_at,
    )


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("payment_intent__succeeded.json", "payment_intent.succeeded"),
        ("invoice__paid.json", "invoice.paid"),
        ("charge__succeeded.json", "charge.succeeded"),
        ("customer_subscription__updated.json", "customer.subscription.updated"),
    ],
)
async def test_sdk_signed_fixtures_verify(name: str, event_type: str) -> None:
    body = fixture("stripe", name)
    header = signed(body)
    # The SDK agrees with itself on this header: our check must too.
    stripe.WebhookSignature.verify_header(body.decode(), header, SECRET, tolerance=None)
    delivery = await STRIPE.verify(stripe_request(body, header), secrets(SECRET))
    assert delivery.event_type == event_type
    assert delivery.event_id and delivery.event_id.startswith("evt_")


async def test_several_v1_signatures_and_rotation() -> None:
    body = fixture("stripe", "invoice__paid.json")
    old = signed(body, OLD_SECRET)
    unrelated = signed(body, "whsec_unrelated").split("v1=")[1]
    header = f"{old},v1={unrelated},v0=deadbeef"
    delivery = await STRIPE.verify(stripe_request(body, header), secrets(SECRET, OLD_SECRET))
    assert delivery.event_type == "invoice.paid"
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await STRIPE.verify(stripe_request(body, header), secrets(SECRET))


async def test_stale_timestamp_rejected_future_tolerated_like_the_sdk() -> None:
    body = fixture("stripe", "charge__succeeded.json")
    stale = signed(body, timestamp=int(NOW) - 301)
    with pytest.raises(WebhookVerificationError, match="300 s tolerance"):
        await STRIPE.verify(stripe_request(body, stale), secrets(SECRET))
    edge = signed(body, timestamp=int(NOW) - 300)
    assert (await STRIPE.verify(stripe_request(body, edge), secrets(SECRET))).event_id
    future = signed(body, timestamp=int(NOW) + 3600)
    assert (await STRIPE.verify(stripe_request(body, future), secrets(SECRET))).event_id


@pytest.mark.parametrize(
    "header",
    [
        "",
        "t=abc,v1=00",
        "v1=" + "0" * 64,
        "t=1750000000",
        "t=1750000000,v0=" + "0" * 64,
        "t=1750000000,v1=not-hex",
        "garbage",
    ],
)
async def test_malformed_headers(header: str) -> None:
    body = fixture("stripe", "charge__succeeded.json")
    with pytest.raises(WebhookVerificationError) as info:
        await STRIPE.verify(stripe_request(body, header), secrets(SECRET))
    assert SECRET not in info.value.reason


async def test_tampered_body_and_wrong_secret() -> None:
    body = fixture("stripe", "charge__succeeded.json")
    header = signed(body)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await STRIPE.verify(stripe_request(body.replace(b"1099", b"1"), header), secrets(SECRET))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await STRIPE.verify(stripe_request(body, header), secrets("whsec_other"))
    with pytest.raises(WebhookVerificationError, match="missing Stripe-Signature"):
        await STRIPE.verify(request(body, {}), secrets(SECRET))


def test_normalize_payment_intent() -> None:
    event = STRIPE.normalize(fixture("stripe", "payment_intent__succeeded.json"), {})
    assert event.type == "payment_intent.succeeded"
    assert event.subject == "pi_000000000000000000000000"
    assert event.time is not None and int(event.time.timestamp()) == 1648320033
    assert event.data["status"] == "succeeded"
    assert event.data["amount"] == 2000 and event.data["currency"] == "usd"
    assert "charges" not in event.data and "client_secret" not in event.data


def test_normalize_invoice_charge_subscription() -> None:
    invoice = STRIPE.normalize(fixture("stripe", "invoice__paid.json"), {})
    assert invoice.subject == "in_000000000000000000000000"
    assert invoice.data["amount_paid"] == 2000 and invoice.data["status"] == "paid"
    charge = STRIPE.normalize(fixture("stripe", "charge__succeeded.json"), {})
    assert charge.data["payment_intent"] == "pi_3MtwBwLkdIwHu7ix28a3tqPa"
    subscription = STRIPE.normalize(fixture("stripe", "customer_subscription__updated.json"), {})
    assert subscription.type == "customer.subscription.updated"
    assert subscription.data["status"] == "active"
    assert subscription.data["price_ids"] == ["price_1NG8Dr2eZvKYlo2CkBnTHfJA"]


def test_normalize_unknown_type_is_generic() -> None:
    event = STRIPE.normalize(
        b'{"id":"evt_1","type":"payout.paid","created":1,"data":{"object":{"id":"po_1"}}}', {}
    )
    assert event.type == "payout.paid" and event.subject == "po_1"
    assert event.data == {"id": "evt_1", "type": "payout.paid", "created": 1}
