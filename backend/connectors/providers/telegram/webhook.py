"""Telegram Bot API updates: no signature, a shared secret token in a header.

`setWebhook(secret_token=…)` makes Telegram send `X-Telegram-Bot-Api-Secret-Token`; it must
equal one of the integration's signing secrets (constant time). An Update carries
`update_id` plus exactly one optional field naming its kind (message, callback_query, …).
"""

from __future__ import annotations

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
from backend.connectors.webhook_normalize import dig, from_unix, generic_event, load_json, text
from backend.connectors.webhook_schemes import decode_json, equals_any_secret, require_header

_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_MESSAGE_KINDS = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "business_message"}
)


def update_kind(update: dict[str, Any]) -> str:
    """The first field besides `update_id`: Telegram sends exactly one per update."""
    return next((key for key in update if key != "update_id"), "unknown")


class TelegramWebhook(WebhookHandler):
    stored_headers = ("content-type",)

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        if not equals_any_secret(require_header(request, _HEADER), secrets):
            raise WebhookVerificationError(f"{_HEADER} mismatch")
        # Raw values: only the key names and update_id are needed, nothing else is built.
        update = decode_json(request.body, dict[str, msgspec.Raw])
        update_id = update.get("update_id")
        if update_id is None:
            raise WebhookVerificationError("update without update_id")
        number = decode_json(update_id, int)
        return VerifiedDelivery(str(number), update_kind(update))

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        if not isinstance(payload, dict):
            return generic_event("unknown", payload)
        kind = update_kind(payload)
        item = payload.get(kind)
        if kind in _MESSAGE_KINDS:
            chat_id = text(dig(item, "chat", "id"))
            data = {
                "update_id": payload.get("update_id"),
                "message_id": dig(item, "message_id"),
                "chat_id": chat_id,
                "chat_type": text(dig(item, "chat", "type")),
                "from_id": text(dig(item, "from", "id")),
                "from_username": text(dig(item, "from", "username")),
                "text": text(dig(item, "text")) or text(dig(item, "caption")),
            }
            time = from_unix(dig(item, "edit_date") or dig(item, "date"))
            return NormalizedEvent(kind, chat_id, time, data)
        if kind == "callback_query":
            chat_id = text(dig(item, "message", "chat", "id"))
            data = {
                "update_id": payload.get("update_id"),
                "callback_query_id": text(dig(item, "id")),
                "chat_id": chat_id,
                "message_id": dig(item, "message", "message_id"),
                "from_id": text(dig(item, "from", "id")),
                "from_username": text(dig(item, "from", "username")),
                "data": text(dig(item, "data")),
            }
            return NormalizedEvent(kind, chat_id, None, data)
        return NormalizedEvent(kind, None, None, {"update_id": payload.get("update_id")})


HANDLER = TelegramWebhook()
