"""HubSpot's API as its reference pages show it (no description to validate against).

- GET /account-info/v3/details: the example of
  https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/guide
  with every field the reference marks required.
- Errors: HubSpot's {"status": "error", "message", "correlationId", "category"} body; a 429
  names its policy and carries Retry-After
  (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines).
- POST /crm/v3/objects/contacts/batch/upsert by email: the response of
  https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts
  (`new` tells a created contact from an updated one); contacts kept in CONTACTS by email,
  what test mode would have sent.
"""

import datetime as dt
import itertools
import json
import random
import uuid
from collections.abc import Callable
from typing import Any

from backend.connectors.providers._listing import generated, page_after, seed_of
from backend.connectors.providers.hubspot.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
)

PORTAL_ID = 123456
_WINDOW_MS = 10_000


def _rate_headers(remaining: int) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Interval-Milliseconds": str(_WINDOW_MS),
        "X-HubSpot-RateLimit-Max": str(SPEC.rate_limit.requests),
        "X-HubSpot-RateLimit-Remaining": str(remaining),
    }


def _error(status: int, message: str, **extra: str) -> SimResponse:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), **extra}
    return json_response(status, body)


def account_details(request: SimRequest) -> SimResponse:
    body = {
        "portalId": PORTAL_ID,
        "accountType": "STANDARD",
        "timeZone": "US/Eastern",
        "companyCurrency": "USD",
        "additionalCurrencies": [],
        "utcOffset": "-05:00",
        "utcOffsetMilliseconds": -18000000,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }
    return json_response(200, body, _rate_headers(SPEC.rate_limit.requests - 1))


#: Contacts upserted through the simulator, by lower-cased email.
CONTACTS: dict[str, dict[str, Any]] = {}
_contact_ids = itertools.count(151_000_001)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _upsert_one(item: Any) -> dict[str, Any] | str:
    """One input of a batch upsert by email: the saved contact, or why it was refused."""
    if not isinstance(item, dict) or item.get("idProperty") != "email":
        return "idProperty must be email for this simulator"
    email = str(item.get("id") or "")
    properties = item.get("properties")
    if "@" not in email or not isinstance(properties, dict):
        return f"Property values were not valid: invalid email {email!r}"
    now = _now()
    found = CONTACTS.get(email.lower())
    contact = found or {"id": str(next(_contact_ids)), "createdAt": now, "properties": {}}
    contact["properties"].update({str(k): str(v) for k, v in properties.items()})
    contact["properties"]["email"] = email
    contact["updatedAt"] = now
    remember(CONTACTS, email.lower(), contact)
    return {
        "id": contact["id"],
        "properties": {
            **contact["properties"],
            "hs_object_id": contact["id"],
            "createdate": contact["createdAt"],
            "lastmodifieddate": now,
        },
        "createdAt": contact["createdAt"],
        "updatedAt": now,
        "archived": False,
        "new": found is None,
    }


def upsert_contacts(request: SimRequest) -> SimResponse:
    started = _now()
    try:
        inputs = json.loads(request.body or b"{}").get("inputs")
    except (ValueError, AttributeError):
        inputs = None
    if not isinstance(inputs, list) or not inputs:
        return _error(400, "Invalid input JSON on line 1", category="VALIDATION_ERROR")
    saved = [_upsert_one(item) for item in inputs]
    results = [r for r in saved if isinstance(r, dict)]
    failed = [r for r in saved if isinstance(r, str)]
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": _now(),
    }
    if failed:
        body["numErrors"] = len(failed)
        body["errors"] = [
            {"status": "error", "category": "VALIDATION_ERROR", "message": m} for m in failed
        ]
    headers = _rate_headers(SPEC.rate_limit.requests - 1)
    return json_response(207 if failed else 200, body, headers)


# -- CRM objects: list and search --------------------------------------------------------------
# GET /crm/v3/objects/{type} (`limit` at most 100, `after` from paging.next.after) and POST
# /crm/v3/objects/{type}/search (filterGroups on a date property with GTE/LTE, sorts,
# `limit` at most 200, `after`): https://developers.hubspot.com/docs/api-reference/crm-contacts-v3/guide
# and https://developers.hubspot.com/docs/api-reference/search/guide

#: How many objects each simulated portal holds.
LIST_SIZES = {"contacts": 160, "companies": 60, "deals": 90}
_NEWEST = dt.datetime(2025, 11, 24, 16, 0, tzinfo=dt.UTC)
_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")


