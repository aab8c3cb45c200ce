"""Slack requests: `X-Slack-Signature: v0=<hex>` over "v0:{ts}:{body}", ±300 s.

Three body shapes share the scheme: Events API JSON (`event_callback`, `url_verification`,
`app_rate_limited`), slash commands (form fields) and interactivity (form field `payload`
holding JSON). Retries (`X-Slack-Retry-Num`) keep their `event_id`, so storage dedupes them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from backend.connectors.base import (
    DeliveryPart,
    NormalizedEvent,
    Reply,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import (
    dig,
    from_unix,
    generic_event,
    load_json,
    load_object,
    text,
)
from backend.connectors.webhook_schemes import (
    check_hex_hmac,
    check_timestamp,
    decode_json,
    is_form,
    is_form_type,
    parse_form,
    parse_int,
    require_header,
    signing_keys,
    to_bytes,
)


class _Inner(msgspec.Struct):
    type: str | None = None
    subtype: str | None = None


class _Envelope(msgspec.Struct):
    type: str | None = None
    event_id: str | None = None
    challenge: str | None = None
    event: _Inner | None = None


class _Interaction(msgspec.Struct):
    type: str | None = None
    trigger_id: str | None = None


def _event_type(inner: _Inner | None) -> str:
    if inner is None or not inner.type:
        return "event_callback"
    return f"{inner.type}.{inner.subtype}" if inner.subtype else inner.type


class SlackWebhook(WebhookHandler):
    stored_headers = (
        "x-slack-request-timestamp",
        "x-slack-signature",
        "x-slack-retry-num",
        "x-slack-retry-reason",
        "content-type",
    )

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        signature = require_header(request, "X-Slack-Signature")
        timestamp = parse_int(require_header(request, "X-Slack-Request-Timestamp"))
        if timestamp is None:
            raise WebhookVerificationError("malformed X-Slack-Request-Timestamp header")
        if not signature.startswith("v0="):
            raise WebhookVerificationError("malformed X-Slack-Signature header")
        check_timestamp(timestamp, request.received_at)
        message = to_bytes(f"v0:{timestamp}:") + request.body
        check_hex_hmac(signing_keys(secrets), message, [signature[3:]])
        if is_form(request):
            return _verified_form(parse_form(request.body))
        envelope = decode_json(request.body, _Envelope)
        if envelope.type == "url_verification":
            if envelope.challenge is None:
                raise WebhookVerificationError("url_verification without a challenge")
            reply = Reply(200, envelope.challenge.encode("utf-8"))
            return VerifiedDelivery(None, "url_verification", store=False, reply=reply)
        if envelope.type == "event_callback":
            return VerifiedDelivery(envelope.event_id, _event_type(envelope.event))
        return VerifiedDelivery(envelope.event_id, envelope.type or "unknown")

    def split(
        self, request: WebhookRequest, delivery: VerifiedDelivery
    ) -> list[DeliveryPart] | None:
        """Slash commands and interactivity are forms, not JSON: the team is the form's
        `team_id`, or `team.id` inside an interaction's `payload`, shown under `team_id`."""
        if not is_form(request):
            return None  # Events API JSON: `team_id` is read generically
        form = dict(parse_form(request.body))
        document: dict[str, Any] = form
        if "payload" in form:
            try:
                team = dig(load_object(form["payload"].encode("utf-8")), "team", "id")
            except (ValueError, RecursionError):
                team = None
            document = {"team_id": text(team)}
        return [DeliveryPart(request.body, delivery.event_id, delivery.event_type, document)]

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        if is_form_type(headers.get("content-type", "")):
            return _normalize_form(body)
        payload = load_json(body)
        if dig(payload, "type") != "event_callback":
            return generic_event(text(dig(payload, "type")) or "unknown", payload)
        event = dig(payload, "event")
        event_type = _event_type(_inner_of(event))
        data = {
            "team_id": text(dig(payload, "team_id")),
            "event_id": text(dig(payload, "event_id")),
            "channel": text(dig(event, "channel")),
            "channel_type": text(dig(event, "channel_type")),
            "user": text(dig(event, "user")) or text(dig(event, "bot_id")),
            "text": text(dig(event, "text")),
            "ts": text(dig(event, "ts")),
            "thread_ts": text(dig(event, "thread_ts")),
            "subtype": text(dig(event, "subtype")),
        }
        return NormalizedEvent(
            event_type,
            data["channel"],
            from_unix(dig(payload, "event_time")),
            data,
        )


def _inner_of(event: Any) -> _Inner:
    return _Inner(type=text(dig(event, "type")), subtype=text(dig(event, "subtype")))


def _verified_form(fields: list[tuple[str, str]]) -> VerifiedDelivery:
    """Slash commands carry `command`; interactivity carries JSON in `payload`."""
    form = dict(fields)
    if "ssl_check" in form:  # Slack probing a slash command URL: acknowledge, keep nothing
        return VerifiedDelivery(None, "ssl_check", store=False, reply=Reply(200, b""))
    if "payload" in form:
        interaction = decode_json(form["payload"].encode("utf-8"), _Interaction)
        return VerifiedDelivery(interaction.trigger_id, interaction.type or "interaction")
    if "command" in form:
        return VerifiedDelivery(form.get("trigger_id") or None, "slash_command")
    return VerifiedDelivery(None, "unknown")


def _normalize_form(body: bytes) -> NormalizedEvent:
    try:
        form = dict(parse_form(body))
    except WebhookVerificationError as exc:
        raise ValueError(exc.reason) from exc
    if "payload" in form:
        payload = load_object(form["payload"].encode("utf-8"))
        actions = dig(payload, "actions")
        channel = text(dig(payload, "channel", "id"))
        data: dict[str, Any] = {
            "team_id": text(dig(payload, "team", "id")),
            "user": text(dig(payload, "user", "id")),
            "channel": channel,
            "callback_id": text(dig(payload, "callback_id"))
            or text(dig(payload, "view", "callback_id")),
            "action_ids": [text(dig(a, "action_id")) for a in actions]
            if isinstance(actions, list)
            else [],
            "trigger_id": text(dig(payload, "trigger_id")),
        }
        return NormalizedEvent(text(dig(payload, "type")) or "interaction", channel, None, data)
    fields = ("command", "text", "user_id", "channel_id", "team_id", "trigger_id")
    command = {name: form.get(name) for name in fields}
    return NormalizedEvent("slash_command", form.get("channel_id"), None, command)


HANDLER = SlackWebhook()
