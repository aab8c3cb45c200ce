"""Simulated WhatsApp Cloud API webhooks, shaped like Meta's documented examples: one
`messages` change per delivery, naming the phone number the integration is connected to.

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import msgspec

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    event_time,
    simulated_number,
)
from backend.connectors.providers.whatsapp.spec import SPEC
from backend.connectors.webhook_schemes import hmac_digests, to_bytes

# The simulator's business account and number (the spec's example phone number id).
_WABA_ID = "102290129340398"
_PHONE_NUMBER_ID = next(f.example for f in SPEC.credential_fields if f.name == "phone_number_id")
_DISPLAY_NUMBER = "15550100199"
_CUSTOMER = {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}


def _wamid(ctx: SimulationContext, salt: str = "") -> str:
    """A message id shaped like Meta's (`wamid.` + base64), unique per delivery."""
    seed = f"{ctx.integration_id}:{simulated_number(ctx)}:{salt}".encode()
    return "wamid." + base64.b64encode(b"\x18\x0b" + hashlib.sha256(seed).digest()[:30]).decode()


def _media_id(ctx: SimulationContext) -> str:
    return str(1_000_000_000_000_000 + simulated_number(ctx) % 10**15)


def _content(kind: str, ctx: SimulationContext) -> dict[str, Any]:
    """The type-named part of an incoming message (plus `context` for replies)."""
    sha = base64.b64encode(hashlib.sha256(_media_id(ctx).encode()).digest()).decode()
    contents: dict[str, dict[str, Any]] = {
        "text": {"text": {"body": "Does it come in another color?"}},
        "image": {
            "image": {
                "caption": "Here is the damaged item",
                "mime_type": "image/jpeg",
                "sha256": sha,
                "id": _media_id(ctx),
            }
        },
        "audio": {
            "audio": {
                "mime_type": "audio/ogg; codecs=opus",
                "sha256": sha,
                "id": _media_id(ctx),
                "voice": True,
            }
        },
        "document": {
            "document": {
                "caption": "Invoice for order 4711",
                "filename": "invoice-4711.pdf",
                "mime_type": "application/pdf",
                "sha256": sha,
                "id": _media_id(ctx),
            }
        },
        "location": {
            "location": {
                "latitude": 37.4847783,
                "longitude": -122.1473512,
                "name": "Philz Coffee",
                "address": "101 Forest Ave, Palo Alto, CA 94301",
            }
        },
        "reaction": {"reaction": {"message_id": _wamid(ctx, "ours"), "emoji": "\U0001f44d"}},
        "interactive": {
            "context": {"from": _DISPLAY_NUMBER, "id": _wamid(ctx, "ours")},
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "confirm-order", "title": "Confirm"},
            },
        },
        "button": {
            "context": {"from": _DISPLAY_NUMBER, "id": _wamid(ctx, "ours")},
            "button": {"payload": "TRACK_ORDER", "text": "Track my order"},
        },
    }
    return contents[kind]


def _status(state: str, ctx: SimulationContext) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id": _wamid(ctx, "ours"),
        "status": state,
        "timestamp": str(int(event_time(ctx))),
        "recipient_id": _CUSTOMER["wa_id"],
    }
    if state in ("sent", "delivered"):
        status["conversation"] = {
            "id": hashlib.md5(status["id"].encode(), usedforsecurity=False).hexdigest(),
            "origin": {"type": "utility"},
        }
        status["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "utility",
            "type": "regular",
        }
    if state == "failed":
        status["errors"] = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": "Message undeliverable",
                "error_data": {"details": "Receiver is incapable of receiving this message"},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    return status


def _envelope(ctx: SimulationContext, value: dict[str, Any]) -> dict[str, Any]:
    metadata = {
        "display_phone_number": _DISPLAY_NUMBER,
        "phone_number_id": ctx.account_id or _PHONE_NUMBER_ID,
    }
    change = {
        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
        "field": "messages",
    }
    return {"object": "whatsapp_business_account", "entry": [{"id": _WABA_ID, "changes": [change]}]}


def _delivery(
    name: str, ctx: SimulationContext, value: dict[str, Any], event_id: Callable[[Any], str]
) -> OutboundDelivery:
    payload = deep_merge(_envelope(ctx, value), ctx.overrides)
    return OutboundDelivery(
        event_type=name,
        provider_event_id=event_id(payload["entry"][0]["changes"][0]["value"]),
        body=msgspec.json.encode(payload),
        headers={"content-type": "application/json"},
        occurred_at=event_time(ctx),
    )


_MESSAGE_DESCRIPTIONS = {
    "text": "A customer sent a text message.",
    "image": "A customer sent an image (a media id to download, and a caption).",
    "audio": "A customer sent an audio or voice message.",
    "document": "A customer sent a document.",
    "location": "A customer shared a location.",
    "reaction": "A customer reacted to a message with an emoji.",
    "interactive": "A customer answered an interactive message (a reply button).",
    "button": "A customer pressed a quick-reply button of a template message.",
}
_STATUS_DESCRIPTIONS = {
    "sent": "A message the business sent left Meta's servers.",
    "delivered": "A message the business sent reached the customer's device.",
    "read": "The customer read a message the business sent.",
    "failed": "A message the business sent could not be delivered.",
}


def _message_type(kind: str) -> EventType:
    def build(ctx: SimulationContext) -> OutboundDelivery:
        message = {
            "from": _CUSTOMER["wa_id"],
            "id": _wamid(ctx),
            "timestamp": str(int(event_time(ctx))),
            "type": kind,
            **_content(kind, ctx),
        }
        value = {"contacts": [_CUSTOMER], "messages": [message]}
        return _delivery(f"message.{kind}", ctx, value, lambda v: v["messages"][0]["id"])

    return EventType(f"message.{kind}", _MESSAGE_DESCRIPTIONS[kind], build)


def _status_type(state: str) -> EventType:
    def build(ctx: SimulationContext) -> OutboundDelivery:
        value = {"statuses": [_status(state, ctx)]}
        return _delivery(
            f"status.{state}",
            ctx,
            value,
            lambda v: f"{v['statuses'][0]['id']}:{v['statuses'][0]['status']}",
        )

    return EventType(f"status.{state}", _STATUS_DESCRIPTIONS[state], build)


EVENT_TYPES = (
    *(_message_type(kind) for kind in _MESSAGE_DESCRIPTIONS),
    *(_status_type(state) for state in _STATUS_DESCRIPTIONS),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """Meta signs the body with the app secret: `sha256=<hex HMAC-SHA256>`."""
    if not ctx.signing_secret:
        return {}
    digest = hmac_digests([to_bytes(ctx.signing_secret)], delivery.body, hashlib.sha256)[0]
    return {"x-hub-signature-256": "sha256=" + digest.hex()}
