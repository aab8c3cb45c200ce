"""HubSpot webhooks: `X-HubSpot-Signature-v3`, a base64 HMAC-SHA256 under the app's client
secret over method + URL + body + `X-HubSpot-Request-Timestamp` (milliseconds), ±5 minutes
(https://developers.hubspot.com/docs/api/webhooks/validating-requests).

Only v3 is accepted. HubSpot sends it on every request beside the older headers
(https://developers.hubspot.com/changelog/introducing-version-3-of-webhook-signatures); v1
(SHA-256 of secret + body) and v2 (+ method and URL) carry no timestamp, so a captured
request would verify forever.

A delivery is a JSON array of up to 100 events, possibly from different portals (the app's
one target URL serves every installed portal). `eventId` alone is "not guaranteed to be
unique" (https://developers.hubspot.com/docs/api/webhooks#webhook-payloads): an event's key is
`{subscriptionId}:{eventId}`, the same on every retry (only `attemptNumber` grows). HubSpot's
documented example names the type `eventType`; deliveries name it `subscriptionType`: both
are read.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from backend.connectors.base import (
    DeliveryPart,
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.webhook_normalize import from_unix, generic_event, load_json, text
from backend.connectors.webhook_schemes import (
    any_match,
    check_timestamp,
    decode_json,
    hmac_digests,
    parse_base64,
    parse_int,
    require_header,
    signing_keys,
    to_bytes,
)

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"


class _Event(msgspec.Struct):
    event_id: int | None = msgspec.field(default=None, name="eventId")
    subscription_id: int | None = msgspec.field(default=None, name="subscriptionId")
    portal_id: int | None = msgspec.field(default=None, name="portalId")
    subscription_type: str | None = msgspec.field(default=None, name="subscriptionType")
    event_type: str | None = msgspec.field(default=None, name="eventType")

    @property
    def type(self) -> str:
        return self.subscription_type or self.event_type or "unknown"

    @property
    def key(self) -> str | None:
        if self.event_id is None:
            return None
        if self.subscription_id is None:
            return str(self.event_id)
        return f"{self.subscription_id}:{self.event_id}"


def verify_v3(request: WebhookRequest, secrets: WebhookSecrets) -> None:
    """Check the v3 signature and its timestamp; raise WebhookVerificationError otherwise."""
    received = parse_base64(require_header(request, SIGNATURE_HEADER))
    raw_timestamp = require_header(request, TIMESTAMP_HEADER)
    if received is None or len(received) != hashlib.sha256().digest_size:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    millis = parse_int(raw_timestamp)
    if millis is None:
        raise WebhookVerificationError(f"malformed {TIMESTAMP_HEADER} header")
    check_timestamp(millis // 1000, request.received_at)
    message = to_bytes(request.method + request.url) + request.body + to_bytes(raw_timestamp)
    expected = hmac_digests(signing_keys(secrets), message, hashlib.sha256)
    if not any_match(expected, [received]):
        raise WebhookVerificationError("signature mismatch")


def batch_events(body: bytes) -> list[_Event]:
    """The events of a verified delivery: a non-empty JSON array of objects."""
    events = decode_json(body, list[_Event])
    if not events:
        raise WebhookVerificationError("empty event batch")
    return events


class HubSpotWebhook(WebhookHandler):
    # Never the signatures: stored headers are shown by the events API.
    stored_headers = (
        "x-hubspot-request-timestamp",
        "x-hubspot-signature-version",
        "content-type",
        "user-agent",
    )

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        verify_v3(request, secrets)
        events = batch_events(request.body)
        if len(events) == 1:
            return VerifiedDelivery(events[0].key, events[0].type)
        return VerifiedDelivery(_batch_key(events), "batch")

    def split(self, request: WebhookRequest, delivery: VerifiedDelivery) -> list[DeliveryPart]:
        """Each event of the batch as its exact bytes, keyed `{subscriptionId}:{eventId}`
        (the generic reading could only key on one field)."""
        parts = []
        for raw in msgspec.json.decode(request.body, type=list[msgspec.Raw]):
            event = msgspec.json.decode(raw, type=_Event)
            parts.append(DeliveryPart(bytes(raw), event.key, event.type, msgspec.json.decode(raw)))
        return parts

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        if isinstance(payload, list):
            if len(payload) != 1:
                return NormalizedEvent("batch", None, None, {"count": len(payload)})
            payload = payload[0]
        return normalize_event(payload)


def normalize_event(event: Any) -> NormalizedEvent:
    """One CRM event: what changed (object, property, association, merge), where and when."""
    if not isinstance(event, dict):
        return generic_event("unknown", event)
    event_type = text(event.get("subscriptionType")) or text(event.get("eventType"))
    if not event_type:
        return generic_event("unknown", event)
    object_id = text(event.get("objectId"))
    data: dict[str, Any] = {
        "portal_id": text(event.get("portalId")),
        "app_id": text(event.get("appId")),
        "subscription_id": text(event.get("subscriptionId")),
        "event_id": text(event.get("eventId")),
        "object_type": text(event.get("objectTypeId")) or event_type.partition(".")[0],
        "object_id": object_id,
        "change_source": text(event.get("changeSource")),
        "attempt_number": _count(event.get("attemptNumber")),
    }
    if "propertyName" in event:
        data["property_name"] = text(event.get("propertyName"))
        data["property_value"] = text(event.get("propertyValue"))
    if "associationType" in event:
        data["association_type"] = text(event.get("associationType"))
        data["from_object_id"] = text(event.get("fromObjectId"))
        data["to_object_id"] = text(event.get("toObjectId"))
        data["association_removed"] = event.get("associationRemoved") is True
        object_id = object_id or data["from_object_id"]
    if "primaryObjectId" in event:
        merged = event.get("mergedObjectIds")
        data["primary_object_id"] = text(event.get("primaryObjectId"))
        data["merged_object_ids"] = [text(m) for m in merged] if isinstance(merged, list) else []
        object_id = object_id or data["primary_object_id"]
    time = from_unix(event.get("occurredAt"), millis=True)
    return NormalizedEvent(event_type, object_id, time, data)


def _batch_key(events: list[_Event]) -> str | None:
    """A batch kept whole (where it is not split into its events) is keyed by its events'
    keys, so HubSpot's retry of it (new attemptNumbers and timestamp) is a duplicate."""
    keys = [event.key for event in events]
    if any(key is None for key in keys):
        return None
    digest = hashlib.sha256("\n".join(sorted(k for k in keys if k)).encode()).hexdigest()
    return f"batch:{digest}"


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


HANDLER = HubSpotWebhook()
