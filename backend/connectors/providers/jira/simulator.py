"""Jira's REST API as documented: `myself` through the cloud gateway (v3) and Data Center (v2);
issues created and transitioned (kept in ISSUES, what test mode would have sent)."""

import datetime as dt
import itertools
import json
import random
import re
from collections.abc import Callable
from typing import Any

from backend.connectors.providers._listing import bounded_limit, generated, page_after, seed_of
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


# -- search (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get)

#: How many issues each simulated site holds.
LIST_SIZE = 140
_NEWEST = dt.datetime(2025, 11, 24, 16, 0, tzinfo=dt.UTC)
_UPDATED_SINCE = re.compile(r'updated\s*>=\s*"(\d{4}/\d{2}/\d{2} \d{2}:\d{2})"', re.IGNORECASE)


def _jira_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _search_issue(site: str) -> Callable[[random.Random, int], dict[str, Any]]:
    def build(rng: random.Random, index: int) -> dict[str, Any]:
        number = LIST_SIZE - index
        updated = _NEWEST - dt.timedelta(minutes=45 * index + rng.randrange(0, 30))
        issue_id = str(10_000 + number)
        status = rng.choice(("To Do", "In Progress", "Done"))
        return {
            "id": issue_id,
            "key": f"SIM-{number}",
            "self": f"https://{site}/rest/api/3/issue/{issue_id}",
            "expand": "renderedFields,names,schema,operations,editmeta,changelog",
            "fields": {
                "summary": f"Simulated issue {number}",
                "issuetype": {"id": "10001", "name": rng.choice(("Task", "Bug", "Story"))},
                "project": {"id": "10000", "key": "SIM", "name": "Simulated project"},
                "status": {"id": str(1 + ("To Do", "In Progress", "Done").index(status)),
                           "name": status},
                "created": _jira_time(updated - dt.timedelta(days=3)),
                "updated": _jira_time(updated),
            },
        }  # fmt: skip

    return build


def search_jql(request: SimRequest) -> SimResponse:
    """GET /rest/api/3/search/jql: `updated >= "yyyy/MM/dd HH:mm"` (UTC here; Jira reads it
    in the user's zone) ordered by updated ascending, `maxResults` (default 50, at most
    5000) and `nextPageToken`; an unbounded JQL is refused as Jira does."""
    jql = request.query.get("jql", "")
    if not jql.strip() or jql.strip().upper().startswith("ORDER BY"):
        return _bad_request(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to "
            "your query."
        )
    records = generated(
        seed_of(request.bearer() or ""), "issues", LIST_SIZE, _search_issue("sim.atlassian.net")
    )
    records.sort(key=lambda r: r["fields"]["updated"])
    match = _UPDATED_SINCE.search(jql)
    if match:
        since = dt.datetime.strptime(match.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=dt.UTC)
        records = [r for r in records if r["fields"]["updated"] >= _jira_time(since)]
    token = request.query.get("nextPageToken")
    size = bounded_limit(request.query.get("maxResults"), 50, 5000)
    chunk, more = page_after(records, token, size)
    body: dict[str, Any] = {"issues": chunk, "isLast": not more}
    if more:
        body["nextPageToken"] = chunk[-1]["id"]
    return json_response(200, body)


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
        Route("GET", r"/ex/jira/[0-9a-f-]+/rest/api/3/search/jql", search_jql),
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
