"""WhatsApp's outbound action: a text or an approved template message from the integration's
phone number (Cloud API POST /{phone_number_id}/messages).

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages. Free-form
text reaches a user only inside the 24-hour customer service window; outside it Meta accepts
only an approved template, whose placeholders the components' parameters fill.
"""

from __future__ import annotations

from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.connectors.paths import dig_str
from backend.lib.vocab import FailureKind


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
    }


def _parameter(kind: str, value: dict[str, Any]) -> dict[str, Any]:
    return _object(["type", kind], {"type": {"const": kind}, kind: value})


_MEDIA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "link": {"type": "string", "format": "uri", "pattern": "^https?://"},
        "filename": {"type": "string"},
    },
    "oneOf": [{"required": ["id"]}, {"required": ["link"]}],
}

# https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#parameter-object
_TEMPLATE_PARAMETER: dict[str, Any] = {
    "oneOf": [
        _parameter("text", {"type": "string", "minLength": 1, "maxLength": 32768}),
        _parameter(
            "currency",
            _object(
                ["fallback_value", "code", "amount_1000"],
                {
                    "fallback_value": {"type": "string", "minLength": 1},
                    "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "amount_1000": {"type": "integer"},
                },
            ),
        ),
        _parameter(
            "date_time",
            _object(["fallback_value"], {"fallback_value": {"type": "string", "minLength": 1}}),
        ),
        _parameter("image", _MEDIA),
        _parameter("document", _MEDIA),
        _parameter("video", _MEDIA),
        # A quick-reply button's payload, returned in the user's button reply.
        _parameter("payload", {"type": "string", "minLength": 1, "maxLength": 128}),
    ]
}

_COMPONENT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type"],
    "properties": {
        "type": {"enum": ["header", "body", "button"]},
        "sub_type": {"enum": ["quick_reply", "url"]},
        "index": {"type": "string", "pattern": "^[0-9]$"},
        "parameters": {"type": "array", "minItems": 1, "items": _TEMPLATE_PARAMETER},
    },
    # "Required when type=button" for sub_type and index.
    "if": {"properties": {"type": {"const": "button"}}},
    "then": {"required": ["sub_type", "index"]},
}

SEND_MESSAGE_INPUT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["to"],
    "oneOf": [{"required": ["text"]}, {"required": ["template"]}],
    "dependentRequired": {"preview_url": ["text"]},
    "properties": {
        "to": {
            "type": "string",
            "pattern": r"^\+?[1-9][0-9]{6,14}$",
            "description": "The recipient's WhatsApp number, with country code.",
        },
        "text": {"type": "string", "minLength": 1, "maxLength": 4096},
        "preview_url": {"type": "boolean"},
        "template": _object(
            ["name", "language"],
            {
                "name": {"type": "string", "pattern": "^[a-z0-9_]{1,512}$"},
                "language": {
                    "type": "string",
                    "pattern": "^[a-z]{2,3}(_[A-Za-z]{2,4})?$",
                    "description": "The approved translation's code, e.g. en_US.",
                },
                "components": {"type": "array", "minItems": 1, "items": _COMPONENT},
            },
        ),
        "reply_to": {
            "type": "string",
            "minLength": 1,
            "description": "The id (wamid.…) of a message this one replies to.",
        },
    },
}


def send_message_body(values: dict[str, Any]) -> dict[str, Any]:
    """The Cloud API message object for a validated input."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": values["to"],
    }
    if "text" in values:
        text: dict[str, Any] = {"body": values["text"]}
        if "preview_url" in values:
            text["preview_url"] = values["preview_url"]
        body |= {"type": "text", "text": text}
    else:
        given = values["template"]
        template: dict[str, Any] = {
            "name": given["name"],
            "language": {"policy": "deterministic", "code": given["language"]},
        }
        if "components" in given:
            template["components"] = given["components"]
        body |= {"type": "template", "template": template}
    if "reply_to" in values:
        body["context"] = {"message_id": values["reply_to"]}
    return body


async def send_message(adapter: Adapter, call: ActionCall) -> ActionResult:
    # From the integration's own phone number (a credential field checked against its
    # pattern before it is put in the path), never from the input.
    path = adapter.fill_path("{credentials.phone_number_id}/messages")
    response = await adapter.call("POST", path, json=send_message_body(call.input))
    body = json_body(response)
    answer = body if isinstance(body, dict) else {}
    message_id = dig_str(answer, "messages.0.id")
    if not message_id:
        raise ProviderError(FailureKind.PROVIDER_DOWN, "WhatsApp's answer named no message id")
    return ActionResult(result={"id": message_id}, provider_response=answer)


ACTIONS: tuple[Action, ...] = (
    Action(
        name="send_message",
        description="Send a text message, or an approved template with its parameters, from "
        "the integration's WhatsApp number.",
        input_schema=SEND_MESSAGE_INPUT,
        run=send_message,
        redact_fields=("text", "template"),
    ),
)
