"""Telegram's Bot API as documented: /bot<token>/getMe, and its {ok, error_code} errors."""

import re

from backend.connectors.providers.telegram.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
)

_PATTERN = SPEC.credential_fields[0].pattern
_PATH = re.compile(r"/bot([^/]*)/(\w+)")


def _token(request: SimRequest) -> str:
    match = _PATH.fullmatch(request.path)
    return match.group(1) if match else ""


def get_me(request: SimRequest) -> SimResponse:
    bot_id = int(_token(request).split(":", 1)[0])
    return json_response(
        200,
        {
            "ok": True,
            "result": {
                "id": bot_id,
                "is_bot": True,
                "first_name": "Switchboard Test",
                "username": "switchboard_test_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            },
        },
    )


def credential_ok(request: SimRequest) -> bool:
    return looks_valid(_token(request), _PATTERN)


def unauthorized(request: SimRequest) -> SimResponse:
    token = _token(request)
    if (
        token
        and "invalid" not in token
        and "revoked" not in token
        and not re.fullmatch(_PATTERN, token)
    ):
        # Telegram cannot even route a malformed token to a bot.
        return json_response(404, {"ok": False, "error_code": 404, "description": "Not Found"})
    return json_response(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    return json_response(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        },
        {"Retry-After": str(seconds)},
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(
        500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}
    )


def not_found(request: SimRequest) -> SimResponse:
    return json_response(404, {"ok": False, "error_code": 404, "description": "Not Found"})


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(Route("GET", r"/bot[^/]*/getMe", get_me), Route("POST", r"/bot[^/]*/getMe", get_me)),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={"bot_token": SPEC.credential_fields[0].example},
)
