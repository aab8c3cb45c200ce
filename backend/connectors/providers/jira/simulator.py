"""Jira's REST API as documented: `myself` through the cloud gateway (v3) and Data Center (v2);
issues created and transitioned (kept in ISSUES, what test mode would have sent)."""

import datetime as dt
import itertools
import json
import re
from typing import Any

from backend.connectors.providers.jira.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
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


_SITE = "https://your-domain.atlassian.net"
#: Issues created through the simulator, by key: fields as sent, status, transitions applied.
ISSUES: dict[str, dict[str, Any]] = {}
_issue_ids = itertools.count(10_001)
_ISSUE_PATH = re.compile(r"/ex/jira/[0-9a-f-]+/rest/api/3/issue/([^/]+)/transitions")
# The workflow every simulated issue follows (ids and names as in Jira's default workflow).
TRANSITIONS = {"11": "To Do", "21": "In Progress", "31": "Done"}


def _bad_request(*messages: str, **errors: str) -> SimResponse:
    return json_response(400, {"errorMessages": list(messages), "errors": errors})


def _json(request: SimRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def create_issue(request: SimRequest) -> SimResponse:
    """Jira's checks of a create: project, issue type and summary required; a description
    must be an ADF document (v3 refuses plain strings)."""
    fields = _json(request).get("fields")
    fields = fields if isinstance(fields, dict) else {}
    project = (fields.get("project") or {}).get("key")
    errors = {}
    if not project:
        errors["project"] = "Specify a valid project ID or key"
    if not (fields.get("issuetype") or {}).get("name"):
        errors["issuetype"] = "Specify an issue type"
    if not fields.get("summary"):
        errors["summary"] = "You must specify a summary of the issue."
    description = fields.get("description")
    if description is not None and (
        not isinstance(description, dict) or description.get("type") != "doc"
    ):
        errors["description"] = "Operation value must be an Atlassian Document (see ADF)."
    if errors:
        return _bad_request(**errors)
    issue_id = str(next(_issue_ids))
    number = 1 + sum(1 for issue in ISSUES.values() if issue["project"] == project)
    key = f"{project}-{number}"
    remember(ISSUES, key, {"id": issue_id, "project": project, "fields": fields, "status": "To Do"})
    return json_response(
        201, {"id": issue_id, "key": key, "self": f"{_SITE}/rest/api/3/issue/{issue_id}"}
    )


def _issue(request: SimRequest) -> dict[str, Any] | None:
    """The simulated issue the path names by key or id."""
    match = _ISSUE_PATH.fullmatch(request.path)
    wanted = match.group(1) if match else ""
    return next((i for k, i in ISSUES.items() if wanted in (k, i["id"])), None)


def _no_issue() -> SimResponse:
    return json_response(
        404,
        {"errorMessages": ["Issue does not exist or you do not have permission to see it."]},
    )


def transitions(request: SimRequest) -> SimResponse:
    issue = _issue(request)
    if issue is None:
        return _no_issue()
    available = [
        {
            "id": transition_id,
            "name": name,
            "to": {"id": str(10_000 + int(transition_id)), "name": name},
            "hasScreen": False,
            "isGlobal": True,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
        }
        for transition_id, name in TRANSITIONS.items()
        if name != issue["status"]
    ]
    return json_response(200, {"expand": "transitions", "transitions": available})


def transition(request: SimRequest) -> SimResponse:
    issue = _issue(request)
    if issue is None:
        return _no_issue()
    transition_id = str((_json(request).get("transition") or {}).get("id", ""))
    name = TRANSITIONS.get(transition_id)
    if name is None or name == issue["status"]:
        return _bad_request(f"Transition id '{transition_id}' is not valid for this issue.")
    issue["status"] = name
    return SimResponse(204)


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
        Route("POST", r"/ex/jira/[0-9a-f-]+/rest/api/3/issue", create_issue),
        Route("GET", _ISSUE_PATH.pattern, transitions),
        Route("POST", _ISSUE_PATH.pattern, transition),
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
