"""GitHub's REST API as documented: GET /user, the grant deletion, rate-limit headers."""

import time

from backend.connectors.providers.github.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
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
    return json_response(
        200,
        {
            "login": "octocat",
            "id": 583231,
            "node_id": "MDQ6VXNlcjU4MzIzMQ==",
            "avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4",
            "html_url": "https://github.com/octocat",
            "url": "https://api.github.com/users/octocat",
            "type": "User",
            "site_admin": False,
            "name": "The Octocat",
            "company": "@github",
            "public_repos": 8,
            "followers": 9000,
            "following": 9,
            "created_at": "2011-01-25T18:44:36Z",
            "updated_at": "2024-01-22T12:29:37Z",
        },
        {**_rate_headers(4999), "x-oauth-scopes": "admin:repo_hook", "x-accepted-oauth-scopes": ""},
    )


def delete_grant(request: SimRequest) -> SimResponse:
    basic = request.basic()
    if basic is None or not looks_valid(basic[1]):
        return unauthorized(request)
    return SimResponse(204)


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
    ),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=lambda request: json_response(
        500, {"message": "Server Error", "documentation_url": _DOCS, "status": "500"}
    ),
    not_found=lambda request: json_response(
        404, {"message": "Not Found", "documentation_url": _DOCS, "status": "404"}
    ),
    sample_credentials={
        "access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "token_type": "bearer",
    },
)
