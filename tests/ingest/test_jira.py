"""Jira over HTTP: X-Hub-Signature (sha256=, not -256), X-Atlassian-Webhook-Identifier."""

from __future__ import annotations

import hashlib

import pytest
from webhooks.helpers import hub_signature

from .support import fixture, new_id

SECRET = "jira-generated-secret-0123456789"
CASES = [
    ("jira_issue__created.json", "jira:issue_created"),
    ("jira_issue__updated.json", "jira:issue_updated"),
    ("comment__created.json", "comment_created"),
]


def signed(body: bytes, identifier: str | None, secret: str = SECRET) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature": hub_signature(secret, body),
        "X-Atlassian-Webhook-Flow": "Primary",
    }
    if identifier:
        headers["X-Atlassian-Webhook-Identifier"] = identifier
    return headers


@pytest.mark.parametrize(("name", "event_type"), CASES)
async def test_event_is_stored_normalized_and_deduplicated(
    hooks, tenant, make_integration, name, event_type
) -> None:
    integration = await make_integration(tenant, "jira", signing_secrets=(SECRET,))
    body = fixture("jira", name)
    identifier = new_id()
    row = await hooks.accept(
        integration, body, signed(body, identifier), event_id=identifier, event_type=event_type
    )
    await hooks.normalized(row, "jira", event_type)
    retry = {**signed(body, identifier), "X-Atlassian-Webhook-Retry": "1"}
    await hooks.duplicate(integration, body, retry, row)


async def test_without_identifier_the_body_hash_dedupes(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "jira", signing_secrets=(SECRET,))
    body = fixture("jira", "comment__created.json")
    row = await hooks.accept(
        integration,
        body,
        signed(body, None),
        event_id="sha256:" + hashlib.sha256(body).hexdigest(),
        event_type="comment_created",
    )
    await hooks.normalized(row, "jira", "comment_created")
    await hooks.duplicate(integration, body, signed(body, None), row)


async def test_rejections(hooks, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "jira", signing_secrets=(SECRET,))
    body = fixture("jira", "jira_issue__created.json")
    headers = signed(body, new_id())
    await hooks.reject(integration, body + b" ", headers)
    await hooks.reject(integration, body, signed(body, new_id(), "wrong"))
    await hooks.reject(integration, body, {"Content-Type": "application/json"})
    as_github = {"X-Hub-Signature-256": headers["X-Hub-Signature"]}
    await hooks.reject(integration, body, as_github, reason="missing X-Hub-Signature")
