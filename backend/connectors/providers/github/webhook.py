"""GitHub webhooks: `X-Hub-Signature-256: sha256=<hex>` over the raw body.

The event name travels in `X-GitHub-Event`, the dedupe id in `X-GitHub-Delivery`; the body
only adds `action`. A hook configured as `application/x-www-form-urlencoded` wraps the same
JSON in a `payload` field (the signature still covers the raw form bytes).
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
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import dig, from_iso, generic_event, load_json, text
from backend.connectors.webhook_schemes import (
    decode_json,
    is_form_type,
    parse_form,
    require_header,
    verify_prefixed_hex,
)


class _Action(msgspec.Struct):
    action: str | None = None


def _json_bytes(body: bytes, content_type: str) -> bytes:
    """The JSON document of a delivery, unwrapping the form-encoded `payload` field."""
    if not is_form_type(content_type):
        return body
    for name, value in parse_form(body):
        if name == "payload":
            return value.encode("utf-8")
    return b"{}"


class GitHubWebhook(WebhookHandler):
    stored_headers = (
        "x-github-event",
        "x-github-delivery",
        "x-github-hook-id",
        "x-github-hook-installation-target-id",
        "x-github-hook-installation-target-type",
        "x-hub-signature-256",
        "content-type",
        "user-agent",
    )

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        verify_prefixed_hex(request, secrets, "X-Hub-Signature-256")
        event = require_header(request, "X-GitHub-Event")
        delivery = require_header(request, "X-GitHub-Delivery")
        document = _json_bytes(request.body, request.headers.get("content-type", ""))
        action = decode_json(document, _Action).action
        # X-GitHub-Delivery is not signed and nothing signed is unique: dedupe on the body too.
        return VerifiedDelivery(
            delivery,
            f"{event}.{action}" if action else event,
            signed_digest=hashlib.sha256(request.body).digest(),
        )

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        try:
            document = _json_bytes(body, headers.get("content-type", ""))
        except WebhookVerificationError as exc:  # a form body that is not UTF-8
            raise ValueError(exc.reason) from exc
        payload = load_json(document)
        event = headers.get("x-github-event", "unknown")
        action = text(dig(payload, "action"))
        event_type = f"{event}.{action}" if action else event
        repo = text(dig(payload, "repository", "full_name"))
        sender = text(dig(payload, "sender", "login"))
        if event in ("issues", "pull_request"):
            return _issue_like(event_type, event, payload, repo, sender)
        if event == "push":
            return _push(event_type, payload, repo, sender)
        if event == "ping":
            return NormalizedEvent(
                type=event_type,
                subject=repo,
                time=from_iso(dig(payload, "hook", "created_at")),
                data={
                    "zen": text(dig(payload, "zen")),
                    "hook_id": dig(payload, "hook_id"),
                    "repository": repo,
                    "sender": sender,
                },
            )
        return generic_event(event_type, payload, repo)


def _issue_like(
    event_type: str, event: str, payload: Any, repo: str | None, sender: str | None
) -> NormalizedEvent:
    item = dig(payload, "issue" if event == "issues" else "pull_request")
    number = dig(item, "number")
    data: dict[str, Any] = {
        "action": text(dig(payload, "action")),
        "repository": repo,
        "number": number if isinstance(number, int) else None,
        "title": text(dig(item, "title")),
        "state": text(dig(item, "state")),
        "url": text(dig(item, "html_url")),
        "sender": sender,
    }
    if event == "pull_request":
        data["merged"] = dig(item, "merged") is True
        data["head_ref"] = text(dig(item, "head", "ref"))
        data["base_ref"] = text(dig(item, "base", "ref"))
    subject = f"{repo}#{number}" if repo and isinstance(number, int) else repo
    return NormalizedEvent(event_type, subject, from_iso(dig(item, "updated_at")), data)


def _push(event_type: str, payload: Any, repo: str | None, sender: str | None) -> NormalizedEvent:
    ref = text(dig(payload, "ref"))
    commits = dig(payload, "commits")
    data = {
        "repository": repo,
        "ref": ref,
        "before": text(dig(payload, "before")),
        "after": text(dig(payload, "after")),
        "commit_count": len(commits) if isinstance(commits, list) else 0,
        "head_commit": text(dig(payload, "head_commit", "id")),
        "head_message": text(dig(payload, "head_commit", "message")),
        "pusher": text(dig(payload, "pusher", "name")),
        "compare": text(dig(payload, "compare")),
        "created": dig(payload, "created") is True,
        "deleted": dig(payload, "deleted") is True,
        "forced": dig(payload, "forced") is True,
        "sender": sender,
    }
    subject = f"{repo}@{ref}" if repo and ref else repo
    return NormalizedEvent(
        event_type, subject, from_iso(dig(payload, "head_commit", "timestamp")), data
    )


HANDLER = GitHubWebhook()
