"""The generic connector over HTTP: Standard Webhooks (official library) and plain HMAC."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest
from standardwebhooks.webhooks import Webhook

from .support import fixture, new_id

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CASES = [
    ("invoice__paid.json", "invoice.paid"),
    ("order__created.json", "order.created"),
]


def signed(body: bytes, msg_id: str, secret: str = SECRET, at: dt.datetime | None = None):
    at = at or dt.datetime.now(dt.UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    if abs((at - dt.datetime.now(dt.UTC)).total_seconds()) < 60:
        Webhook(secret).verify(body, headers)  # the reference verifier agrees
    return headers


@pytest.mark.parametrize(("name", "event_type"), CASES)
async def test_standard_webhooks_delivery(hooks, tenant, make_integration, name, event_type):
    integration = await make_integration(tenant, "webhook", signing_secrets=(SECRET,))
    body = fixture("webhook", name)
    msg_id = new_id("msg_")
    row = await hooks.accept(
        integration, body, signed(body, msg_id), event_id=msg_id, event_type=event_type
    )
    await hooks.normalized(row, "webhook", event_type)
    await hooks.duplicate(integration, body, signed(body, msg_id), row)


async def test_standard_webhooks_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "webhook", signing_secrets=(SECRET,))
    body = fixture("webhook", "order__created.json")
    headers = signed(body, new_id("msg_"))
    await hooks.reject(integration, body.replace(b"19.90", b"0.01"), headers)
    other = "whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
    await hooks.reject(integration, body, signed(body, new_id("msg_"), other))
    await hooks.reject(integration, body, {k: v for k, v in headers.items() if k != "webhook-id"})
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=301)
    await hooks.reject(integration, body, signed(body, new_id("msg_"), at=old), reason="tolerance")
    ahead = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=301)
    await hooks.reject(integration, body, signed(body, new_id("msg_"), at=ahead))
    not_base64 = {**headers, "webhook-signature": "v1,@@@not-base64@@@"}
    await hooks.reject(integration, body, not_base64)


async def test_plain_hmac_mode(hooks, tenant, make_integration) -> None:
    secret = "plain-hmac-secret"
    integration = await make_integration(
        tenant,
        "webhook",
        signing_secrets=(secret,),
        config={"signature_mode": "hmac_sha256", "signature_header": "X-Shop-Signature"},
    )
    body = fixture("webhook", "order__created.json")
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Shop-Signature": "sha256=" + digest}
    row = await hooks.accept(
        integration, body, headers, event_id="1048", event_type="order.created"
    )
    await hooks.normalized(row, "webhook", "order.created")
    await hooks.duplicate(integration, body, headers, row)
    await hooks.reject(integration, body + b"\n", headers)
    await hooks.reject(integration, body, {"X-Signature": "sha256=" + digest})
