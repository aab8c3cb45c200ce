"""Slack's Web API as documented: auth.test and auth.revoke, errors as 200 + ok:false."""

from backend.connectors.providers.slack.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
)

_TOKEN = r"xox[abpe]-[A-Za-z0-9-]+"


def _token(request: SimRequest) -> str | None:
    # Slack accepts the token as a bearer header or a `token` form field.
    return request.bearer() or request.form().get("token")


def auth_test(request: SimRequest) -> SimResponse:
    body = {
        "ok": True,
        "url": "https://switchboard-test.slack.com/",
        "team": "Switchboard Test",
        "user": "switchboard",
        "team_id": "T0123ABCDEF",
        "user_id": "U0123ABCDEF",
        "is_enterprise_install": False,
    }
    if (_token(request) or "").startswith("xoxb-"):
        body["bot_id"] = "B0123ABCDEF"
    return json_response(200, body, {"X-OAuth-Scopes": "channels:read,channels:history"})


def auth_revoke(request: SimRequest) -> SimResponse:
    return json_response(200, {"ok": True, "revoked": True})


def unauthorized(request: SimRequest) -> SimResponse:
    # Slack answers HTTP 200 even for a bad token.
    token = _token(request)
    error = "token_revoked" if token and "revoked" in token else "invalid_auth"
    if not token:
        error = "not_authed"
    return json_response(200, {"ok": False, "error": error})


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    return json_response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(seconds)})


def server_error(request: SimRequest) -> SimResponse:
    return json_response(500, {"ok": False, "error": "internal_error"})


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("POST", r"/auth\.test", auth_test),
        Route("POST", r"/auth\.revoke", auth_revoke),
    ),
    credential=lambda request: looks_valid(_token(request), _TOKEN),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    sample_credentials={
        "access_token": "xoxb-1234567890-1234567890123-simulatedBotToken0000",
        "token_type": "bot",
    },
)
