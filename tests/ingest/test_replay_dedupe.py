"""Replays of deliveries whose dedupe id is an unsigned header (issue 10, item 5).

GitHub, Jira, Twilio and the generic connector in HMAC mode sign no timestamp, and the
delivery id travels in a header the signature does not cover. A captured delivery resent
with a fresh id header must be answered as a duplicate of the original, not stored again.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator
from webhooks.helpers import hub_signature

from .support import Hooks, fixture, new_id

GITHUB_SECRET = "It's a Secret to Everybody"
JIRA_SECRET = "jira-generated-secret-0123456789"
TWILIO_TOKEN = "12345abcdef67890abcdef12345abcde"
GENERIC_SECRET = "shop-shared-secret"
GATHER = (
    b"AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01"
    b"&CallSid=CA5b6c1f1e2d3c4b5a69788796a5b4c3d2&CallStatus=in-progress&Digits=1"
    b"&Direction=inbound&FinishedOnKey=%23&From=%2B14155550100&To=%2B14155550199"
)


def github_headers(body: bytes, delivery: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issues",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": hub_signature(GITHUB_SECRET, body),
    }


def jira_headers(body: bytes, identifier: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": hub_signature(JIRA_SECRET, body),
        "X-Atlassian-Webhook-Identifier": identifier,
    }


def twilio_headers(url: str, body: bytes, token: str) -> dict[str, str]:
    """Signed like Twilio signs, with the official SDK's RequestValidator."""
    params = dict(parse_qsl(body.decode(), keep_blank_values=True))
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
        "I-Twilio-Idempotency-Token": token,
    }


def generic_headers(body: bytes, event_id: str) -> dict[str, str]:
    digest = hmac.new(GENERIC_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Sig": digest, "X-Event-Id": event_id}


async def _replayed_with_a_fresh_id(
    hooks: Hooks, integration, body: bytes, original: dict, replay: dict, **accept
) -> None:
    row = await hooks.accept(integration, body, original, **accept)
    await hooks.run_worker()  # normalized once; the replay must not run it again
    await hooks.duplicate(integration, body, replay, row, query=accept.get("query", ""))
    (stored,) = await hooks.events(integration)
    assert stored["provider_event_id"] == row["provider_event_id"]  # the original's id stays


async def test_github_replay_with_a_fresh_delivery_id_is_a_duplicate(
    hooks, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    first = new_id()
    await _replayed_with_a_fresh_id(
        hooks,
        integration,
        body,
        github_headers(body, first),
        github_headers(body, new_id()),
        event_id=first,
        event_type="issues.opened",
    )


async def test_jira_replay_with_a_fresh_identifier_is_a_duplicate(
    hooks, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "jira", signing_secrets=(JIRA_SECRET,))
    body = fixture("jira", "jira_issue__created.json")
    first = new_id()
    await _replayed_with_a_fresh_id(
        hooks,
        integration,
        body,
        jira_headers(body, first),
        jira_headers(body, new_id()),
        event_id=first,
        event_type="jira:issue_created",
    )


async def test_twilio_replay_with_a_fresh_idempotency_token_is_a_duplicate(
    hooks, tenant, make_integration
) -> None:
    """A <Gather> callback has no signed id (the idempotency token is its only id)."""
    integration = await make_integration(tenant, "twilio", credentials={"auth_token": TWILIO_TOKEN})
    first = "idem-" + new_id()
    await _replayed_with_a_fresh_id(
        hooks,
        integration,
        GATHER,
        twilio_headers(integration.url, GATHER, first),
        twilio_headers(integration.url, GATHER, "idem-" + new_id()),
        event_id=first,
        event_type="call.gather",
    )


async def test_twilio_same_gather_at_another_signed_url_is_its_own_event(
    hooks, tenant, make_integration
) -> None:
    """The digest covers what Twilio signs (URL and parameters), so the same digits pressed
    at two menus (two action URLs) stay two events."""
    integration = await make_integration(tenant, "twilio", credentials={"auth_token": TWILIO_TOKEN})
    for menu in ("main", "billing"):
        query = f"menu={menu}"
        token = "idem-" + new_id()
        headers = twilio_headers(f"{integration.url}?{query}", GATHER, token)
        await hooks.accept(
            integration, GATHER, headers, query=query, event_id=token, event_type="call.gather"
        )
    assert len(await hooks.events(integration)) == 2


async def test_generic_hmac_replay_with_a_fresh_id_header_is_a_duplicate(
    hooks, tenant, make_integration
) -> None:
    integration = await make_integration(
        tenant,
        "webhook",
        signing_secrets=(GENERIC_SECRET,),
        config={"signature_mode": "hmac_sha256", "signature_header": "X-Sig"},
    )
    body = fixture("webhook", "order__created.json")
    first = new_id("evt_")
    await _replayed_with_a_fresh_id(
        hooks,
        integration,
        body,
        generic_headers(body, first),
        generic_headers(body, new_id("evt_")),
        event_id=first,
        event_type="order.created",
    )


async def test_distinct_bodies_and_other_integrations_are_not_duplicates(
    hooks, tenant, make_integration
) -> None:
    """The body digest is per integration, and only identical signed bytes collapse."""
    one = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    two = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    other = body.replace(b'"opened"', b'"reopened"', 1)
    for integration, payload, kind in ((one, body, "opened"), (one, other, "reopened")):
        delivery = new_id()
        await hooks.accept(
            integration,
            payload,
            github_headers(payload, delivery),
            event_id=delivery,
            event_type=f"issues.{kind}",
        )
    delivery = new_id()
    await hooks.accept(
        two, body, github_headers(body, delivery), event_id=delivery, event_type="issues.opened"
    )
    assert len(await hooks.events(one)) == 2 and len(await hooks.events(two)) == 1


async def test_a_replay_to_a_revoked_integration_changes_nothing(
    hooks, client, tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(GITHUB_SECRET,))
    body = fixture("github", "issues__opened.json")
    first = new_id()
    await hooks.accept(
        integration, body, github_headers(body, first), event_id=first, event_type="issues.opened"
    )
    revoked = await client.post(
        f"/api/integrations/{integration.id}/revoke", headers=tenant.headers
    )
    assert revoked.status_code == 200, revoked.text
    replay = await hooks.post(integration, body, github_headers(body, new_id()))
    assert replay.status_code == 404, replay.text
    (stored,) = await hooks.events(integration)
    assert stored["duplicates"] == 0
