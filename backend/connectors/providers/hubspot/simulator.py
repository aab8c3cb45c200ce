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
import uuid
from typing import Any

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
