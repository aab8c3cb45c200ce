"""Slack's Web API as documented: auth.test, auth.revoke, chat.postMessage, the
conversations.list / conversations.history / users.list pages, errors as 200 + ok:false."""

import base64
import itertools
import json
import random
import time
from typing import Any

from backend.connectors.providers._listing import bounded_limit, generated, page_after, seed_of
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


# -- lists (https://docs.slack.dev/apis/web-api/pagination) -------------------------------

#: How many objects each simulated workspace lists.
LIST_SIZES = {"channels": 24, "messages": 230, "users": 35}
_NEWEST = 1_764_000_000
_TOPICS = ("general", "random", "support", "engineering", "sales", "design", "ops", "news")


def _channel(rng: random.Random, index: int) -> dict[str, Any]:
    name = f"{_TOPICS[index % len(_TOPICS)]}-{index:02d}"
    created = _NEWEST - 400 * 86400 + index * 86400
    return {
        "id": f"C{rng.getrandbits(40):010X}",
        "name": name,
        "name_normalized": name,
        "created": created,
        "creator": "U0123ABCDEF",
        "is_channel": True,
        "is_group": False,
        "is_im": False,
        "is_mpim": False,
        "is_private": False,
        "is_archived": index % 11 == 10,
        "is_general": index == 0,
        "is_shared": False,
        "is_ext_shared": False,
        "is_org_shared": False,
        "is_pending_ext_shared": False,
        "is_member": True,
        "num_members": rng.randrange(2, 40),
        "pending_shared": [],
        "previous_names": [],
        "unlinked": 0,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": f"About {name}", "creator": "", "last_set": 0},
    }


def _message(rng: random.Random, index: int) -> dict[str, Any]:
    seconds = _NEWEST - index * 600 - rng.randrange(0, 300)
    return {
        "type": "message",
        "user": f"U{rng.randrange(0, LIST_SIZES['users']):010d}",
        "text": rng.choice(("Deploy is done", "Who has the notes?", "LGTM", "Lunch?")),
        "ts": f"{seconds}.{rng.randrange(0, 1_000_000):06d}",
    }


def _user(rng: random.Random, index: int) -> dict[str, Any]:
    name = f"member{index:02d}"
    return {
        "id": f"U{index:010d}",
        "team_id": "T0123ABCDEF",
        "name": name,
        "deleted": False,
        "real_name": name.title(),
        "tz": "Europe/Amsterdam",
        "is_bot": False,
        "updated": _NEWEST - index * 3600,
        "profile": {"real_name": name.title(), "display_name": name},
    }


def _workspace(request: SimRequest) -> str:
    return seed_of(_token(request) or "")


def conversations_list(request: SimRequest) -> SimResponse:
    records = generated(_workspace(request), "channels", LIST_SIZES["channels"], _channel)
    params = {**request.query, **request.form()}
    if params.get("exclude_archived") in ("true", "1"):
        records = [c for c in records if not c["is_archived"]]
    return _listing_answer(request, records, "channels", "id")


def conversations_history(request: SimRequest) -> SimResponse:
    """Messages newest first, within `oldest`/`latest` (exclusive unless `inclusive`)."""
    params = {**request.query, **request.form()}
    if not params.get("channel"):
        return json_response(200, {"ok": False, "error": "channel_not_found"})
    seed = _workspace(request) + params["channel"]
    records = generated(seed, "messages", LIST_SIZES["messages"], _message)
    inclusive = params.get("inclusive") in ("true", "1")
    try:
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else None
    except ValueError:
        return json_response(200, {"ok": False, "error": "invalid_ts_oldest"})
    kept = [
        m
        for m in records
        if (float(m["ts"]) >= oldest if inclusive else float(m["ts"]) > oldest)
        and (latest is None or (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest))
    ]
    return _listing_answer(request, kept, "messages", "ts")


def users_list(request: SimRequest) -> SimResponse:
    records = generated(_workspace(request), "users", LIST_SIZES["users"], _user)
    return _listing_answer(request, records, "members", "id")


def _listing_answer(
    request: SimRequest, records: list[dict[str, Any]], field: str, key: str
) -> SimResponse:
    """Cursor pagination (`limit`, default 100, at most 1000; `cursor`), the next cursor in
    `response_metadata.next_cursor`, "" on the last page."""
    params = {**request.query, **request.form()}
    cursor = params.get("cursor") or ""
    try:
        after = base64.b64decode(cursor, validate=True).decode() if cursor else None
    except ValueError:
        return json_response(200, {"ok": False, "error": "invalid_cursor"})
    limit = bounded_limit(params.get("limit"), 100, 1000)
    chunk, more = page_after(records, after, limit, key)
    next_cursor = base64.b64encode(str(chunk[-1][key]).encode()).decode() if more else ""
    body: dict[str, Any] = {"ok": True, field: chunk}
    if field == "messages":
        body.update(has_more=more, pin_count=0, channel_actions_ts=[], channel_actions_count=0)
    if field == "members":
        # users.list answers say when their member list was cached (Slack's published
        # description requires `cache_ts`, https://docs.slack.dev/reference/methods/users.list).
        body["cache_ts"] = int(time.time())
    body["response_metadata"] = {"next_cursor": next_cursor}
    return json_response(200, body)


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
        # Every Web API method takes GET or POST (https://docs.slack.dev/apis/web-api/).
        *(
            Route(method, path, handler)
            for path, handler in (
                (r"/conversations\.list", conversations_list),
                (r"/conversations\.history", conversations_history),
                (r"/users\.list", users_list),
            )
            for method in ("GET", "POST")
        ),
    ),
    credential=lambda request: looks_valid(_token(request), _TOKEN),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    sample_credentials={
        "access_token": "xoxb-1234567890-1234567890123-simulatedBotToken0000",
        "token_type": "bot",
    },
    # The channel the messages stream reads (config.channel), so test mode can sync it.
    sample_config={"channel": "C0123ABCDEF"},
)
