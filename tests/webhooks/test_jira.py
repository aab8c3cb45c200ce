"""Jira: X-Hub-Signature (not -256) with sha256=<hex>; id = X-Atlassian-Webhook-Identifier."""

from __future__ import annotations

import pytest

from backend.connectors.base import WebhookVerificationError

from .helpers import fixture, handler, hub_signature, request, secrets

JIRA = handler("jira")
SECRET = "jira-webhook-secret-2024"
OLD_SECRET = "jira-webhook-secret-2023"
IDENTIFIER = "e9d4a5f0-1a2b-4c3d-8e9f-0a1b2c3d4e5f"


def jira_request(body: bytes, secret: str = SECRET):
    headers = {
        "X-Hub-Signature": hub_signature(secret, body),
        "X-Atlassian-Webhook-Identifier": IDENTIFIER,
        "Content-Type": "application/json",
    }
    return request(body, headers)


@pytest.mark.parametrize(
    ("name", "event_type"),
    [
        ("jira_issue__created.json", "jira:issue_created"),
        ("jira_issue__updated.json", "jira:issue_updated"),
        ("comment__created.json", "comment_created"),
    ],
)
async def test_fixtures_verify(name: str, event_type: str) -> None:
    delivery = await JIRA.verify(jira_request(fixture("jira", name)), secrets(SECRET))
    assert (delivery.event_id, delivery.event_type) == (IDENTIFIER, event_type)


async def test_rotation_and_rejections() -> None:
    body = fixture("jira", "jira_issue__created.json")
    assert await JIRA.verify(jira_request(body, OLD_SECRET), secrets(SECRET, OLD_SECRET))
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await JIRA.verify(jira_request(body, OLD_SECRET), secrets(SECRET))
    signed = jira_request(body)
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await JIRA.verify(request(body.replace(b"ED-1", b"ED-2"), signed.headers), secrets(SECRET))
    # GitHub's header name is not Jira's.
    moved = {"x-hub-signature-256": signed.headers["x-hub-signature"]}
    with pytest.raises(WebhookVerificationError, match="missing X-Hub-Signature header"):
        await JIRA.verify(request(body, moved), secrets(SECRET))
    with pytest.raises(WebhookVerificationError, match="malformed"):
        await JIRA.verify(request(body, {"x-hub-signature": "sha1=00"}), secrets(SECRET))


async def test_missing_identifier_falls_back_to_body_hash() -> None:
    body = fixture("jira", "jira_issue__created.json")
    headers = {"X-Hub-Signature": hub_signature(SECRET, body)}
    delivery = await JIRA.verify(request(body, headers), secrets(SECRET))
    assert delivery.event_id is None and delivery.event_type == "jira:issue_created"


def test_normalize_issue_events() -> None:
    created = JIRA.normalize(fixture("jira", "jira_issue__created.json"), {})
    assert created.type == "jira:issue_created" and created.subject == "ED-1"
    assert created.time is not None and created.time.year == 2024
    assert created.data["summary"] == "Checkout fails with a 500 for EUR carts"
    assert created.data["status"] == "To Do" and created.data["project"] == "ED"
    assert created.data["issue_type"] == "Bug" and created.data["changes"] == []
    updated = JIRA.normalize(fixture("jira", "jira_issue__updated.json"), {})
    assert updated.data["changes"][0] == {"field": "status", "from": "To Do", "to": "In Progress"}
    assert updated.data["assignee"] == "5b10ac8d82e05b22cc7d4ef5"
    comment = JIRA.normalize(fixture("jira", "comment__created.json"), {})
    assert comment.type == "comment_created" and comment.data["comment_id"] == "10050"
    project = JIRA.normalize(b'{"webhookEvent":"project_created","timestamp":1}', {})
    assert project.type == "project_created" and project.data["timestamp"] == 1
