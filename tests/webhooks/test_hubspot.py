"""HubSpot: v3 signatures made by HubSpot's own client library (hubspot-api-client), the
5-minute window on a millisecond timestamp, batches, and what each event becomes."""

from __future__ import annotations

import json

import msgspec
import pytest
from hubspot.utils.signature import Signature

from backend.connectors.base import WebhookVerificationError
from backend.mappings.apply import event_document
from backend.mappings.defaults import default_mapping

from .helpers import NOW, fixture, handler, request, secrets

HUBSPOT = handler("hubspot")
SECRET = "a1b2c3d4-0f9e-4d8c-9b7a-6e5f4d3c2b1a"
OLD_SECRET = "9f8e7d6c-1a2b-4c3d-8e9f-0a1b2c3d4e5f"
URL = "https://switchboard.example.com/api/webhooks/hubspot"
NOW_MS = int(NOW * 1000)
SINGLE = [
    ("contact__creation.json", "2236311:1003470188", "contact.creation"),
    ("contact__property_change.json", "2236315:1003470201", "contact.propertyChange"),
    ("company__creation.json", "2236320:2774125040", "company.creation"),
    ("deal__creation.json", "2236330:3345211911", "deal.creation"),
    ("deal__property_change.json", "2236334:3345211958", "deal.propertyChange"),
    ("deal__association_change.json", "2236338:3345212001", "deal.associationChange"),
    ("contact__merge.json", "2236340:1003470322", "contact.merge"),
]


def signed(
    body: bytes,
    *,
    secret: str = SECRET,
    url: str = URL,
    method: str = "POST",
    millis: int = NOW_MS,
) -> dict[str, str]:
    """The headers HubSpot sends: v3 (what we check) beside the legacy v1 signature."""
    timestamp = str(millis)
    v3 = Signature.get_signature(
        secret, body.decode(), "v3", http_uri=url, http_method=method, timestamp=timestamp
    )
    v1 = Signature.get_signature(secret, body.decode(), "v1")
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": v3,
        "X-HubSpot-Request-Timestamp": timestamp,
        "X-HubSpot-Signature": v1,
        "X-HubSpot-Signature-Version": "v1",
    }


def elements(body: bytes) -> list[bytes]:
    return [bytes(raw) for raw in msgspec.json.decode(body, type=list[msgspec.Raw])]


def hubspot_request(body: bytes, headers: dict[str, str], **extra):
    return request(body, headers, url=extra.pop("url", URL), **extra)


@pytest.mark.parametrize(("name", "key", "event_type"), SINGLE)
async def test_fixtures_verify(name: str, key: str, event_type: str) -> None:
    body = fixture("hubspot", name)
    delivery = await HUBSPOT.verify(hubspot_request(body, signed(body)), secrets(SECRET))
    assert delivery.event_id == key
    assert delivery.event_type == event_type
    assert delivery.store and delivery.reply is None


async def test_a_retry_keeps_the_key() -> None:
    """HubSpot retries with attemptNumber + 1 and a new timestamp: the same event."""
    first = fixture("hubspot", "deal__creation.json")
    (event,) = json.loads(first)
    retry = json.dumps([{**event, "attemptNumber": 1}]).encode()
    keys = [
        (await HUBSPOT.verify(hubspot_request(b, signed(b, millis=ms)), secrets(SECRET))).event_id
        for b, ms in ((first, NOW_MS), (retry, NOW_MS + 60_000))
    ]
    assert keys[0] == keys[1] == "2236330:3345211911"


