"""GitHub's REST API as documented: GET /user, the grant deletion, repository webhooks
(create, update config, delete), issues and comments created (kept in ISSUES and COMMENTS,
what test mode would have sent), rate-limit headers."""

import hashlib
import itertools
import json
import random
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from backend.connectors.providers._listing import bounded_limit, generated, seed_of
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


# -- lists (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api) --

#: How many objects each simulated account lists.
LIST_SIZES = {"repositories": 45, "issues": 130, "pull_requests": 75}
_NEWEST = 1_764_000_000
_REPO_URLS = (
    "archive_url:/{archive_format}{/ref}", "assignees_url:/assignees{/user}",
    "blobs_url:/git/blobs{/sha}", "branches_url:/branches{/branch}",
    "collaborators_url:/collaborators{/collaborator}", "comments_url:/comments{/number}",
    "commits_url:/commits{/sha}", "compare_url:/compare/{base}...{head}",
    "contents_url:/contents/{+path}", "contributors_url:/contributors",
    "deployments_url:/deployments", "downloads_url:/downloads", "events_url:/events",
    "forks_url:/forks", "git_commits_url:/git/commits{/sha}", "git_refs_url:/git/refs{/sha}",
    "git_tags_url:/git/tags{/sha}", "hooks_url:/hooks",
    "issue_comment_url:/issues/comments{/number}", "issue_events_url:/issues/events{/number}",
    "issues_url:/issues{/number}", "keys_url:/keys{/key_id}", "labels_url:/labels{/name}",
    "languages_url:/languages", "merges_url:/merges", "milestones_url:/milestones{/number}",
    "notifications_url:/notifications{?since,all,participating}", "pulls_url:/pulls{/number}",
    "releases_url:/releases{/id}", "stargazers_url:/stargazers",
    "statuses_url:/statuses/{sha}", "subscribers_url:/subscribers",
    "subscription_url:/subscription", "tags_url:/tags", "teams_url:/teams",
    "trees_url:/git/trees{/sha}",
)  # fmt: skip


def _iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _repository(full_name: str, repo_id: int, updated: int) -> dict[str, Any]:
    """A documented `repository` (every field its description requires)."""
    api = f"https://api.github.com/repos/{full_name}"
    urls = {name: api + suffix for name, suffix in (u.split(":", 1) for u in _REPO_URLS)}
    return {
        "id": repo_id,
        "node_id": f"R_kgDOsim{repo_id}",
        "name": full_name.split("/")[1],
        "full_name": full_name,
        "owner": _OCTOCAT,
        "private": repo_id % 3 == 0,
        "html_url": f"https://github.com/{full_name}",
        "description": f"Simulated repository {full_name}",
        "fork": False,
        "url": api,
        **urls,
        "git_url": f"git://github.com/{full_name}.git",
        "ssh_url": f"git@github.com:{full_name}.git",
        "clone_url": f"https://github.com/{full_name}.git",
        "svn_url": f"https://github.com/{full_name}",
        "mirror_url": None,
        "homepage": None,
        "language": "Python",
        "forks": 0,
        "forks_count": 0,
        "stargazers_count": repo_id % 50,
        "watchers": repo_id % 50,
        "watchers_count": repo_id % 50,
        "size": 1024,
        "default_branch": "main",
        "open_issues": 3,
        "open_issues_count": 3,
        "has_issues": True,
        "has_projects": True,
        "has_wiki": False,
        "has_pages": False,
        "has_downloads": True,
        "archived": False,
        "disabled": False,
        "license": None,
        "pushed_at": _iso(updated),
        "created_at": _iso(updated - 400 * 86400),
        "updated_at": _iso(updated),
    }


def _updated(rng: random.Random, index: int) -> int:
    return _NEWEST - index * 3600 - rng.randrange(0, 1800)


def _generated_repository(rng: random.Random, index: int) -> dict[str, Any]:
    return _repository(f"octocat/project-{index:03d}", 700_000_000 + index, _updated(rng, index))


def _generated_issue(repo: str) -> Callable[[random.Random, int], dict[str, Any]]:
    def build(rng: random.Random, index: int) -> dict[str, Any]:
        number = LIST_SIZES["issues"] - index
        updated = _updated(rng, index)
        issue = {
            "id": 1_700_000_000 + number,
            "number": number,
            "title": f"Simulated issue {number}",
            "body": rng.choice(("Steps to reproduce attached.", None, "See the logs.")),
            "labels": [],
            "created_at": _iso(updated - 86400),
        }
        view = _issue_view(repo, issue)
        closed = rng.random() < 0.3
        view.update(
            state="closed" if closed else "open",
            closed_at=_iso(updated) if closed else None,
            updated_at=_iso(updated),
            comments=rng.randrange(0, 12),
        )
        return view

    return build


