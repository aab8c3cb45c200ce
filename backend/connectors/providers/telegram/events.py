"""Simulated Telegram Bot API updates, shaped like the documented `Update` objects.

An update holds `update_id` and exactly one field naming its kind; the bot's own identity is
not in it (a webhook belongs to one bot). Ids increase from call to call, as Telegram's do.
Docs: https://core.telegram.org/bots/api#update
"""

from __future__ import annotations

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

_USER = {
    "id": 1111111,
    "is_bot": False,
    "first_name": "Test Firstname",
    "last_name": "Test Lastname",
    "username": "Testusername",
    "language_code": "en",
}
_PRIVATE_CHAT = {
    "id": 1111111,
    "first_name": "Test Firstname",
    "last_name": "Test Lastname",
    "username": "Testusername",
    "type": "private",
}
_CHANNEL = {"id": -1001234567890, "title": "Switchboard announcements", "type": "channel"}
_BOT = {"id": 7000000001, "is_bot": True, "first_name": "Example Bot", "username": "example_bot"}


def _message_id(ctx: SimulationContext) -> int:
    return 1000 + ctx.sequence


def _message(ctx: SimulationContext) -> dict[str, Any]:
    return {
        "message_id": _message_id(ctx),
        "from": _USER,
        "chat": _PRIVATE_CHAT,
        "date": int(event_time(ctx)),
        "text": "Hello from a simulated chat",
    }


def _edited_message(ctx: SimulationContext) -> dict[str, Any]:
    date = int(event_time(ctx))
    return {
        "message_id": _message_id(ctx),
        "from": _USER,
        "chat": _PRIVATE_CHAT,
        "date": date - 60,
        "edit_date": date,
        "text": "Hello from a simulated chat (edited)",
    }


def _channel_post(ctx: SimulationContext) -> dict[str, Any]:
    return {
        "message_id": _message_id(ctx),
        "sender_chat": _CHANNEL,
        "chat": _CHANNEL,
        "date": int(event_time(ctx)),
        "text": "A simulated channel post",
    }


def _edited_channel_post(ctx: SimulationContext) -> dict[str, Any]:
    date = int(event_time(ctx))
    return {**_channel_post(ctx), "date": date - 60, "edit_date": date}


def _business_message(ctx: SimulationContext) -> dict[str, Any]:
    return {
        "business_connection_id": "AbCdEfSimulatedBusinessConnection",
        **_message(ctx),
    }


def _callback_query(ctx: SimulationContext) -> dict[str, Any]:
    return {
        "id": str(4382000000000000000 + simulated_number(ctx) % 10**15),
        "from": _USER,
        "message": {
            "message_id": _message_id(ctx),
            "from": _BOT,
            "chat": _PRIVATE_CHAT,
            "date": int(event_time(ctx)) - 30,
            "text": "Pick one",
            "reply_markup": {
                "inline_keyboard": [
                    [
                        {"text": "Yes", "callback_data": "vote:yes"},
                        {"text": "No", "callback_data": "vote:no"},
                    ]
                ]
            },
        },
        "chat_instance": "-8412946372381234567",
        "data": "vote:yes",
    }


def _update(kind: str, item: Callable[[SimulationContext], dict[str, Any]]) -> EventType:
    descriptions = {
        "message": "A new incoming message of any kind: text, photo, sticker…",
        "edited_message": "A message the bot knows was edited.",
        "channel_post": "A new post in a channel the bot is a member of.",
        "edited_channel_post": "A channel post the bot knows was edited.",
        "business_message": "A message in a business account connected to the bot.",
        "callback_query": "A user pressed a button of the bot's inline keyboard.",
    }

    def build(ctx: SimulationContext) -> OutboundDelivery:
        update = deep_merge({"update_id": simulated_number(ctx), kind: item(ctx)}, ctx.overrides)
        return OutboundDelivery(
            event_type=kind,
            provider_event_id=str(update["update_id"]),
            body=msgspec.json.encode(update),
            headers={"content-type": "application/json"},
            occurred_at=event_time(ctx),
        )

    return EventType(kind, descriptions[kind], build)


EVENT_TYPES = (
    _update("message", _message),
    _update("edited_message", _edited_message),
    _update("channel_post", _channel_post),
    _update("edited_channel_post", _edited_channel_post),
    _update("business_message", _business_message),
    _update("callback_query", _callback_query),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """setWebhook's secret_token comes back verbatim; without one Telegram sends none."""
    if not ctx.signing_secret:
        return {}
    return {"x-telegram-bot-api-secret-token": ctx.signing_secret}
