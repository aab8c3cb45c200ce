"""Twilio's outbound action: send an SMS from a number or a Messaging Service.

Docs: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource.
POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded with Twilio's PascalCase
names, HTTP Basic with the Account SID and Auth Token (the adapter's auth).
"""

from __future__ import annotations

from typing import Any

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.connectors.paths import dig_str
from backend.lib.vocab import FailureKind

_E164 = r"^\+[1-9][0-9]{1,14}$"

SEND_SMS_INPUT: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["to", "body"],
    # The sender: a Twilio number (or alphanumeric sender id), or a Messaging Service.
    "oneOf": [{"required": ["from"]}, {"required": ["messaging_service_sid"]}],
    "properties": {
        "to": {"type": "string", "pattern": _E164, "description": "E.164, e.g. +15558675310."},
        "from": {
            "type": "string",
            "description": "A Twilio number in E.164, or an alphanumeric sender id.",
            "oneOf": [
                {"pattern": _E164},
                {"pattern": "^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$"},
            ],
        },
        "messaging_service_sid": {"type": "string", "pattern": "^MG[0-9a-fA-F]{32}$"},
        # Up to 1,600 characters (longer bodies are refused with error 21617).
        "body": {"type": "string", "minLength": 1, "maxLength": 1600},
        "status_callback": {"type": "string", "format": "uri", "pattern": "^https?://"},
        "validity_period": {"type": "integer", "minimum": 1, "maximum": 36000},
    },
}

# Input name -> Twilio's form field.
_FIELDS = {
    "to": "To",
    "from": "From",
    "messaging_service_sid": "MessagingServiceSid",
    "body": "Body",
    "status_callback": "StatusCallback",
    "validity_period": "ValidityPeriod",
}


def send_sms_form(values: dict[str, Any]) -> dict[str, str]:
    """Twilio's form fields for a validated input."""
    return {_FIELDS[name]: str(value) for name, value in values.items()}


async def send_sms(adapter: Adapter, call: ActionCall) -> ActionResult:
    path = adapter.fill_path("/2010-04-01/Accounts/{credentials.account_sid}/Messages.json")
    response = await adapter.call("POST", path, data=send_sms_form(call.input))
    body = json_body(response)
    answer = body if isinstance(body, dict) else {}
    sid = dig_str(answer, "sid")
    if not sid:
        raise ProviderError(FailureKind.PROVIDER_DOWN, "Twilio's answer named no message sid")
    return ActionResult(
        result={"sid": sid, "status": dig_str(answer, "status")}, provider_response=answer
    )


ACTIONS: tuple[Action, ...] = (
    Action(
        name="send_sms",
        description="Send an SMS from one of the account's numbers or a Messaging Service.",
        input_schema=SEND_SMS_INPUT,
        run=send_sms,
        redact_fields=("body",),
    ),
)
