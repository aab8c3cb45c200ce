"""Slack's outbound action: chat.postMessage as the bot (text, Block Kit blocks, thread replies).

Docs: https://docs.slack.dev/reference/methods/chat.postMessage. Sent form-encoded (the method's
published description; `blocks` travels as a JSON string there). Slack answers failures as HTTP
200 with `ok: false`, which the spec's error table turns into a ProviderError.
"""

from __future__ import annotations

import json
from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.connectors.paths import dig_str
from backend.lib.vocab import FailureKind

# A message ts: seconds.microseconds ("1503435956.000247").
_TS = r"^[0-9]+\.[0-9]+$"

POST_MESSAGE_INPUT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["channel"],
    # `text` is required unless blocks carry the message (then it is the notification fallback).
    "anyOf": [{"required": ["text"]}, {"required": ["blocks"]}],
    "dependentRequired": {"reply_broadcast": ["thread_ts"]},
    "properties": {
        "channel": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "A channel, private group or IM id (C0123ABCDEF), or a channel name.",
        },
        "text": {"type": "string", "minLength": 1, "maxLength": 40000},
        "blocks": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string", "minLength": 1}},
            },
            "description": "Block Kit blocks (https://docs.slack.dev/reference/block-kit/blocks).",
        },
        "thread_ts": {
            "type": "string",
            "pattern": _TS,
            "description": "The parent message's ts: the message becomes a reply in its thread.",
        },
        "reply_broadcast": {"type": "boolean"},
        "unfurl_links": {"type": "boolean"},
        "unfurl_media": {"type": "boolean"},
        "mrkdwn": {"type": "boolean"},
    },
}


def _form(value: Any) -> str:
    """A form field's value as Slack reads it: booleans as true/false, arrays as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


async def post_message(adapter: Adapter, call: ActionCall) -> ActionResult:
    form = {name: _form(value) for name, value in call.input.items()}
    response = await adapter.call("POST", "chat.postMessage", data=form)
    body = json_body(response)
    answer = body if isinstance(body, dict) else {}
    ts = dig_str(answer, "ts")
    if not ts:
        raise ProviderError(FailureKind.PROVIDER_DOWN, "Slack's answer named no message ts")
    result = {"ts": ts, "channel": dig_str(answer, "channel") or call.input["channel"]}
    if "thread_ts" in call.input:
        result["thread_ts"] = call.input["thread_ts"]
    return ActionResult(result=result, provider_response=answer)


ACTIONS: tuple[Action, ...] = (
    Action(
        name="post_message",
        description="Post a message (text and/or Block Kit blocks) to a channel as the bot, "
        "optionally as a reply in a thread.",
        input_schema=POST_MESSAGE_INPUT,
        run=post_message,
        required_scopes=(("chat:write",),),
        # The answer echoes the message under `message` (redaction applies to both).
        redact_fields=("text", "blocks", "message.text", "message.blocks"),
    ),
)