async def test_a_batch_splits_into_its_events_byte_for_byte() -> None:
    body = fixture("hubspot", "mixed__two_portals.json")
    req = hubspot_request(body, signed(body))
    delivery = await HUBSPOT.verify(req, secrets(SECRET))
    parts = HUBSPOT.split(req, delivery)
    assert [p.event_id for p in parts] == [
        "2236311:1003470411",
        "2236330:3345212110",
        "2236311:1003470412",
    ]
    types = [p.event_type for p in parts]
    assert types == ["contact.creation", "deal.creation", "contact.creation"]
    assert [p.document["portalId"] for p in parts] == [123456, 62515, 123456]
    # Each part is the exact bytes of its element: the batch is their comma-joined array.
    assert b"[" + b",".join(p.body for p in parts) + b"]" == body
    for part in parts:
        assert json.loads(part.body) == part.document


async def test_a_batch_kept_whole_is_keyed_by_its_events() -> None:
    """Where a batch is stored as one delivery, HubSpot's retry of it is still a duplicate."""
    body = fixture("hubspot", "mixed__two_portals.json")
    retry = json.dumps([{**e, "attemptNumber": 1} for e in json.loads(body)]).encode()
    first, again = [
        await HUBSPOT.verify(hubspot_request(b, signed(b, millis=ms)), secrets(SECRET))
        for b, ms in ((body, NOW_MS), (retry, NOW_MS + 60_000))
    ]
    assert first.event_type == "batch" and first.event_id and first.event_id.startswith("batch:")
    assert again.event_id == first.event_id
    other = json.dumps(json.loads(body)[:2]).encode()
    third = await HUBSPOT.verify(hubspot_request(other, signed(other)), secrets(SECRET))
    assert third.event_id != first.event_id


async def test_the_documented_batch_splits_by_its_eventtype_field() -> None:
    body = fixture("hubspot", "contact__documented_batch.json")
    req = hubspot_request(body, signed(body))
    parts = HUBSPOT.split(req, await HUBSPOT.verify(req, secrets(SECRET)))
    assert [(p.event_id, p.event_type) for p in parts] == [
        ("25:3816279340", "contact.propertyChange"),
        ("22:3816279480", "contact.creation"),
    ]


async def test_rotation_old_secret_still_verifies() -> None:
    body = fixture("hubspot", "contact__creation.json")
    req = hubspot_request(body, signed(body, secret=OLD_SECRET))
    assert (await HUBSPOT.verify(req, secrets(SECRET, OLD_SECRET))).event_type == (
        "contact.creation"
    )
    with pytest.raises(WebhookVerificationError, match="signature mismatch"):
        await HUBSPOT.verify(req, secrets(SECRET))


async def test_window_is_five_minutes_of_milliseconds() -> None:
    body = fixture("hubspot", "contact__creation.json")
    for millis in (NOW_MS - 299_000, NOW_MS + 299_000):
        await HUBSPOT.verify(hubspot_request(body, signed(body, millis=millis)), secrets(SECRET))
    # A timestamp in seconds reads as January 1970: stale.
    for millis in (NOW_MS - 301_000, NOW_MS + 301_000, int(NOW)):
        with pytest.raises(WebhookVerificationError, match="tolerance"):
            await HUBSPOT.verify(
                hubspot_request(body, signed(body, millis=millis)), secrets(SECRET)
            )


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (h, b.replace(b"CRM_UI", b"CRM_UX")), "signature mismatch"),
        (lambda h, b: (signed(b, secret="not-the-secret"), b), "signature mismatch"),
        (lambda h, b: (signed(b, url=URL + "/other"), b), "signature mismatch"),
        (lambda h, b: (signed(b, method="PUT"), b), "signature mismatch"),
        (
            lambda h, b: ({**h, "X-HubSpot-Request-Timestamp": str(NOW_MS + 1)}, b),
            "signature mismatch",
        ),
        (
            lambda h, b: (_without(h, "X-HubSpot-Signature-v3"), b),
            "missing X-HubSpot-Signature-v3 header",
        ),
        (
            lambda h, b: (_without(h, "X-HubSpot-Request-Timestamp"), b),
            "missing X-HubSpot-Request-Timestamp header",
        ),
        (
            lambda h, b: ({**h, "X-HubSpot-Request-Timestamp": "-1"}, b),
            "malformed X-HubSpot-Request-Timestamp header",
        ),
        (
            lambda h, b: ({**h, "X-HubSpot-Signature-v3": "sha256=abc"}, b),
            "malformed X-HubSpot-Signature-v3 header",
        ),
        (
            lambda h, b: ({**h, "X-HubSpot-Signature-v3": "AAAA"}, b),
            "malformed X-HubSpot-Signature-v3 header",
        ),
    ],
)
async def test_rejections(mutate, reason: str) -> None:
    body = fixture("hubspot", "contact__creation.json")
    headers, body = mutate(signed(body), body)
    with pytest.raises(WebhookVerificationError, match=reason) as caught:
        await HUBSPOT.verify(hubspot_request(body, headers), secrets(SECRET))
    assert SECRET not in caught.value.reason


