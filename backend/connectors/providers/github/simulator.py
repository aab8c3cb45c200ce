"""GitHub's REST API as documented: GET /user, the grant deletion, repository webhooks
(create, update config, delete), issues and comments created (kept in ISSUES and COMMENTS,
what test mode would have sent), rate-limit headers."""

import itertools
import json
import re
import time
from typing import Any

from backend.connectors.providers.github.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
)

_DOCS = "https://docs.github.com/rest"


def _rate_headers(remaining: int) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(time.time()) + 3600),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-resource": "core",
        "x-github-api-version-selected": "2022-11-28",
        "x-github-media-type": "github.v3; format=json",
    }


def user(request: SimRequest) -> SimResponse:
    """The authenticated user as GitHub describes it (`private-user`: every required field,
    and `user_view_type`, the property its description discriminates on)."""
    api = "https://api.github.com/users/octocat"
    return json_response(
        200,
        {
            "login": "octocat",
            "id": 583231,
            "node_id": "MDQ6VXNlcjU4MzIzMQ==",
            "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
            "gravatar_id": "",
            "url": api,
            "html_url": "https://github.com/octocat",
            "followers_url": f"{api}/followers",
            "following_url": f"{api}/following{{/other_user}}",
            "gists_url": f"{api}/gists{{/gist_id}}",
            "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{api}/subscriptions",
            "organizations_url": f"{api}/orgs",
            "repos_url": f"{api}/repos",
            "events_url": f"{api}/events{{/privacy}}",
            "received_events_url": f"{api}/received_events",
            "type": "User",
            "user_view_type": "private",
            "site_admin": False,
            "name": "The Octocat",
            "company": "@github",
            "blog": "https://github.blog",
            "location": "San Francisco",
            "email": None,
            "hireable": None,
            "bio": None,
            "public_repos": 8,
            "public_gists": 8,
            "followers": 9000,
            "following": 9,
            "created_at": "2011-01-25T18:44:36Z",
            "updated_at": "2024-01-22T12:29:37Z",
            "private_gists": 0,
            "total_private_repos": 0,
            "owned_private_repos": 0,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
        },
        {**_rate_headers(4999), "x-oauth-scopes": "admin:repo_hook", "x-accepted-oauth-scopes": ""},
    )


def delete_grant(request: SimRequest) -> SimResponse:
    basic = request.basic()
    if basic is None or not looks_valid(basic[1]):
        return unauthorized(request)
    return SimResponse(204)


#: Repository hooks created through the simulator, by hook id.
HOOKS: dict[str, dict[str, object]] = {}
_hook_ids = itertools.count(494_000_001)
_HOOK_PATH = re.compile(r"/repos/([^/]+/[^/]+)/hooks(?:/(\d+))?(?:/config)?")


def _json_body(request: SimRequest) -> dict[str, object]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _repo_and_hook(request: SimRequest) -> tuple[str, str | None]:
    match = _HOOK_PATH.fullmatch(request.path)
    return (match.group(1), match.group(2)) if match else ("", None)


def _public_config(config: dict[str, object]) -> dict[str, object]:
    # GitHub never shows a hook's secret back, only that one is set.
    return {**config, "secret": "********"} if config.get("secret") else dict(config)


def _hook_view(hook_id: str, hook: dict[str, object]) -> dict[str, object]:
    base = f"https://api.github.com/repos/{hook['repository']}/hooks/{hook_id}"
    config = hook["config"]
    assert isinstance(config, dict)
    return {
        "type": "Repository",
        "id": int(hook_id),
        "name": "web",
        "active": hook["active"],
        "events": hook["events"],
        "config": _public_config(config),
        "updated_at": "2024-06-03T18:01:48Z",
        "created_at": "2024-06-03T18:01:48Z",
        "url": base,
        "test_url": base + "/test",
        "ping_url": base + "/pings",
        "deliveries_url": base + "/deliveries",
        "last_response": {"code": None, "status": "unused", "message": None},
    }


def _validation_failed(message: str, resource: str = "Hook") -> SimResponse:
    return json_response(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": "custom", "message": message}],
            "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook",
            "status": "422",
        },
    )


