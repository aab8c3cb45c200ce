"""HubSpot CRM events for test mode, shaped like HubSpot's documented webhook payloads (a
JSON array of events; here one per request) and signed like HubSpot signs them: v3, a base64
HMAC-SHA256 under the app's client secret over method + URL + body + the millisecond
`X-HubSpot-Request-Timestamp`. Each event names the portal the integration is connected to.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import msgspec

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    simulated_number,
)
from backend.connectors.providers.hubspot.simulator import PORTAL_ID
from backend.connectors.webhook_schemes import hmac_digests, to_bytes

_APP_ID = 1160452
# HubSpot gives each subscription of the app its own id.
_SUBSCRIPTIONS = {
    "contact.creation": 2236301,
    "contact.propertyChange": 2236315,
    "contact.deletion": 2236320,
    "contact.merge": 2236340,
    "company.creation": 2236350,
    "deal.creation": 2236330,
    "deal.propertyChange": 2236335,
    "deal.associationChange": 2236338,
}


def _portal(ctx: SimulationContext) -> int:
    account = ctx.account_id
    return int(account) if account and account.isdigit() else PORTAL_ID


def _object_id(n: int) -> int:
    return 51 + n % 10**9


def _property_change(name: str, value: str) -> Callable[[int], dict[str, Any]]:
    def build(n: int) -> dict[str, Any]:
        return {
            "objectId": _object_id(n),
            "propertyName": name,
            "propertyValue": value,
            "changeSource": "CRM_UI",
        }

    return build


def _plain(n: int) -> dict[str, Any]:
    return {"objectId": _object_id(n), "changeSource": "CRM_UI"}


def _merge(n: int) -> dict[str, Any]:
    primary = _object_id(n)
    return {
        "objectId": primary,
        "changeSource": "CRM_UI",
        "primaryObjectId": primary,
        "mergedObjectIds": [primary + 1],
        "newObjectId": primary,
        "numberOfPropertiesMoved": 3,
    }


def _association(n: int) -> dict[str, Any]:
    return {
        "changeSource": "USER",
        "associationType": "DEAL_TO_CONTACT",
        "fromObjectId": 17_654_110_233 + n % 10**6,
        "toObjectId": _object_id(n),
        "associationRemoved": False,
        "isPrimaryAssociation": False,
    }


def _event(name: str, description: str, build: Callable[[int], dict[str, Any]]) -> EventType:
    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        n = simulated_number(ctx)
        event = {
            "eventId": n % 10**10,
            "subscriptionId": _SUBSCRIPTIONS[name],
            "portalId": _portal(ctx),
            "appId": _APP_ID,
            "occurredAt": int(ctx.now * 1000),
            "subscriptionType": name,
            "attemptNumber": 0,
            **build(n),
        }
        event = deep_merge(event, ctx.overrides)
        return OutboundDelivery(
            event_type=name,
            provider_event_id=f"{event['subscriptionId']}:{event['eventId']}",
            body=msgspec.json.encode([event]),
            headers={"content-type": "application/json", "user-agent": "HubSpot Connect 2.0"},
            occurred_at=ctx.now,
        )

    return EventType(name, description, delivery)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("contact.creation", "A contact was created.", _plain),
    _event(
        "contact.propertyChange",
        "A contact became a customer.",
        _property_change("lifecyclestage", "customer"),
    ),
    _event("contact.deletion", "A contact was deleted.", _plain),
    _event("contact.merge", "Two contacts were merged.", _merge),
    _event("company.creation", "A company was created.", _plain),
    _event("deal.creation", "A deal was created.", _plain),
    _event("deal.propertyChange", "A deal was won.", _property_change("dealstage", "closedwon")),
    _event("deal.associationChange", "A deal was associated with a contact.", _association),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """v3: base64 HMAC-SHA256 over method + URL + body + millisecond timestamp."""
    if not ctx.signing_secret:
        return {}
    millis = str(int(ctx.timestamp * 1000))
    message = to_bytes(delivery.method + ctx.url) + delivery.body + to_bytes(millis)
    digest = hmac_digests([to_bytes(ctx.signing_secret)], message, hashlib.sha256)[0]
    return {
        "x-hubspot-signature-v3": base64.b64encode(digest).decode(),
        "x-hubspot-request-timestamp": millis,
        "x-hubspot-signature-version": "v3",
    }