@pytest.mark.parametrize("version", ["v1", "v2"])
async def test_legacy_signatures_alone_are_refused(version: str) -> None:
    """v1 and v2 carry no timestamp: a captured request would verify forever."""
    body = fixture("hubspot", "contact__creation.json")
    legacy = Signature.get_signature(SECRET, body.decode(), version, http_uri=URL)
    assert Signature.is_valid(legacy, SECRET, body.decode(), URL, signature_version=version)
    headers = {"X-HubSpot-Signature": legacy, "X-HubSpot-Signature-Version": version}
    with pytest.raises(WebhookVerificationError, match="missing X-HubSpot-Signature-v3"):
        await HUBSPOT.verify(hubspot_request(body, headers), secrets(SECRET))


async def test_no_secret_configured_fails_closed() -> None:
    body = fixture("hubspot", "contact__creation.json")
    with pytest.raises(WebhookVerificationError, match="no signing secret configured"):
        await HUBSPOT.verify(hubspot_request(body, signed(body)), secrets())


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{}", "unexpected JSON body shape"),
        (b"[]", "empty event batch"),
        (b"[1, 2]", "unexpected JSON body shape"),
        (b'[{"eventId": "x"}]', "unexpected JSON body shape"),
        (b"not json", "malformed JSON body"),
    ],
)
async def test_signed_bodies_of_the_wrong_shape(body: bytes, reason: str) -> None:
    with pytest.raises(WebhookVerificationError, match=reason):
        await HUBSPOT.verify(hubspot_request(body, signed(body)), secrets(SECRET))


def test_normalize_property_change() -> None:
    body = fixture("hubspot", "deal__property_change.json")
    event = HUBSPOT.normalize(body, {})
    assert event.type == "deal.propertyChange"
    assert event.subject == "17654110233"
    assert event.time is not None and event.time.timestamp() == 1750000030.0
    assert event.data == {
        "portal_id": "123456",
        "app_id": "1160452",
        "subscription_id": "2236334",
        "event_id": "3345211958",
        "object_type": "deal",
        "object_id": "17654110233",
        "change_source": "CRM_UI",
        "attempt_number": 1,
        "property_name": "dealstage",
        "property_value": "closedwon",
    }


def test_normalize_association_and_merge() -> None:
    association = HUBSPOT.normalize(fixture("hubspot", "deal__association_change.json"), {})
    assert association.subject == "17654110233"
    assert association.data["association_type"] == "DEAL_TO_CONTACT"
    assert association.data["to_object_id"] == "51"
    assert association.data["association_removed"] is False
    merge = HUBSPOT.normalize(fixture("hubspot", "contact__merge.json"), {})
    assert merge.type == "contact.merge"
    assert merge.data["primary_object_id"] == "51"
    assert merge.data["merged_object_ids"] == ["52"]


