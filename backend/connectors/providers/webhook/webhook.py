"""The generic connector: any sender that signs with Standard Webhooks or a plain HMAC.

Default mode is Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`,
±300 s, `whsec_` base64 secrets). `config.signature_mode = "hmac_sha256"` accepts a hex
HMAC-SHA256 of the body (optionally `sha256=`-prefixed) in `config.signature_header`
(default `X-Signature`); that mode has no timestamp, so a delivery whose id comes from an
unsigned header also dedupes on its body (a replay with a fresh id is a duplicate).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import msgspec

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import from_iso, from_unix, load_json, scalars, text
from backend.connectors.webhook_schemes import (
    check_hex_hmac,
    header,
    is_form_type,
    media_type,
    parse_form,
    require_header,
    signing_keys,
    verify_standard_webhooks,
)

DEFAULT_TYPE = "webhook.received"
#: Headers a plain-HMAC sender commonly uses for its delivery id.
ID_HEADERS = ("x-event-id", "x-webhook-id", "x-request-id", "idempotency-key")


class _Fields(msgspec.Struct):
    id: str | int | None = None
    type: Any = None
    event: Any = None
    event_type: Any = None


def event_type_of(fields: _Fields | dict[str, Any]) -> str:
    """The first string among `type`, `event`, `event_type`, else the default."""
    values = (
        (fields.type, fields.event, fields.event_type)
        if isinstance(fields, _Fields)
        else (fields.get("type"), fields.get("event"), fields.get("event_type"))
    )
    return next((v for v in values if isinstance(v, str) and v), DEFAULT_TYPE)


def _fields(body: bytes) -> _Fields:
    """Id and type from a JSON object body; other bodies are fine, they just have neither."""
    try:
        return msgspec.json.decode(body, type=_Fields)
    except (msgspec.DecodeError, RecursionError):  # too deep is not JSON we read either
        return _Fields()


class GenericWebhook(WebhookHandler):
    stored_headers = (
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        *ID_HEADERS,
        "content-type",
        "user-agent",
    )

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        mode = secrets.config.get("signature_mode", "standard")
        if mode in ("standard", "standard_webhooks"):
            msg_id = verify_standard_webhooks(request, secrets)
            return VerifiedDelivery(msg_id, event_type_of(_fields(request.body)))
        if mode != "hmac_sha256":
            raise WebhookVerificationError("unsupported signature_mode")
        name = secrets.config.get("signature_header") or "X-Signature"
        if not isinstance(name, str):
            raise WebhookVerificationError("malformed signature_header setting")
        value = require_header(request, name)
        check_hex_hmac(signing_keys(secrets), request.body, [value.removeprefix("sha256=")])
        fields = _fields(request.body)
        header_id = next((v for n in ID_HEADERS if (v := header(request, n))), None)
        body_id = str(fields.id) if fields.id is not None else None
        digest = hashlib.sha256(request.body).digest() if header_id else None
        return VerifiedDelivery(header_id or body_id, event_type_of(fields), signed_digest=digest)

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        content_type = media_type(headers.get("content-type", ""))
        payload: Any
        if is_form_type(content_type):
            try:
                payload = dict(parse_form(body))
            except WebhookVerificationError as exc:
                raise ValueError(exc.reason) from exc
        elif content_type == "application/json" or content_type.endswith("+json"):
            payload = load_json(body)  # a body that says it is JSON must be
        else:
            try:
                payload = load_json(body)
            except ValueError:
                return NormalizedEvent(DEFAULT_TYPE, None, None, _opaque(body, content_type))
        if not isinstance(payload, dict):
            return NormalizedEvent(DEFAULT_TYPE, None, None, {"value": payload})
        subject = text(payload.get("subject")) or text(payload.get("id"))
        time = from_iso(payload.get("time")) or from_iso(payload.get("timestamp"))
        if time is None:
            time = from_unix(payload.get("created")) or from_unix(payload.get("timestamp"))
        return NormalizedEvent(event_type_of(payload), subject, time, scalars(payload))


def _opaque(body: bytes, content_type: str) -> dict[str, Any]:
    """Text, XML or binary from a sender we know nothing about: kept whole in the envelope."""
    data: dict[str, Any] = {"content_type": content_type or None}
    try:
        data["text"] = body.decode("utf-8")
    except UnicodeDecodeError:
        data["body_base64"] = base64.b64encode(body).decode("ascii")
    return data


HANDLER = GenericWebhook()
