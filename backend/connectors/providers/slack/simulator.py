"""Slack's Web API as documented: auth.test, auth.revoke and chat.postMessage, errors as
200 + ok:false."""

import itertools
import json
import time
from typing import Any

from backend.connectors.providers.slack.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
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


#: What test mode would have posted, by "channel/ts" (what a tenant's test shows as sent).
SENT_MESSAGES: dict[str, dict[str, Any]] = {}
_SEQUENCE = itertools.count(1)


def _post_params(request: SimRequest) -> dict[str, Any]:
    """chat.postMessage takes form fields (blocks as a JSON string) or a JSON body."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}
    params: dict[str, Any] = dict(request.form())
    if isinstance(params.get("blocks"), str):
        try:
            params["blocks"] = json.loads(params["blocks"])
        except ValueError:
            params["blocks"] = None
    return params


def post_message(request: SimRequest) -> SimResponse:
    """chat.postMessage (https://docs.slack.dev/reference/methods/chat.postMessage): its
    documented errors for a missing channel, no content or bad blocks, else the message."""
    params = _post_params(request)
    channel = str(params.get("channel") or "")
    blocks = params.get("blocks")
    if not channel:
        return json_response(200, {"ok": False, "error": "channel_not_found"})
    if "blocks" in params and not (isinstance(blocks, list) and blocks):
        return json_response(200, {"ok": False, "error": "invalid_blocks"})
    if not params.get("text") and not blocks:
        return json_response(200, {"ok": False, "error": "no_text"})
    ts = f"{int(time.time())}.{next(_SEQUENCE) % 1_000_000:06d}"
    message: dict[str, Any] = {
        "type": "message",
        "subtype": "bot_message",
        "text": str(params.get("text") or ""),
        "ts": ts,
        "bot_id": "B0123ABCDEF",
        "team": "T0123ABCDEF",
    }
    if blocks:
        message["blocks"] = blocks
    if params.get("thread_ts"):
        message["thread_ts"] = str(params["thread_ts"])
    remember(SENT_MESSAGES, f"{channel}/{ts}", {"channel": channel, **message})
    return json_response(200, {"ok": True, "channel": channel, "ts": ts, "message": message})


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
        Route("POST", r"/chat\.postMessage", post_message),
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