def test_normalize_reads_the_documented_type_field() -> None:
    """HubSpot's own example names the type `eventType`."""
    (first, second) = json.loads(fixture("hubspot", "contact__documented_batch.json"))
    for event, expected in ((first, "contact.propertyChange"), (second, "contact.creation")):
        normalized = HUBSPOT.normalize(json.dumps(event).encode(), {})
        assert normalized.type == expected
        assert normalized.data["portal_id"] == "33"


def test_normalize_generic_object_events() -> None:
    """Generic subscriptions (`object.*`) say the object by `objectTypeId` (0-1 is contact)."""
    event = {"subscriptionType": "object.creation", "objectTypeId": "0-1", "objectId": 5}
    normalized = HUBSPOT.normalize(json.dumps(event).encode(), {})
    assert normalized.type == "object.creation"
    assert normalized.data["object_type"] == "0-1"


def test_normalize_tolerates_surprises() -> None:
    assert HUBSPOT.normalize(b'{"x": 1}', {}).type == "unknown"
    assert HUBSPOT.normalize(b"[]", {}).type == "batch"
    with pytest.raises(ValueError):
        HUBSPOT.normalize(b"not json", {})


# -- the connector's default mappings (issue 13) -----------------------------------------


def test_events_map_the_same_at_either_url() -> None:
    """The default mapping reads the normalized data, so an event inside its batch's array
    (an integration's own URL) maps exactly like the event alone (the app URL)."""
    batch = fixture("hubspot", "deal__property_change.json")
    (alone,) = elements(batch)
    mapping = default_mapping("hubspot", "*")
    assert mapping is not None and default_mapping("hubspot", "deal.propertyChange") is None
    results = []
    for body in (batch, alone):
        data = HUBSPOT.normalize(body, {}).data
        result = mapping.apply(event_document("hubspot", body, data))
        assert result.errors == []
        results.append(result.mapped)
    assert (
        results[0]
        == results[1]
        == {
            "portal": "123456",
            "object_type": "deal",
            "object_id": "17654110233",
            "property": "dealstage",
            "value": "closedwon",
            "change_source": "CRM_UI",
        }
    )


# CRM objects as the v3 objects API returns them, with the example values of HubSpot's
# objects reference (https://developers.hubspot.com/docs/api/crm/contacts and .../deals).
CONTACT = {
    "id": "512",
    "properties": {
        "createdate": "2019-10-30T03:30:17.883Z",
        "email": "bcooper@biglytics.net",
        "firstname": "Bryan",
        "hs_object_id": "512",
        "lastmodifieddate": "2019-12-07T16:50:06.678Z",
        "lastname": "Cooper",
    },
    "createdAt": "2019-10-30T03:30:17.883Z",
    "updatedAt": "2019-12-07T16:50:06.678Z",
    "archived": False,
}
DEAL = {
    "id": "1239",
    "properties": {
        "amount": "1500.00",
        "closedate": "2019-12-07T16:50:06.678Z",
        "createdate": "2019-10-30T03:30:17.883Z",
        "dealname": "Custom data integrations",
        "dealstage": "presentationscheduled",
        "hs_lastmodifieddate": "2019-12-07T16:50:06.678Z",
        "hs_object_id": "1239",
        "pipeline": "default",
    },
    "createdAt": "2019-10-30T03:30:17.883Z",
    "updatedAt": "2019-12-07T16:50:06.678Z",
    "archived": False,
}


def test_streams_map_crm_objects() -> None:
    contact = default_mapping("hubspot", "contacts")
    deal = default_mapping("hubspot", "deals")
    assert contact is not None and deal is not None
    assert contact.apply(CONTACT).mapped == {
        "id": "512",
        "email": "bcooper@biglytics.net",
        "first_name": "Bryan",
        "last_name": "Cooper",
        "updated_at": "2019-12-07T16:50:06.678000Z",  # RFC 3339 in UTC, microseconds
    }
    mapped = deal.apply(DEAL)
    assert mapped.errors == []
    assert mapped.mapped["amount"] == 1500.0 and mapped.mapped["stage"] == "presentationscheduled"
