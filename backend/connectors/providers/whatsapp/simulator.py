"""The Graph API as documented for a WhatsApp phone number node and its messages edge, with
Graph's error shape."""

import base64
import itertools
import json
from typing import Any

from backend.connectors.providers.whatsapp.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
)

_TOKEN_PATTERN = SPEC.credential_fields[0].pattern
_TRACE = "AbCdEfGhIjK"
_WWW_AUTHENTICATE = 'OAuth "Facebook Platform" "invalid_token" "Invalid OAuth access token"'


def phone_number(request: SimRequest) -> SimResponse:
    node_id = request.path.strip("/")
    fields = request.query.get("fields", "display_phone_number,verified_name").split(",")
    node = {
        "display_phone_number": "+1 555-010-0199",
        "verified_name": "Switchboard Test",
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
    }
    body = {name: node[name] for name in fields if name in node}
    body["id"] = node_id
    usage = {
        "102290129340398": [
            {
                "type": "whatsapp",
                "call_count": 1,
                "total_cputime": 1,
                "total_time": 1,
                "estimated_time_to_regain_access": 0,
            }
        ]
    }
    return json_response(200, body, {"X-Business-Use-Case-Usage": json.dumps(usage)})


#: What test mode would have sent, by message id (wamid.…), with the number it was sent from.
SENT_MESSAGES: dict[str, dict[str, Any]] = {}
_SEQUENCE = itertools.count(1)
_MESSAGE_TYPES = ("text", "template")


def _invalid_parameter(message: str) -> SimResponse:
    return json_response(
        400,
        {
            "error": {
                "message": f"(#100) {message}",
                "type": "OAuthException",
                "code": 100,
                "fbtrace_id": _TRACE,
            }
        },
    )


def send_message(request: SimRequest) -> SimResponse:
    """POST /{phone_number_id}/messages
    (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages): the
    accepted message's id, or Graph's (#100) parameter errors."""
    try:
        message = json.loads(request.body or b"{}")
    except ValueError:
        message = None
    if not isinstance(message, dict):
        return _invalid_parameter("Invalid parameter")
    if message.get("messaging_product") != "whatsapp":
        return _invalid_parameter("The parameter messaging_product is required.")
    kind, to = message.get("type", "text"), message.get("to")
    if not isinstance(to, str) or not to.lstrip("+").isdigit():
        return _invalid_parameter("The parameter to is required.")
    if kind not in _MESSAGE_TYPES or not isinstance(message.get(kind), dict):
        return _invalid_parameter(f"The parameter {kind} is required.")
    serial = f"{next(_SEQUENCE):012d}".encode()
    wamid = "wamid." + base64.b64encode(b"HBgL" + to.lstrip("+").encode() + serial).decode()
    sent: dict[str, Any] = {"id": wamid}
    if kind == "template":
        sent["message_status"] = "accepted"
    phone_number_id = request.path.strip("/").split("/", 1)[0]
    remember(SENT_MESSAGES, wamid, {"from_phone_number_id": phone_number_id, **message})
    return json_response(
        200,
        {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [sent],
        },
    )


def unauthorized(request: SimRequest) -> SimResponse:
    return json_response(
        401,
        {
            "error": {
                "message": "Invalid OAuth access token - Cannot parse access token",
                "type": "OAuthException",
                "code": 190,
                "fbtrace_id": _TRACE,
            }
        },
        {"WWW-Authenticate": _WWW_AUTHENTICATE},
    )


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    usage = {
        "102290129340398": [
            {
                "type": "whatsapp",
                "call_count": 100,
                "total_cputime": 100,
                "total_time": 100,
                "estimated_time_to_regain_access": max(1, seconds // 60),
            }
        ]
    }
    return json_response(
        429,
        {
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": "Cloud API message throughput has been reached.",
                },
                "fbtrace_id": _TRACE,
            }
        },
        {"Retry-After": str(seconds), "X-Business-Use-Case-Usage": json.dumps(usage)},
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(
        500,
        {
            "error": {
                "message": "An unknown error has occurred.",
                "type": "OAuthException",
                "code": 1,
                "fbtrace_id": _TRACE,
            }
        },
    )


def not_found(request: SimRequest) -> SimResponse:
    return json_response(
        400,
        {
            "error": {
                "message": "Unsupported get request. Object does not exist, cannot be loaded "
                "due to missing permissions, or does not support this operation.",
                "type": "GraphMethodException",
                "code": 100,
                "error_subcode": 33,
                "fbtrace_id": _TRACE,
            }
        },
    )


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/[0-9]+", phone_number),
        Route("POST", r"/[0-9]+/messages", send_message),
    ),
    credential=lambda request: looks_valid(request.bearer(), _TOKEN_PATTERN),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
