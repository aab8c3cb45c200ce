"""Twilio webhooks: `X-Twilio-Signature`, base64 HMAC-SHA1 keyed with the account auth token.

The signed string is the public URL (with query) followed by every POST parameter name and
decoded value, sorted by name (then value), exactly like `twilio.request_validator`. A JSON
body is not in the string: Twilio adds `bodySHA256=<hex>` to the URL instead, so both the
URL signature and the body hash must hold. Like the SDK, the URL is tried with and without
its port. A request carrying `X-Twilio-Webhooks-Signature-Settings: …,algorithm=HMAC_SHA256`
is signed with a SharedKey secret (kept as a signing secret) and SHA-256.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import parse_qs, urlparse

import msgspec

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import from_http_date, generic_event, load_json
from backend.connectors.webhook_schemes import (
    HashFactory,
    any_match,
    constant_time_equals,
    header,
    hmac_digests,
    is_form,
    is_form_type,
    parse_base64,
    parse_form,
    require_header,
    to_bytes,
)

_ALGORITHMS: dict[str, HashFactory] = {"HMAC_SHA1": hashlib.sha1, "HMAC_SHA256": hashlib.sha256}


class _JsonEvent(msgspec.Struct):
    type: str | None = None


def url_variants(url: str) -> set[str]:
    """The URL as given, without its port and with the default port (the SDK's leniency)."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except ValueError as exc:
        raise WebhookVerificationError("malformed request URL") from exc
    host = parsed.netloc.rsplit(":", 1)[0] if port else parsed.netloc
    default = 443 if parsed.scheme == "https" else 80
    with_port = parsed.netloc if port else f"{parsed.netloc}:{default}"
    return {
        url,
        parsed._replace(netloc=host).geturl(),
        parsed._replace(netloc=with_port).geturl(),
    }


def _digest_if(token: str | None, request: WebhookRequest) -> bytes | None:
    """SHA-256 of what the signature covers (the URL's path and query, then the body),
    without scheme, host or port, so the URL variants the check accepts share one digest;
    None when there is no unsigned id to back up."""
    if not token:
        return None
    parsed = urlparse(request.url)
    return hashlib.sha256(f"{parsed.path}?{parsed.query}\n".encode() + request.body).digest()


def signed_string(url: str, params: list[tuple[str, str]]) -> str:
    grouped: dict[str, set[str]] = {}
    for name, value in params:
        grouped.setdefault(name, set()).add(value)
    parts = [url]
    for name in sorted(grouped):
        parts.extend(name + value for value in sorted(grouped[name]))
    return "".join(parts)


def _algorithm(request: WebhookRequest) -> tuple[str, HashFactory]:
    settings = header(request, "X-Twilio-Webhooks-Signature-Settings") or ""
    for part in settings.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip() == "algorithm" and value.strip():
            algorithm = value.strip().upper()
            if algorithm not in _ALGORITHMS:
                raise WebhookVerificationError("unsupported signature algorithm")
            return algorithm, _ALGORITHMS[algorithm]
    return "HMAC_SHA1", hashlib.sha1


def _keys(secrets: WebhookSecrets, algorithm: str) -> list[bytes]:
    """Auth token for the legacy scheme, SharedKey secrets for SHA-256; both as fallbacks."""
    token = secrets.credentials.get("auth_token")
    tokens = [token] if isinstance(token, str) and token else []
    shared = [s for s in secrets.signing_secrets if s]
    ordered = shared + tokens if algorithm == "HMAC_SHA256" else tokens + shared
    if not ordered:
        raise WebhookVerificationError("no auth token configured")
    return [to_bytes(k) for k in dict.fromkeys(ordered)]


class TwilioWebhook(WebhookHandler):
    stored_headers = (
        "x-twilio-signature",
        "x-twilio-webhooks-signature-settings",
        "i-twilio-idempotency-token",
        "x-home-region",
        "content-type",
    )

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        signature = parse_base64(require_header(request, "X-Twilio-Signature"))
        if signature is None:
            raise WebhookVerificationError("malformed X-Twilio-Signature header")
        algorithm, digest = _algorithm(request)
        try:
            query = parse_qs(urlparse(request.url).query)
        except ValueError as exc:
            raise WebhookVerificationError("malformed request URL") from exc
        params: list[tuple[str, str]] = []
        body_hash = query.get("bodySHA256")
        if body_hash:
            if not constant_time_equals(hashlib.sha256(request.body).hexdigest(), body_hash[0]):
                raise WebhookVerificationError("body does not match bodySHA256")
        elif is_form(request):
            params = parse_form(request.body)
        elif request.body:
            raise WebhookVerificationError("a non-form body needs bodySHA256 in the URL")
        keys = _keys(secrets, algorithm)
        expected = [
            mac
            for variant in url_variants(request.url)
            for mac in hmac_digests(keys, to_bytes(signed_string(variant, params)), digest)
        ]
        if not any_match(expected, [signature]):
            raise WebhookVerificationError("signature mismatch")
        token = header(request, "I-Twilio-Idempotency-Token")
        # The idempotency token is not signed: where it is the id, dedupe on what is signed.
        if body_hash:
            try:
                kind = msgspec.json.decode(request.body, type=_JsonEvent).type
            except (msgspec.DecodeError, RecursionError):  # batches (arrays); too deep
                kind = None
            return VerifiedDelivery(
                token, kind or "twilio.event", signed_digest=_digest_if(token, request)
            )
        event_id, event_type = classify(dict(params))
        if event_id:
            return VerifiedDelivery(event_id, event_type)
        return VerifiedDelivery(token, event_type, signed_digest=_digest_if(token, request))

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        if not is_form_type(headers.get("content-type", "")):
            payload = load_json(body)
            kind = payload.get("type") if isinstance(payload, dict) else None
            return generic_event(kind if isinstance(kind, str) else "twilio.event", payload)
        try:
            form = dict(parse_form(body))
        except WebhookVerificationError as exc:
            raise ValueError(exc.reason) from exc
        _, event_type = classify(form)
        if event_type.startswith("sms."):
            return _message(event_type, form)
        if event_type.startswith("call."):
            return _call(event_type, form)
        return generic_event(event_type, form)


def classify(form: dict[str, str]) -> tuple[str | None, str]:
    """(dedupe id, type); each status change of a message or call is its own event."""
    message_sid = form.get("MessageSid") or form.get("SmsSid")
    if message_sid:
        status = form.get("MessageStatus")
        if status:
            return f"{message_sid}:{status}", "sms.status"
        return message_sid, "sms.inbound"
    call_sid = form.get("CallSid")
    if call_sid:
        if "Digits" in form or "SpeechResult" in form:
            return None, "call.gather"  # several per call: the idempotency token dedupes
        status = form.get("CallStatus") or "unknown"
        inbound = form.get("Direction") == "inbound" and "CallbackSource" not in form
        if inbound and status == "ringing":
            return call_sid, "call.inbound"
        return f"{call_sid}:{status}", "call.status"
    return None, "twilio.webhook"


def _message(event_type: str, form: dict[str, str]) -> NormalizedEvent:
    sid = form.get("MessageSid") or form.get("SmsSid")
    sender = form.get("From", "")
    data: dict[str, Any] = {
        "message_sid": sid,
        "account_sid": form.get("AccountSid"),
        "from": form.get("From"),
        "to": form.get("To"),
        "channel": "whatsapp" if sender.startswith("whatsapp:") else "sms",
    }
    if event_type == "sms.status":
        data["status"] = form.get("MessageStatus")
        data["error_code"] = form.get("ErrorCode")
    else:
        data["body"] = form.get("Body")
        data["num_media"] = _int(form.get("NumMedia"))
    return NormalizedEvent(event_type, sid, None, data)


def _call(event_type: str, form: dict[str, str]) -> NormalizedEvent:
    sid = form.get("CallSid")
    data: dict[str, Any] = {
        "call_sid": sid,
        "account_sid": form.get("AccountSid"),
        "from": form.get("From"),
        "to": form.get("To"),
        "direction": form.get("Direction"),
        "status": form.get("CallStatus"),
    }
    if event_type == "call.gather":
        data["digits"] = form.get("Digits")
        data["speech_result"] = form.get("SpeechResult")
    if event_type == "call.status":
        data["duration"] = _int(form.get("CallDuration"))
        data["sequence_number"] = _int(form.get("SequenceNumber"))
    return NormalizedEvent(event_type, sid, from_http_date(form.get("Timestamp")), data)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() else None


HANDLER = TwilioWebhook()
