"""Simulated Twilio webhooks: the form-encoded requests Twilio sends for messages and
calls, signed with `X-Twilio-Signature` over the full URL and the sorted form parameters.

Parameters and their order follow Twilio's documented requests (and tests/fixtures/twilio);
the account is the one the integration is connected to.
Docs: https://www.twilio.com/docs/messaging/guides/webhook-request,
https://www.twilio.com/docs/voice/twiml#request-parameters,
https://www.twilio.com/docs/usage/webhooks/webhooks-security
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from email.utils import formatdate
from urllib.parse import parse_qsl, urlencode

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    event_time,
    simulated_number,
)
from backend.connectors.providers.twilio.spec import SPEC
from backend.connectors.providers.twilio.webhook import signed_string
from backend.connectors.webhook_schemes import hmac_digests, to_bytes

_ACCOUNT_SID = next(f.example for f in SPEC.credential_fields if f.name == "account_sid")
_OUR_NUMBER = "+14155550100"
_CUSTOMER = "+14155550199"
_PLACE = {"City": "SAN FRANCISCO", "State": "CA", "Zip": "94105", "Country": "US"}

Form = dict[str, str]


def _sid(prefix: str, ctx: SimulationContext, salt: str = "") -> str:
    """A 34-character SID (two letters, 32 hex digits), unique per delivery."""
    seed = f"{ctx.integration_id}:{simulated_number(ctx)}:{salt}".encode()
    return prefix + hashlib.sha256(seed).hexdigest()[:32]


def _account(ctx: SimulationContext) -> str:
    return ctx.account_id or _ACCOUNT_SID


def _places(*roles: str) -> Form:
    return {role + part: value for role in roles for part, value in _PLACE.items()}


def _sms_inbound(ctx: SimulationContext) -> Form:
    sid = _sid("SM", ctx)
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": "Hello from a simulated phone \U0001f44b",
        "FromCountry": "US",
        "To": _OUR_NUMBER,
        "MessagingServiceSid": _sid("MG", ctx, "service"),
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": _account(ctx),
        "From": _CUSTOMER,
        "ApiVersion": "2010-04-01",
    }


def _sms_status(ctx: SimulationContext) -> Form:
    sid = _sid("SM", ctx)
    return {
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "MessageStatus": "delivered",
        "To": _CUSTOMER,
        "MessagingServiceSid": _sid("MG", ctx, "service"),
        "MessageSid": sid,
        "AccountSid": _account(ctx),
        "From": _OUR_NUMBER,
        "ApiVersion": "2010-04-01",
    }


def _call(ctx: SimulationContext, status: str) -> Form:
    return {
        "Called": _OUR_NUMBER,
        "CallSid": _sid("CA", ctx),
        "To": _OUR_NUMBER,
        "Direction": "inbound",
        "CallStatus": status,
        "From": _CUSTOMER,
        "Caller": _CUSTOMER,
        "AccountSid": _account(ctx),
        "ApiVersion": "2010-04-01",
        **_places("Caller", "Called", "From", "To"),
    }


def _call_inbound(ctx: SimulationContext) -> Form:
    return _call(ctx, "ringing")


def _call_status(ctx: SimulationContext) -> Form:
    return {
        **_call(ctx, "completed"),
        "Timestamp": formatdate(event_time(ctx), usegmt=False).replace("-0000", "+0000"),
        "CallbackSource": "call-progress-events",
        "SipResponseCode": "200",
        "SequenceNumber": "3",
        "Duration": "1",
        "CallDuration": "42",
    }


def _call_gather(ctx: SimulationContext) -> Form:
    return {**_call(ctx, "in-progress"), "Digits": "1", "FinishedOnKey": "#"}


def _event_type(
    name: str, description: str, form: Callable[[SimulationContext], Form], event_id: str
) -> EventType:
    """`event_id` names the form fields (joined by ":") that make the handler's dedupe id;
    empty: Twilio gives none, the idempotency token is the id."""

    def build(ctx: SimulationContext) -> OutboundDelivery:
        params = deep_merge(form(ctx), ctx.overrides)
        body = urlencode({name: str(value) for name, value in params.items()})
        token = f"{_sid('', ctx, 'idempotency')[:32]}-{int(ctx.now)}"
        fields = [str(params[f]) for f in event_id.split(":")] if event_id else []
        return OutboundDelivery(
            event_type=name,
            provider_event_id=":".join(fields) or token,
            body=body.encode(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "i-twilio-idempotency-token": token,
                "user-agent": "TwilioProxy/1.1",
            },
            occurred_at=event_time(ctx),
        )

    return EventType(name, description, build)


EVENT_TYPES = (
    _event_type("sms.inbound", "An SMS or MMS arrived at the number.", _sms_inbound, "MessageSid"),
    _event_type(
        "sms.status",
        "A message the account sent changed status (here: delivered).",
        _sms_status,
        "MessageSid:MessageStatus",
    ),
    _event_type("call.inbound", "A call to the number is ringing.", _call_inbound, "CallSid"),
    _event_type(
        "call.status",
        "A call's status callback (here: completed, with its duration).",
        _call_status,
        "CallSid:CallStatus",
    ),
    _event_type("call.gather", "A caller entered digits at a <Gather> prompt.", _call_gather, ""),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """Base64 HMAC-SHA1, keyed with the account's auth token, of the URL Twilio requested
    followed by each form parameter's name and value, sorted by name."""
    token = ctx.signing_secret or ctx.credentials.get("auth_token")
    if not isinstance(token, str) or not token:
        return {}
    url = ctx.url
    if delivery.query and "?" not in url:
        url = f"{url}?{delivery.query}"
    params = parse_qsl(delivery.body.decode(), keep_blank_values=True)
    digest = hmac_digests([to_bytes(token)], to_bytes(signed_string(url, params)), hashlib.sha1)
    return {"x-twilio-signature": base64.b64encode(digest[0]).decode()}
