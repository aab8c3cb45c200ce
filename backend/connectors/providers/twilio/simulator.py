"""Twilio's REST API as documented: Accounts/{Sid}.json, Messages.json (send), and Twilio's
{code, message} errors."""

import email.utils
import hashlib
import itertools
import time
from typing import Any

from backend.connectors.providers.twilio.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
)

_SID, _TOKEN = (field.pattern for field in SPEC.credential_fields)


def _error(status: int, code: int, message: str) -> SimResponse:
    return json_response(
        status,
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def credential_ok(request: SimRequest) -> bool:
    basic = request.basic()
    return basic is not None and looks_valid(basic[0], _SID) and looks_valid(basic[1], _TOKEN)


def account(request: SimRequest) -> SimResponse:
    sid = request.path.rsplit("/", 1)[-1].removesuffix(".json")
    basic = request.basic()
    if basic is None or basic[0] != sid:
        return _error(
            404, 20404, f"The requested resource /2010-04-01/Accounts/{sid}.json was not found"
        )
    uri = f"/2010-04-01/Accounts/{sid}"
    return json_response(
        200,
        {
            "auth_token": "[Redacted]",
            "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
            "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
            "friendly_name": "Switchboard Test",
            "owner_account_sid": sid,
            "sid": sid,
            "status": "active",
            "subresource_uris": {
                "calls": f"{uri}/Calls.json",
                "messages": f"{uri}/Messages.json",
                "incoming_phone_numbers": f"{uri}/IncomingPhoneNumbers.json",
            },
            "type": "Full",
            "uri": f"{uri}.json",
        },
    )


#: What test mode would have sent, by message sid (SM…), as Twilio's message resource.
SENT_MESSAGES: dict[str, dict[str, Any]] = {}
_SEQUENCE = itertools.count(1)


def send_message(request: SimRequest) -> SimResponse:
    """Create a Message (https://www.twilio.com/docs/messaging/api/message-resource): the
    queued message resource (201), or the documented 21602/21603/21604/21617 errors."""
    account_sid = request.path.split("/")[3]
    basic = request.basic()
    if basic is None or basic[0] != account_sid:
        return _error(404, 20404, f"The requested resource {request.path} was not found")
    form = request.form()
    to, sender, service = form.get("To"), form.get("From"), form.get("MessagingServiceSid")
    body = form.get("Body", "")
    if not to:
        return _error(400, 21604, "A 'To' phone number is required.")
    if not sender and not service:
        return _error(400, 21603, "A 'From' phone number is required.")
    if not body:
        return _error(400, 21602, "Message body is required.")
    if len(body) > 1600:
        return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    serial = f"{account_sid}/{next(_SEQUENCE)}/{time.time_ns()}".encode()
    sid = "SM" + hashlib.sha256(serial).hexdigest()[:32]
    now = email.utils.formatdate(usegmt=True).replace("GMT", "+0000")
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
    message = {
        "account_sid": account_sid,
        "api_version": "2010-04-01",
        "body": body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sender,
        "messaging_service_sid": service,
        "num_media": "0",
        # One SMS holds 160 GSM-7 characters; concatenated parts hold 153 each.
        "num_segments": str(1 if len(body) <= 160 else -(-len(body) // 153)),
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        # With only a Messaging Service, Twilio picks the sender later: "accepted".
        "status": "queued" if sender else "accepted",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": to,
        "uri": f"{uri}.json",
    }
    remember(SENT_MESSAGES, sid, message)
    return json_response(201, message)


def unauthorized(request: SimRequest) -> SimResponse:
    response = _error(401, 20003, "Authenticate")
    return SimResponse(
        response.status,
        response.body,
        {**response.headers, "WWW-Authenticate": 'Basic realm="Twilio API"'},
    )


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    response = _error(429, 20429, "Too Many Requests")
    return SimResponse(429, response.body, {**response.headers, "Retry-After": str(seconds)})


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/2010-04-01/Accounts/[^/]+\.json", account),
        Route("POST", r"/2010-04-01/Accounts/[^/]+/Messages\.json", send_message),
    ),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=lambda request: _error(500, 20500, "Internal Server Error"),
    not_found=lambda request: _error(404, 20404, "The requested resource was not found"),
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
