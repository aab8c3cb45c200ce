"""Handshakes for a rotated or revoked URL fail at once (issue 10, item 8).

A handshake answer stores nothing, so no insert re-checks that the integration still owns
the path token; the 30 s material cache alone must not keep an old URL answering. Meta
(WhatsApp) subscribes with a GET; Slack verifies its URL with a signed POST.
"""

from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier

from .support import Hooks, assert_problem, fixture

APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY_TOKEN = "meatyhamhock"
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
CHALLENGE = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}


async def whatsapp(make_integration, tenant):
    return await make_integration(
        tenant, "whatsapp", signing_secrets=(APP_SECRET,), config={"verify_token": VERIFY_TOKEN}
    )


async def handshake(hooks: Hooks, path: str):
    return await hooks.client.get(path, params={**CHALLENGE, "hub.verify_token": VERIFY_TOKEN})


async def test_get_handshake_on_a_rotated_url_fails_at_once(
    hooks, client, tenant, make_integration
) -> None:
    integration = await whatsapp(make_integration, tenant)
    ok = await handshake(hooks, integration.path)  # now cached in this process
    assert ok.status_code == 200 and ok.text == "1158201444"
    rotated = await client.post(
        f"/api/integrations/{integration.id}/webhook/rotate", headers=tenant.headers
    )
    assert rotated.status_code == 200, rotated.text
    assert_problem(await handshake(hooks, integration.path), 404, "not-found")
    new_path = rotated.json()["integration"]["webhook_url"].removeprefix(
        "https://hooks.example.test"
    )
    assert new_path != integration.path
    moved = await handshake(hooks, new_path)
    assert moved.status_code == 200 and moved.text == "1158201444"


async def test_get_handshake_on_a_revoked_integration_fails_at_once(
    hooks, client, tenant, make_integration
) -> None:
    integration = await whatsapp(make_integration, tenant)
    assert (await handshake(hooks, integration.path)).status_code == 200
    revoked = await client.post(
        f"/api/integrations/{integration.id}/revoke", headers=tenant.headers
    )
    assert revoked.status_code == 200, revoked.text
    assert_problem(await handshake(hooks, integration.path), 404, "not-found")


async def test_slack_url_verification_on_a_revoked_integration_fails_at_once(
    hooks, client, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "slack", signing_secrets=(SLACK_SECRET,))
    body = fixture("slack", "url_verification__challenge.json")

    def signed() -> dict[str, str]:
        ts = str(int(time.time()))
        signature = SignatureVerifier(SLACK_SECRET).generate_signature(timestamp=ts, body=body)
        assert signature is not None
        return {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }

    assert (await hooks.post(integration, body, signed())).status_code == 200
    revoked = await client.post(
        f"/api/integrations/{integration.id}/revoke", headers=tenant.headers
    )
    assert revoked.status_code == 200, revoked.text
    assert_problem(await hooks.post(integration, body, signed()), 404, "not-found")
