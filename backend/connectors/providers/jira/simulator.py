"""Jira's REST API as documented: `myself` through the cloud gateway (v3) and Data Center (v2)."""

import datetime as dt

from backend.connectors.providers.jira.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
)

_ACCOUNT = "5b10a2844c20165700ede21g"
CLOUD_ID = "11223344-a1b2-3b33-c444-def123456789"


def myself(request: SimRequest) -> SimResponse:
    base = "https://your-domain.atlassian.net"
    return json_response(
        200,
        {
            "self": f"{base}/rest/api/3/user?accountId={_ACCOUNT}",
            "accountId": _ACCOUNT,
            "accountType": "atlassian",
            "emailAddress": "mia@example.com",
            "avatarUrls": {"48x48": f"https://avatar-management.example/{_ACCOUNT}/48"},
            "displayName": "Mia Krystof",
            "active": True,
            "timeZone": "Australia/Sydney",
            "locale": "en_US",
            "groups": {"size": 3, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        },
    )


def myself_data_center(request: SimRequest) -> SimResponse:
    return json_response(
        200,
        {
            "self": "https://jira.example.com/rest/api/2/user?username=mia",
            "key": "JIRAUSER10100",
            "name": "mia",
            "emailAddress": "mia@example.com",
            "displayName": "Mia Krystof",
            "active": True,
            "deleted": False,
            "timeZone": "Australia/Sydney",
            "locale": "en_US",
        },
    )


def unauthorized(request: SimRequest) -> SimResponse:
    return json_response(401, {"code": 401, "message": "Unauthorized"})


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)
    return SimResponse(
        429,
        b"Rate limit exceeded.",
        {
            "Content-Type": "text/plain",
            "Retry-After": str(seconds),
            "X-RateLimit-Limit": "100",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
            "RateLimit-Reason": "jira-quota-based",
        },
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(500, {"errorMessages": ["Internal server error"], "errors": {}})


def not_found(request: SimRequest) -> SimResponse:
    return json_response(404, {"errorMessages": ["Site temporarily unavailable"], "errors": {}})


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/ex/jira/[0-9a-f-]+/rest/api/3/myself", myself),
        Route("GET", r"/rest/api/2/myself", myself_data_center),
    ),
    credential=lambda request: looks_valid(request.bearer()),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={
        "access_token": "eyJraWQiOiJzaW11bGF0ZWQiLCJhbGciOiJSUzI1NiJ9.simulated.jira",
        "refresh_token": "eyJraWQiOiJzaW11bGF0ZWQtcmVmcmVzaCJ9.simulated.refresh",
        "token_type": "Bearer",
    },
    sample_config={"cloud_id": CLOUD_ID},
)
