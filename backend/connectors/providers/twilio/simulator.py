"""Twilio's REST API as documented: Accounts/{Sid}.json, Messages.json (send), and Twilio's
{code, message} errors."""

import datetime as dt
import email.utils
import hashlib
import itertools
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from backend.connectors.providers._listing import bounded_limit, generated, page_after, seed_of
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


#: How many messages each simulated account lists.
LIST_SIZE = 120
_NEWEST = 1_764_000_000


def _rfc2822(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True).replace("GMT", "+0000")


def _generated_message(account_sid: str) -> Callable[[random.Random, int], dict[str, Any]]:
    def build(rng: random.Random, index: int) -> dict[str, Any]:
        sent = _NEWEST - index * 1800 - rng.randrange(0, 900)
        sid = f"SM{rng.getrandbits(128):032x}"
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{sid}"
        inbound = rng.random() < 0.4
        ours, theirs = "+15005550006", f"+1415555{rng.randrange(0, 10_000):04d}"
        body = rng.choice(("Your code is 482913", "On my way!", "Order shipped", "Thanks"))
        return {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": _rfc2822(sent - 2),
            "date_sent": _rfc2822(sent),
            "date_updated": _rfc2822(sent + 1),
            "direction": "inbound" if inbound else "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": theirs if inbound else ours,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": "1",
            "price": "-0.00790",
            "price_unit": "USD",
            "sid": sid,
            "status": "received" if inbound else "delivered",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": ours if inbound else theirs,
            "uri": f"{uri}.json",
        }

    return build


def _sent(value: str, after: bool) -> Callable[[dict[str, Any]], bool] | None:
    """`DateSent>` / `DateSent<`: messages sent on or after / before a date or date-time;
    None when the value is unreadable."""
    try:
        bound = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if bound.tzinfo is None:
        bound = bound.replace(tzinfo=dt.UTC)
    if after:
        return lambda m: email.utils.parsedate_to_datetime(m["date_sent"]) >= bound
    return lambda m: email.utils.parsedate_to_datetime(m["date_sent"]) < bound


def list_messages(request: SimRequest) -> SimResponse:
    """Read Messages, newest first, `PageSize` (default 50, at most 1000) and Twilio's
    `PageToken` paging by `next_page_uri` (https://www.twilio.com/docs/usage/twilios-response#pagination)."""
    account_sid = request.path.split("/")[3]
    basic = request.basic()
    if basic is None or basic[0] != account_sid:
        return _error(404, 20404, f"The requested resource {request.path} was not found")
    records = generated(seed_of(*basic), "messages", LIST_SIZE, _generated_message(account_sid))
    for name, after in (("DateSent>", True), ("DateSent<", False)):
        if request.query.get(name):
            keep = _sent(request.query[name], after)
            if keep is None:
                return _error(400, 20001, f"Invalid {name} value")
            records = [m for m in records if keep(m)]
    size = bounded_limit(request.query.get("PageSize"), 50, 1000)
    token = request.query.get("PageToken", "")
    page_number = int(request.query.get("Page", "0") or 0)
    chunk, more = page_after(records, token.removeprefix("PA") or None, size, key="sid")
    uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
    kept = {k: v for k, v in request.query.items() if k not in ("Page", "PageToken")}
    kept["PageSize"] = str(size)

    def page_uri(**extra: str) -> str:
        return f"{uri}?{urlencode({**kept, **extra})}"

    next_uri = (
        page_uri(Page=str(page_number + 1), PageToken="PA" + chunk[-1]["sid"])
        if more and chunk
        else None
    )
    return json_response(
        200,
        {
            "messages": chunk,
            "end": page_number * size + max(0, len(chunk) - 1),
            "first_page_uri": page_uri(Page="0"),
            "next_page_uri": next_uri,
            "page": page_number,
            "page_size": size,
            "previous_page_uri": None,
            "start": page_number * size,
            "uri": page_uri(Page=str(page_number)),
        },
    )


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
        Route("GET", r"/2010-04-01/Accounts/[^/]+/Messages\.json", list_messages),
    ),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=lambda request: _error(500, 20500, "Internal Server Error"),
    not_found=lambda request: _error(404, 20404, "The requested resource was not found"),
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
