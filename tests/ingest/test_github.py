"""GitHub over HTTP: X-Hub-Signature-256 over the raw body, dedupe on X-GitHub-Delivery."""

from __future__ import annotations

import pytest
from webhooks.helpers import hub_signature

from .support import fixture, new_id

SECRET = "It's a Secret to Everybody"
CASES = [
    ("issues__opened.json", "issues", "issues.opened"),
    ("pull_request__opened.json", "pull_request", "pull_request.opened"),
    ("push__new_branch.json", "push", "push"),
    ("ping__hook.json", "ping", "ping"),
]


def signed(body: bytes, event: str, delivery: str, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Hook-ID": "292430182",
        "X-Hub-Signature-256": hub_signature(secret, body),
    }


@pytest.mark.parametrize(("name", "event", "event_type"), CASES)
async def test_valid_delivery_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, name, event, event_type
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = fixture("github", name)
    delivery = new_id()
    headers = signed(body, event, delivery)
    row = await hooks.accept(integration, body, headers, event_id=delivery, event_type=event_type)
    assert row["headers"]
    _, envelope = await hooks.normalized(row, "github", event_type)
    assert envelope["data"]
    await hooks.duplicate(integration, body, headers, row)


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    body = fixture("github", "issues__opened.json")
    headers = signed(body, "issues", new_id())
    await hooks.reject(integration, body.replace(b"opened", b"closed"), headers)
    await hooks.reject(integration, body, signed(body, "issues", new_id(), "wrong secret"))
    missing = {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"}
    await hooks.reject(integration, body, missing, reason="missing X-Hub-Signature-256")
    legacy_only = {**missing, "X-Hub-Signature": "sha1=" + "0" * 40}
    await hooks.reject(integration, body, legacy_only)