def _hs_time(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _crm_object(kind: str) -> Callable[[random.Random, int], dict[str, Any]]:
    def build(rng: random.Random, index: int) -> dict[str, Any]:
        updated = _NEWEST - dt.timedelta(minutes=50 * index + rng.randrange(0, 40))
        created = updated - dt.timedelta(days=rng.randrange(1, 300))
        object_id = str({"contacts": 51, "companies": 52, "deals": 53}[kind] * 10**8 + index)
        name = rng.choice(_NAMES)
        properties = {
            "contacts": {"firstname": name, "lastname": f"Sim{index}",
                         "email": f"{name.lower()}.sim{index}@example.com"},
            "companies": {"name": f"{name} Industries {index}", "domain": f"sim{index}.example"},
            "deals": {"dealname": f"Deal {index}", "amount": str(rng.randrange(1000, 90000)),
                      "dealstage": rng.choice(("appointmentscheduled", "closedwon"))},
        }[kind]  # fmt: skip
        modified = "lastmodifieddate" if kind == "contacts" else "hs_lastmodifieddate"
        properties.update(
            createdate=_hs_time(created), hs_object_id=object_id, **{modified: _hs_time(updated)}
        )
        return {
            "id": object_id,
            "properties": properties,
            "createdAt": _hs_time(created),
            "updatedAt": _hs_time(updated),
            "archived": False,
        }

    return build


def _objects(request: SimRequest, kind: str) -> list[dict[str, Any]]:
    records = generated(seed_of(request.bearer() or ""), kind, LIST_SIZES[kind], _crm_object(kind))
    return sorted(records, key=lambda r: int(r["id"]))


def _paged(records: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    chunk, more = page_after(records, after, limit)
    body: dict[str, Any] = {"results": chunk}
    if more:
        body["paging"] = {"next": {"after": chunk[-1]["id"]}}
    return body


def list_objects(request: SimRequest) -> SimResponse:
    kind = request.path.rsplit("/", 1)[-1]
    limit = request.query.get("limit", "10")
    if not limit.isdigit() or not 1 <= int(limit) <= 100:
        return _error(400, "limit must be between 1 and 100", category="VALIDATION_ERROR")
    body = _paged(_objects(request, kind), request.query.get("after"), int(limit))
    return json_response(200, body, _rate_headers(SPEC.rate_limit.requests - 1))


def _date_test(flt: Any) -> Callable[[dict[str, Any]], bool] | None:
    """A GTE/LTE/GT/LT filter on a date property (epoch ms or ISO 8601), else None."""
    if not isinstance(flt, dict) or flt.get("operator") not in ("GTE", "LTE", "GT", "LT"):
        return None
    raw, name = str(flt.get("value", "")), str(flt.get("propertyName", ""))
    try:
        bound = (
            dt.datetime.fromtimestamp(int(raw) / 1000, dt.UTC)
            if raw.isdigit()
            else dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        )
    except (ValueError, OverflowError):
        return None
    compare = {
        "GTE": lambda a, b: a >= b, "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b, "LT": lambda a, b: a < b,
    }[flt["operator"]]  # fmt: skip

    def test(record: dict[str, Any]) -> bool:
        value = record["properties"].get(name)
        if value is None:
            return False
        return bool(compare(dt.datetime.fromisoformat(value.replace("Z", "+00:00")), bound))

    return test


def search_objects(request: SimRequest) -> SimResponse:
    kind = request.path.split("/")[-2]
    try:
        query = json.loads(request.body or b"{}")
    except ValueError:
        return _error(400, "Invalid input JSON", category="VALIDATION_ERROR")
    if not isinstance(query, dict):
        return _error(400, "Invalid input JSON", category="VALIDATION_ERROR")
    limit = query.get("limit", 10)
    if not isinstance(limit, int) or not 1 <= limit <= 200:
        return _error(400, "limit must be between 1 and 200", category="VALIDATION_ERROR")
    records = _objects(request, kind)
    groups = query.get("filterGroups") or []
    if groups:
        found = [[_date_test(f) for f in group.get("filters", [])] for group in groups]
        tests = [[t for t in group if t is not None] for group in found]
        if any(len(a) != len(b) for a, b in zip(found, tests, strict=True)):
            return _error(400, "unsupported filter", category="VALIDATION_ERROR")
        records = [r for r in records if any(all(t(r) for t in g) for g in tests)]
    for sort in reversed(query.get("sorts") or []):
        name = str(sort.get("propertyName", "")) if isinstance(sort, dict) else ""

        def sort_key(record: dict[str, Any], name: str = name) -> str:
            return str(record["properties"].get(name) or "")

        records.sort(
            key=sort_key, reverse=isinstance(sort, dict) and sort.get("direction") == "DESCENDING"
        )
    after = query.get("after")
    body = _paged(records, str(after) if after else None, limit)
    body["total"] = len(records)
    return json_response(200, body, _rate_headers(SPEC.rate_limit.requests - 1))


def unauthorized(request: SimRequest) -> SimResponse:
    return _error(
        401,
        "Authentication credentials not found. This API supports OAuth 2.0 authentication "
        "and you can find more details at "
        "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
        category="INVALID_AUTHENTICATION",
    )


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    response = _error(
        429,
        "You have reached your ten_secondly_rolling limit.",
        errorType="RATE_LIMIT",
        policyName="TEN_SECONDLY_ROLLING",
        groupName=f"publicapi:oauth-api-calls-ten-secondly:{PORTAL_ID}",
    )
    headers = {**response.headers, **_rate_headers(0), "Retry-After": str(seconds)}
    return SimResponse(429, response.body, headers)


def server_error(request: SimRequest) -> SimResponse:
    return _error(500, "internal error", category="INTERNAL_ERROR")


def not_found(request: SimRequest) -> SimResponse:
    return _error(404, "resource not found", category="OBJECT_NOT_FOUND")


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/account-info/v3/details", account_details),
        Route("POST", r"/crm/v3/objects/contacts/batch/upsert", upsert_contacts),
        Route("GET", r"/crm/v3/objects/(contacts|companies|deals)", list_objects),
        Route("POST", r"/crm/v3/objects/(contacts|companies|deals)/search", search_objects),
    ),
    credential=lambda request: looks_valid(request.bearer()),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={
        "access_token": "CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKEgsYjYMJVvlHEz9tFHAwSq1TQAM40s0D",
        "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
        "token_type": "bearer",
    },
)
