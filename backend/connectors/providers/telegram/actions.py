"""Telegram's outbound action: sendMessage as the bot, with the Bot API's own reply markup.

Docs: https://core.telegram.org/bots/api#sendmessage. Sent as a JSON body, so `reply_markup`
travels as the JSON object the Bot API documents (InlineKeyboardMarkup, ReplyKeyboardMarkup,
ReplyKeyboardRemove or ForceReply), not as a string. `reply_to_message_id` became
`reply_parameters` in Bot API 7.0; callers may give the simple id and it is sent in the
current form.
"""

from __future__ import annotations

from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.connectors.paths import dig
from backend.lib.vocab import FailureKind

_PLACEHOLDER = {"type": "string", "minLength": 1, "maxLength": 64}
_URL = {"type": "string", "minLength": 1, "maxLength": 2048}

# https://core.telegram.org/bots/api#inlinekeyboardbutton: "Exactly one of the optional
# fields must be used to specify type of the button."
_INLINE_BUTTON_KINDS: dict[str, Any] = {
    "url": _URL,
    "callback_data": {"type": "string", "minLength": 1, "maxLength": 64},
    "switch_inline_query": {"type": "string"},
    "switch_inline_query_current_chat": {"type": "string"},
    "web_app": {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {"url": _URL},
    },
    "login_url": {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": _URL,
            "forward_text": {"type": "string"},
            "bot_username": {"type": "string"},
            "request_write_access": {"type": "boolean"},
        },
    },
    "copy_text": {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 256}},
    },
}

_INLINE_BUTTON: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {"text": {"type": "string", "minLength": 1}, **_INLINE_BUTTON_KINDS},
    "oneOf": [{"required": [kind]} for kind in _INLINE_BUTTON_KINDS],
}

# https://core.telegram.org/bots/api#keyboardbutton (the common kinds of request).
_KEYBOARD_BUTTON: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "request_contact": {"type": "boolean"},
        "request_location": {"type": "boolean"},
    },
}


def _rows(button: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 1,
        "items": {"type": "array", "minItems": 1, "items": button},
    }


def _markup(required: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [required],
        "properties": properties,
    }


REPLY_MARKUP: dict[str, Any] = {
    "oneOf": [
        _markup("inline_keyboard", {"inline_keyboard": _rows(_INLINE_BUTTON)}),
        _markup(
            "keyboard",
            {
                "keyboard": _rows(_KEYBOARD_BUTTON),
                "is_persistent": {"type": "boolean"},
                "resize_keyboard": {"type": "boolean"},
                "one_time_keyboard": {"type": "boolean"},
                "input_field_placeholder": _PLACEHOLDER,
                "selective": {"type": "boolean"},
            },
        ),
        _markup(
            "remove_keyboard",
            {"remove_keyboard": {"const": True}, "selective": {"type": "boolean"}},
        ),
        _markup(
            "force_reply",
            {
                "force_reply": {"const": True},
                "input_field_placeholder": _PLACEHOLDER,
                "selective": {"type": "boolean"},
            },
        ),
    ],
}

SEND_MESSAGE_INPUT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["chat_id", "text"],
    "dependentRequired": {"allow_sending_without_reply": ["reply_to_message_id"]},
    "properties": {
        "chat_id": {
            "description": "A chat's numeric id, or @channelusername for a channel.",
            "oneOf": [
                {"type": "integer"},
                {"type": "string", "pattern": "^@[A-Za-z][A-Za-z0-9_]{4,31}$"},
            ],
        },
        # 1-4096 characters after entities parsing.
        "text": {"type": "string", "minLength": 1, "maxLength": 4096},
        "parse_mode": {"enum": ["MarkdownV2", "HTML", "Markdown"]},
        "message_thread_id": {"type": "integer"},
        "disable_notification": {"type": "boolean"},
        "protect_content": {"type": "boolean"},
        "reply_to_message_id": {"type": "integer", "minimum": 1},
        "allow_sending_without_reply": {"type": "boolean"},
        "reply_markup": REPLY_MARKUP,
    },
}

_PASSED_AS_IS = (
    "chat_id",
    "text",
    "parse_mode",
    "message_thread_id",
    "disable_notification",
    "protect_content",
    "reply_markup",
)


def send_message_body(values: dict[str, Any]) -> dict[str, Any]:
    """The sendMessage JSON body for a validated input."""
    body = {name: values[name] for name in _PASSED_AS_IS if name in values}
    if "reply_to_message_id" in values:
        reply: dict[str, Any] = {"message_id": values["reply_to_message_id"]}
        if "allow_sending_without_reply" in values:
            reply["allow_sending_without_reply"] = values["allow_sending_without_reply"]
        body["reply_parameters"] = reply
    return body


async def send_message(adapter: Adapter, call: ActionCall) -> ActionResult:
    response = await adapter.call("POST", "sendMessage", json=send_message_body(call.input))
    body = json_body(response)
    answer = body if isinstance(body, dict) else {}
    message_id, chat_id = dig(answer, "result.message_id"), dig(answer, "result.chat.id")
    if not isinstance(message_id, int) or chat_id is None:
        raise ProviderError(FailureKind.PROVIDER_DOWN, "Telegram's answer named no sent message")
    return ActionResult(
        result={"message_id": message_id, "chat_id": chat_id}, provider_response=answer
    )


ACTIONS: tuple[Action, ...] = (
    Action(
        name="send_message",
        description="Send a text message as the bot, optionally formatted (parse_mode), as a "
        "reply, or with an inline or custom keyboard (reply_markup).",
        input_schema=SEND_MESSAGE_INPUT,
        run=send_message,
        # The answer echoes the sent Message under `result` (redaction applies to both).
        redact_fields=("text", "result.text"),
    ),
)