def _generated_pull(repo: str) -> Callable[[random.Random, int], dict[str, Any]]:
    def build(rng: random.Random, index: int) -> dict[str, Any]:
        number = 1000 + LIST_SIZES["pull_requests"] - index
        updated = _updated(rng, index)
        api = f"https://api.github.com/repos/{repo}"
        sha = f"{rng.getrandbits(160):040x}"
        merged = rng.random() < 0.4
        base = _repository(repo, 1296269, updated)
        return {
            "url": f"{api}/pulls/{number}",
            "id": 1_800_000_000 + number,
            "node_id": f"PR_kwDOsim{number}",
            "html_url": f"https://github.com/{repo}/pull/{number}",
            "diff_url": f"https://github.com/{repo}/pull/{number}.diff",
            "patch_url": f"https://github.com/{repo}/pull/{number}.patch",
            "issue_url": f"{api}/issues/{number}",
            "commits_url": f"{api}/pulls/{number}/commits",
            "review_comments_url": f"{api}/pulls/{number}/comments",
            "review_comment_url": f"{api}/pulls/comments{{/number}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "statuses_url": f"{api}/statuses/{sha}",
            "number": number,
            "state": "closed" if merged else "open",
            "locked": False,
            "title": f"Simulated change {number}",
            "user": _OCTOCAT,
            "body": None,
            "labels": [],
            "milestone": None,
            "created_at": _iso(updated - 2 * 86400),
            "updated_at": _iso(updated),
            "closed_at": _iso(updated) if merged else None,
            "merged_at": _iso(updated) if merged else None,
            "merge_commit_sha": sha if merged else None,
            "assignee": None,
            "head": {"label": f"octocat:change-{number}", "ref": f"change-{number}",
                     "sha": sha, "user": _OCTOCAT, "repo": base},
            "base": {"label": "octocat:main", "ref": "main", "sha": sha, "user": _OCTOCAT,
                     "repo": base},
            "_links": {name: {"href": f"{api}/pulls/{number}"} for name in (
                "comments", "commits", "statuses", "html", "issue", "review_comments",
                "review_comment", "self")},
            "author_association": "OWNER",
            "auto_merge": None,
        }  # fmt: skip

    return build


def _listed(request: SimRequest, records: list[dict[str, Any]]) -> SimResponse:
    """One page (`per_page` 1-100, default 30; `page` from 1) with GitHub's Link header (as
    a reference relative to the API, which clients resolve against it) and an ETag; a
    matching If-None-Match is answered 304."""
    per_page = bounded_limit(request.query.get("per_page"), 30, 100)
    raw_page = request.query.get("page", "1")
    page = max(1, int(raw_page)) if raw_page.isdigit() else 1
    chunk = records[(page - 1) * per_page : page * per_page]
    body = json.dumps(chunk).encode()
    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {**_rate_headers(4990), "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return SimResponse(304, b"", headers)
    last = max(1, -(-len(records) // per_page))
    links = []
    for rel, number in (("next", page + 1), ("last", last)):
        if page < last:
            query = urlencode({**request.query, "page": str(number)})
            links.append(f'<{request.path}?{query}>; rel="{rel}"')
    if links:
        headers["Link"] = ", ".join(links)
    return SimResponse(200, body, {"Content-Type": "application/json; charset=utf-8", **headers})


def _since(request: SimRequest) -> str:
    return request.query.get("since", "")


def _account(request: SimRequest) -> str:
    return seed_of(request.headers.get("authorization", ""))


def user_repositories(request: SimRequest) -> SimResponse:
    """GET /user/repos, most recently updated first."""
    records = generated(
        _account(request), "repositories", LIST_SIZES["repositories"], _generated_repository
    )
    return _listed(request, records)


def _repo_of(request: SimRequest) -> str:
    parts = request.path.split("/")
    return f"{parts[2]}/{parts[3]}"


def list_issues(request: SimRequest) -> SimResponse:
    """GET /repos/{owner}/{repo}/issues: `since` keeps those updated at or after it;
    `sort=updated&direction=asc` oldest first (default: newest created first)."""
    repo = _repo_of(request)
    if "missing" in repo:
        return _not_found(request)
    records = generated(
        _account(request), f"issues:{repo}", LIST_SIZES["issues"], _generated_issue(repo)
    )
    since = _since(request)
    if since:
        records = [r for r in records if r["updated_at"] >= since]
    if request.query.get("state", "open") != "all":
        wanted = request.query.get("state", "open")
        records = [r for r in records if r["state"] == wanted]
    key = "updated_at" if request.query.get("sort") == "updated" else "created_at"
    ascending = request.query.get("direction") == "asc"
    return _listed(request, sorted(records, key=lambda r: r[key], reverse=not ascending))


def list_pulls(request: SimRequest) -> SimResponse:
    """GET /repos/{owner}/{repo}/pulls (`state`, `sort`, `direction`)."""
    repo = _repo_of(request)
    if "missing" in repo:
        return _not_found(request)
    records = generated(
        _account(request), f"pulls:{repo}", LIST_SIZES["pull_requests"], _generated_pull(repo)
    )
    state = request.query.get("state", "open")
    if state != "all":
        records = [r for r in records if r["state"] == state]
    key = "updated_at" if request.query.get("sort") == "updated" else "created_at"
    ascending = request.query.get("direction") == "asc"
    return _listed(request, sorted(records, key=lambda r: r[key], reverse=not ascending))


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
        Route("GET", r"/user/repos", user_repositories),
        Route("GET", r"/repos/[^/]+/[^/]+/issues", list_issues),
        Route("GET", r"/repos/[^/]+/[^/]+/pulls", list_pulls),
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
