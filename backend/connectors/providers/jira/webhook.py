"""Jira Cloud / Data Center secret-based webhooks: `X-Hub-Signature: sha256=<hex>`.

Note the header is `X-Hub-Signature` (not `-256`) yet carries SHA-256. The dedupe id is
`X-Atlassian-Webhook-Identifier` (the same across retries); older Data Center versions omit
it, in which case ingest falls back to the body hash. The type is the body's `webhookEvent`.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
)
from backend.connectors.webhook_normalize import dig, from_unix, generic_event, load_json, text
from backend.connectors.webhook_schemes import decode_json, header, verify_prefixed_hex


class _Event(msgspec.Struct):
    webhook_event: str | None = msgspec.field(default=None, name="webhookEvent")


class JiraWebhook(WebhookHandler):
    stored_headers = (
        "x-atlassian-webhook-identifier",
        "x-atlassian-webhook-retry",
        "x-atlassian-webhook-flow",
        "x-hub-signature",
        "content-type",
    )

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        verify_prefixed_hex(request, secrets, "X-Hub-Signature")
        event = decode_json(request.body, _Event)
        event_id = header(request, "X-Atlassian-Webhook-Identifier")
        # The identifier is not signed: dedupe on the signed body too.
        digest = hashlib.sha256(request.body).digest() if event_id else None
        return VerifiedDelivery(event_id, event.webhook_event or "unknown", signed_digest=digest)

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        event_type = text(dig(payload, "webhookEvent")) or "unknown"
        issue = dig(payload, "issue")
        key = text(dig(issue, "key"))
        if not isinstance(issue, dict):
            return generic_event(event_type, payload)
        fields = dig(issue, "fields")
        data: dict[str, Any] = {
            "issue_key": key,
            "issue_id": text(dig(issue, "id")),
            "project": text(dig(fields, "project", "key")),
            "summary": text(dig(fields, "summary")),
            "status": text(dig(fields, "status", "name")),
            "issue_type": text(dig(fields, "issuetype", "name")),
            "priority": text(dig(fields, "priority", "name")),
            "assignee": text(dig(fields, "assignee", "accountId")),
            "user": text(dig(payload, "user", "accountId")) or text(dig(payload, "user", "name")),
            "issue_event_type": text(dig(payload, "issue_event_type_name")),
            "changes": _changes(dig(payload, "changelog", "items")),
        }
        comment = dig(payload, "comment")
        if isinstance(comment, dict):
            data["comment_id"] = text(comment.get("id"))
            data["comment_body"] = text(comment.get("body"))
        time = from_unix(dig(payload, "timestamp"), millis=True)
        return NormalizedEvent(event_type, key, time, data)


def _changes(items: Any) -> list[dict[str, str | None]]:
    """Changelog items as field / from / to display strings."""
    if not isinstance(items, list):
        return []
    return [
        {
            "field": text(dig(item, "field")),
            "from": text(dig(item, "fromString")),
            "to": text(dig(item, "toString")),
        }
        for item in items
    ]


HANDLER = JiraWebhook()
