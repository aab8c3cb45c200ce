"""Telegram's Bot API as documented: /bot<token>/getMe, setWebhook, deleteWebhook,
getWebhookInfo, sendMessage, and its {ok, error_code} errors."""

import itertools
import json
import re
import time
from typing import Any

from backend.connectors.providers.telegram.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
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


#: Each simulated bot's webhook, by bot id (as Telegram keeps one per bot).
WEBHOOKS: dict[str, dict[str, str]] = {}


def _params(request: SimRequest) -> dict[str, object]:
    """Bot API parameters arrive as a query string, form fields or JSON alike."""
    params: dict[str, object] = dict(request.query)
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = {}
        params.update(body if isinstance(body, dict) else {})
    else:
        params.update(request.form())
    return params


def _bot_id(request: SimRequest) -> str:
    return _token(request).split(":", 1)[0]


def set_webhook(request: SimRequest) -> SimResponse:
    params = _params(request)
    url = str(params.get("url") or "")
    secret = str(params.get("secret_token") or "")
    if url and not url.startswith("https://"):
        return _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        return _bad_request("secret token contains unallowed characters")
    if not url:
        WEBHOOKS.pop(_bot_id(request), None)
        return _ok("Webhook is already deleted")
    remember(WEBHOOKS, _bot_id(request), {"url": url, "secret_token": secret})
    return _ok("Webhook was set")


def delete_webhook(request: SimRequest) -> SimResponse:
    existed = WEBHOOKS.pop(_bot_id(request), None) is not None
    return _ok("Webhook was deleted" if existed else "Webhook is already deleted")


def webhook_info(request: SimRequest) -> SimResponse:
    hook = WEBHOOKS.get(_bot_id(request), {})
    return json_response(
        200,
        {
            "ok": True,
            "result": {
                "url": hook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": 0,
                "max_connections": 40,
            },
        },
    )


#: What test mode would have sent, by "<chat id>/<message id>", with the exact parameters.
SENT_MESSAGES: dict[str, dict[str, Any]] = {}
_MESSAGE_IDS = itertools.count(1)
_PARSE_MODES = ("MarkdownV2", "HTML", "Markdown")
_MARKUPS = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")


def _reply_markup(value: object) -> dict[str, Any] | None:
    """A reply_markup parameter: a JSON object, or JSON-serialized in a form or query."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, dict) and sum(kind in value for kind in _MARKUPS) == 1:
        return value
    return None


def send_message(request: SimRequest) -> SimResponse:
    """sendMessage (https://core.telegram.org/bots/api#sendmessage): the sent Message, or the
    Bot API's 400 descriptions for what it refuses."""
    params = _params(request)
    chat_id, text = params.get("chat_id"), params.get("text")
    if chat_id in (None, ""):
        return _bad_request("chat_id is empty")
    if not isinstance(text, str) or not text:
        return _bad_request("message text is empty")
    if len(text) > 4096:
        return _bad_request("message is too long")
    if "parse_mode" in params and params["parse_mode"] not in _PARSE_MODES:
        return _bad_request(f'unsupported parse_mode "{params["parse_mode"]}"')
    markup = _reply_markup(params["reply_markup"]) if "reply_markup" in params else None
    if "reply_markup" in params and markup is None:
        return _bad_request("can't parse reply keyboard markup JSON object")
    numeric = str(chat_id).lstrip("-").isdigit()
    chat: dict[str, Any] = (
        {"id": int(str(chat_id)), "type": "private", "first_name": "Test"}
        if numeric
        else {
            "id": -1001234567890,
            "type": "channel",
            "title": "Test",
            "username": str(chat_id)[1:],
        }
    )
    message: dict[str, Any] = {
        "message_id": next(_MESSAGE_IDS),
        "from": {
            "id": int(_bot_id(request)),
            "is_bot": True,
            "first_name": "Switchboard Test",
            "username": "switchboard_test_bot",
        },
        "chat": chat,
        "date": int(time.time()),
        "text": text,
    }
    # Only an inline keyboard stays attached to the sent message.
    if markup is not None and "inline_keyboard" in markup:
        message["reply_markup"] = markup
    remember(
        SENT_MESSAGES,
        f"{chat['id']}/{message['message_id']}",
        {"params": params, "message": message},
    )
    return json_response(200, {"ok": True, "result": message})


def _ok(description: str) -> SimResponse:
    return json_response(200, {"ok": True, "result": True, "description": description})


def _bad_request(description: str) -> SimResponse:
    return json_response(
        400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
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
    routes=(
        Route("GET", r"/bot[^/]*/getMe", get_me),
        Route("POST", r"/bot[^/]*/getMe", get_me),
        Route("POST", r"/bot[^/]*/setWebhook", set_webhook),
        Route("POST", r"/bot[^/]*/deleteWebhook", delete_webhook),
        Route("GET", r"/bot[^/]*/getWebhookInfo", webhook_info),
        Route("POST", r"/bot[^/]*/sendMessage", send_message),
    ),
    credential=credential_ok,
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={"bot_token": SPEC.credential_fields[0].example},
)