def _not_found(request: SimRequest) -> SimResponse:
    return json_response(404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"})


def create_hook(request: SimRequest) -> SimResponse:
    repo, _ = _repo_and_hook(request)
    if "missing" in repo:  # no such repository, or no admin rights on it
        return _not_found(request)
    body = _json_body(request)
    config = body.get("config")
    if not isinstance(config, dict) or not str(config.get("url", "")).startswith("http"):
        return _validation_failed("Config must contain a valid url")
    for hook in HOOKS.values():
        existing = hook["config"]
        existing_url = existing.get("url") if isinstance(existing, dict) else None
        if hook["repository"] == repo and existing_url == config.get("url"):
            return _validation_failed("Hook already exists on this repository")
    hook_id = str(next(_hook_ids))
    hook = {
        "repository": repo,
        "active": bool(body.get("active", True)),
        "events": body.get("events") or ["push"],
        "config": {k: str(v) for k, v in config.items()},
    }
    remember(HOOKS, hook_id, hook)
    return json_response(201, _hook_view(hook_id, HOOKS[hook_id]), _rate_headers(4998))


def update_hook_config(request: SimRequest) -> SimResponse:
    repo, hook_id = _repo_and_hook(request)
    hook = HOOKS.get(hook_id or "")
    if hook is None or hook["repository"] != repo:
        return _not_found(request)
    config = hook["config"]
    assert isinstance(config, dict)
    config.update({k: str(v) for k, v in _json_body(request).items()})
    return json_response(200, _public_config(config), _rate_headers(4997))


def delete_hook(request: SimRequest) -> SimResponse:
    repo, hook_id = _repo_and_hook(request)
    hook = HOOKS.get(hook_id or "")
    if hook is None or hook["repository"] != repo:
        return _not_found(request)
    del HOOKS[hook_id or ""]
    return SimResponse(204, b"", _rate_headers(4996))


#: Issues and comments created through the simulator, by id: what test mode would have sent.
ISSUES: dict[str, dict[str, Any]] = {}
COMMENTS: dict[str, dict[str, object]] = {}
_issue_ids = itertools.count(1_800_000_001)
_comment_ids = itertools.count(1_900_000_001)
_ISSUE_PATH = re.compile(r"/repos/([^/]+/[^/]+)/issues(?:/(\d+)/comments)?")
_OCTOCAT_API = "https://api.github.com/users/octocat"
# GitHub's `simple-user`: every field its description requires.
_OCTOCAT = {
    "login": "octocat",
    "id": 583231,
    "node_id": "MDQ6VXNlcjU4MzIzMQ==",
    "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
    "gravatar_id": "",
    "url": _OCTOCAT_API,
    "html_url": "https://github.com/octocat",
    "followers_url": f"{_OCTOCAT_API}/followers",
    "following_url": f"{_OCTOCAT_API}/following{{/other_user}}",
    "gists_url": f"{_OCTOCAT_API}/gists{{/gist_id}}",
    "starred_url": f"{_OCTOCAT_API}/starred{{/owner}}{{/repo}}",
    "subscriptions_url": f"{_OCTOCAT_API}/subscriptions",
    "organizations_url": f"{_OCTOCAT_API}/orgs",
    "repos_url": f"{_OCTOCAT_API}/repos",
    "events_url": f"{_OCTOCAT_API}/events{{/privacy}}",
    "received_events_url": f"{_OCTOCAT_API}/received_events",
    "type": "User",
    "site_admin": False,
}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _issue_view(repo: str, issue: dict[str, Any]) -> dict[str, object]:
    """An issue as GitHub's `issue` schema shows it."""
    api = f"https://api.github.com/repos/{repo}/issues/{issue['number']}"
    return {
        "id": issue["id"],
        "node_id": f"I_kwDOsim{issue['id']}",
        "url": api,
        "repository_url": f"https://api.github.com/repos/{repo}",
        "labels_url": api + "/labels{/name}",
        "comments_url": api + "/comments",
        "events_url": api + "/events",
        "html_url": f"https://github.com/{repo}/issues/{issue['number']}",
        "number": issue["number"],
        "state": "open",
        "state_reason": None,
        "title": issue["title"],
        "body": issue["body"],
        "user": _OCTOCAT,
        "labels": [{"name": name, "color": "ededed", "default": False} for name in issue["labels"]],
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "locked": False,
        "active_lock_reason": None,
        "comments": 0,
        "closed_at": None,
        "created_at": issue["created_at"],
        "updated_at": issue["created_at"],
        "closed_by": None,
        "author_association": "OWNER",
    }


def create_issue(request: SimRequest) -> SimResponse:
    match = _ISSUE_PATH.fullmatch(request.path)
    repo = match.group(1) if match else ""
    if "missing" in repo:
        return _not_found(request)
    body = _json_body(request)
    title = body.get("title")
    if not isinstance(title, str | int) or not str(title):
        return _validation_failed("title wasn't supplied.", resource="Issue")
    number = 1 + sum(1 for issue in ISSUES.values() if issue["repository"] == repo)
    issue_id = next(_issue_ids)
    labels = body.get("labels")
    issue: dict[str, Any] = {
        "repository": repo,
        "id": issue_id,
        "number": number,
        "title": str(title),
        "body": body.get("body"),
        "labels": [str(label) for label in labels] if isinstance(labels, list) else [],
        "assignees": body.get("assignees") or [],
        "created_at": _now(),
    }
    remember(ISSUES, str(issue_id), issue)
    return json_response(201, _issue_view(repo, issue), _rate_headers(4995))


def create_comment(request: SimRequest) -> SimResponse:
    match = _ISSUE_PATH.fullmatch(request.path)
    repo, number = (match.group(1), int(match.group(2))) if match else ("", 0)
    known = any(i["repository"] == repo and i["number"] == number for i in ISSUES.values())
    # Issues the simulator did not create exist too: any number below 1000 is answered.
    if not known and ("missing" in repo or number >= 1000):
        return _not_found(request)
    body = _json_body(request).get("body")
    if not isinstance(body, str) or not body:
        return _validation_failed("body wasn't supplied.", resource="IssueComment")
    comment_id = next(_comment_ids)
    created = _now()
    remember(COMMENTS, str(comment_id), {"repository": repo, "number": number, "body": body})
    api = f"https://api.github.com/repos/{repo}/issues"
    return json_response(
        201,
        {
            "id": comment_id,
            "node_id": f"IC_kwDOsim{comment_id}",
            "url": f"{api}/comments/{comment_id}",
            "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
            "body": body,
            "user": _OCTOCAT,
            "created_at": created,
            "updated_at": created,
            "issue_url": f"{api}/{number}",
            "author_association": "OWNER",
        },
        _rate_headers(4994),
    )


def unauthorized(request: SimRequest) -> SimResponse:
    return json_response(
        401,
        {"message": "Bad credentials", "documentation_url": _DOCS, "status": "401"},
        _rate_headers(59),
    )


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    headers = _rate_headers(0)
    headers["x-ratelimit-reset"] = str(int(time.time()) + seconds)
    return json_response(
        429,
        {
            "message": "API rate limit exceeded for user ID 583231. If you reach out to "
            "GitHub Support for help, please include the request ID.",
            "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            "status": "429",
        },
        {**headers, "retry-after": str(seconds)},
    )


def credential_ok(request: SimRequest) -> bool:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    # GitHub accepts both `Bearer` and the older `token` scheme.
    return scheme.lower() in ("bearer", "token") and looks_valid(token.strip())


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/user", user),
        Route("DELETE", r"/applications/[^/]+/grant", delete_grant, authenticated=False),
        Route("POST", r"/repos/[^/]+/[^/]+/hooks", create_hook),
        Route("PATCH", r"/repos/[^/]+/[^/]+/hooks/\d+/config", update_hook_config),
        Route("DELETE", r"/repos/[^/]+/[^/]+/hooks/\d+", delete_hook),
        Route("POST", r"/repos/[^/]+/[^/]+/issues", create_issue),
        Route("POST", r"/repos/[^/]+/[^/]+/issues/\d+/comments", create_comment),
    ),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=lambda request: json_response(
        500, {"message": "Server Error", "documentation_url": _DOCS, "status": "500"}
    ),
    not_found=_not_found,
    sample_credentials={
        "access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "token_type": "bearer",
    },
)
