"""WhatsApp Cloud API (Meta) webhooks: `X-Hub-Signature-256` keyed with the app secret.

Subscription is a GET handshake (`hub.mode=subscribe`, `hub.verify_token`, `hub.challenge`).
Deliveries batch `entry[].changes[].value` with `messages` or `statuses`; the dedupe id is
the first message id (`wamid…`), or a status id plus its status, since one message produces
a sent, a delivered and a read status under the same id.

Meta sends every phone number's changes to the app's one callback URL, several per delivery
at times: `split` keeps each change as its own event, the documented envelope around the
change's exact bytes, so each is routed by its `metadata.phone_number_id`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from backend.connectors.base import (
    DeliveryPart,
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


class _RawEntry(msgspec.Struct):
    id: msgspec.Raw = msgspec.Raw(b'""')
    changes: list[msgspec.Raw] = []


class _RawPayload(msgspec.Struct):
    object: msgspec.Raw = msgspec.Raw(b'"whatsapp_business_account"')
    entry: list[_RawEntry] = []


def _first_change(payload: _Payload) -> _Change | None:
    return next((c for e in payload.entry for c in e.changes), None)


def _identify(change: _Change | None) -> tuple[str | None, str]:
    """The dedupe id and type of one change."""
    if change is None:
        return None, "unknown"
    value = change.value or _Value()
    if value.messages:
        message = value.messages[0]
        return message.id, f"message.{message.type}"
    if value.statuses:
        status = value.statuses[0]
        return f"{status.id}:{status.status}", f"status.{status.status}"
    return None, change.field


def _one_change(payload: _RawPayload, entry: _RawEntry, change: msgspec.Raw) -> bytes:
    """The envelope Meta documents, holding one change byte for byte."""
    head = b'{"object":%s,"entry":[{"id":%s,"changes":[' % (payload.object, entry.id)
    return head + change + b"]}]}"


class WhatsAppWebhook(WebhookHandler):
    stored_headers = ("x-hub-signature-256", "content-type")

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        verify_prefixed_hex(request, secrets, "X-Hub-Signature-256")
        return VerifiedDelivery(*_identify(_first_change(decode_json(request.body, _Payload))))

    def split(self, request: WebhookRequest, delivery: VerifiedDelivery) -> list[DeliveryPart]:
        """One event per change; a delivery of one change is kept as received."""
        payload = decode_json(request.body, _RawPayload)
        changes = [(entry, change) for entry in payload.entry for change in entry.changes]
        if len(changes) <= 1:
            document = msgspec.json.decode(request.body)
            return [DeliveryPart(request.body, delivery.event_id, delivery.event_type, document)]
        parts: list[DeliveryPart] = []
        for entry, change in changes:
            body = _one_change(payload, entry, change)
            event_id, event_type = _identify(decode_json(change, _Change))
            parts.append(DeliveryPart(body, event_id, event_type, msgspec.json.decode(body)))
        return parts

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
