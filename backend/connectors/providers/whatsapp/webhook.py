"""WhatsApp Cloud API (Meta) webhooks: `X-Hub-Signature-256` keyed with the app secret.

Subscription is a GET handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
Deliveries batch `entry[].changes[].value` with `messages` or `statuses`; the dedupe id is
the first message id (`wamid…`), or a status id plus its status, since one message produces
a sent, a delivered and a read status under the same id.
"""

from __future__ import annotations

from typing import Any

import msgspec

from backend.connectors.base import (
    NormalizedEvent,
    Reply,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import dig, from_unix, generic_event, load_json, text
from backend.connectors.webhook_schemes import (
    constant_time_equals,
    decode_json,
    verify_prefixed_hex,
)


class _Message(msgspec.Struct):
    id: str
    type: str = "unknown"


class _Status(msgspec.Struct):
    id: str
    status: str = "unknown"


class _Value(msgspec.Struct):
    messages: list[_Message] = []
    statuses: list[_Status] = []


class _Change(msgspec.Struct):
    field: str = "unknown"
    value: _Value | None = None


class _Entry(msgspec.Struct):
    changes: list[_Change] = []


class _Payload(msgspec.Struct):
    entry: list[_Entry] = []


def _first_change(payload: _Payload) -> _Change | None:
    return next((c for e in payload.entry for c in e.changes), None)


class WhatsAppWebhook(WebhookHandler):
    stored_headers = ("x-hub-signature-256", "content-type")

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        verify_prefixed_hex(request, secrets, "X-Hub-Signature-256")
        change = _first_change(decode_json(request.body, _Payload))
        if change is None:
            return VerifiedDelivery(None, "unknown")
        value = change.value or _Value()
        if value.messages:
            message = value.messages[0]
            return VerifiedDelivery(message.id, f"message.{message.type}")
        if value.statuses:
            status = value.statuses[0]
            return VerifiedDelivery(f"{status.id}:{status.status}", f"status.{status.status}")
        return VerifiedDelivery(None, change.field)

    async def handshake(self, request: WebhookRequest, secrets: WebhookSecrets) -> Reply:
        expected = secrets.config.get("verify_token")
        if not isinstance(expected, str) or not expected:
            raise WebhookVerificationError("no verify_token configured")
        if request.query.get("hub.mode") != "subscribe":
            raise WebhookVerificationError("hub.mode is not subscribe")
        token = request.query.get("hub.verify_token")
        challenge = request.query.get("hub.challenge")
        if not token or challenge is None:
            raise WebhookVerificationError("missing hub.verify_token or hub.challenge")
        if not constant_time_equals(token, expected):
            raise WebhookVerificationError("hub.verify_token mismatch")
        return Reply(200, challenge.encode("utf-8", "surrogatepass"))

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        value = dig(payload, "entry", 0, "changes", 0, "value")
        metadata = {
            "phone_number_id": text(dig(value, "metadata", "phone_number_id")),
            "display_phone_number": text(dig(value, "metadata", "display_phone_number")),
        }
        message = dig(value, "messages", 0)
        if isinstance(message, dict):
            return _message(message, value, metadata)
        status = dig(value, "statuses", 0)
        if isinstance(status, dict):
            state = text(status.get("status")) or "unknown"
            data = {
                **metadata,
                "id": text(status.get("id")),
                "status": state,
                "recipient_id": text(status.get("recipient_id")),
                "conversation_id": text(dig(status, "conversation", "id")),
                "error_code": dig(status, "errors", 0, "code"),
                "error_title": text(dig(status, "errors", 0, "title")),
            }
            return NormalizedEvent(
                f"status.{state}", data["id"], from_unix(status.get("timestamp")), data
            )
        field = text(dig(payload, "entry", 0, "changes", 0, "field")) or "unknown"
        return generic_event(field, payload)


def _message(message: dict[str, Any], value: Any, metadata: dict[str, Any]) -> NormalizedEvent:
    kind = text(message.get("type")) or "unknown"
    sender = text(message.get("from"))
    contacts = dig(value, "contacts")
    contact = (
        next(
            (c for c in contacts if text(dig(c, "wa_id")) == sender),
            None,
        )
        if isinstance(contacts, list)
        else None
    )
    content = message.get(kind)
    data = {
        **metadata,
        "id": text(message.get("id")),
        "type": kind,
        "from": sender,
        "contact_name": text(dig(contact, "profile", "name")),
        "text": text(dig(content, "body")) or text(dig(content, "caption")),
        "media_id": text(dig(content, "id")),
        "context_id": text(dig(message, "context", "id")),
    }
    return NormalizedEvent(f"message.{kind}", data["id"], from_unix(message.get("timestamp")), data)


HANDLER = WhatsAppWebhook()
