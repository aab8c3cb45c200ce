"""Stripe over HTTP, signed with the official SDK: t=…,v1=… over "{t}.{body}", 300 s."""

from __future__ import annotations

import time

import pytest
import stripe

from .support import fixture

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CASES = [
    ("payment_intent__succeeded.json", "evt_000000000000000000000000", "payment_intent.succeeded"),
    ("invoice__paid.json", "evt_000000000000000000000000", "invoice.paid"),
    ("charge__succeeded.json", "evt_3MtwBwLkdIwHu7ix0qVhN0XN", "charge.succeeded"),
    (
        "customer_subscription__updated.json",
        "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "customer.subscription.updated",
    ),
]


def signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp or int(time.time())
    )
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        "Stripe-Signature": header,
    }


@pytest.mark.parametrize(("name", "event_id", "event_type"), CASES)
async def test_valid_event_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, name, event_id, event_type
) -> None:
    integration = await make_integration(tenant, "stripe", signing_secrets=(SECRET,))
    body = fixture("stripe", name)
    headers = signed(body)
    # The SDK accepts exactly what we accept.
    stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], SECRET, 300)
    row = await hooks.accept(integration, body, headers, event_id=event_id, event_type=event_type)
    _, envelope = await hooks.normalized(row, "stripe", event_type)
    assert envelope["data"]["event_id"] == event_id
    # Stripe retries with a fresh timestamp and signature: still the same event.
    await hooks.duplicate(integration, body, signed(body, timestamp=int(time.time()) - 5), row)


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "stripe", signing_secrets=(SECRET,))
    body = fixture("stripe", "charge__succeeded.json")
    headers = signed(body)
    await hooks.reject(integration, body.replace(b"1099", b"9999"), headers)
    await hooks.reject(integration, body, signed(body, "whsec_not_the_secret"))
    await hooks.reject(integration, body, {"Content-Type": "application/json"})
    stale = signed(body, timestamp=int(time.time()) - 301)
    await hooks.reject(integration, body, stale, reason="tolerance")
    await hooks.reject(integration, body, {"Stripe-Signature": "t=1,v0=abc"})


async def test_any_v1_passes_during_rotation(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "stripe", signing_secrets=(SECRET,))
    body = fixture("stripe", "invoice__paid.json")
    now = int(time.time())
    other = signed(body, "whsec_rolled_secret", now)["Stripe-Signature"]
    good = signed(body, SECRET, now)["Stripe-Signature"]
    header = other + ",v1=" + good.split("v1=")[1]
    await hooks.accept(
        integration,
        body,
        {"Stripe-Signature": header, "Content-Type": "application/json"},
        event_id="evt_000000000000000000000000",
        event_type="invoice.paid",
    )
