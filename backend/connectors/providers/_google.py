"""What Gmail, Google Calendar and Google Drive share: one OAuth server, one error table,
one simulated API surface, and the push channels Calendar and Drive watch.

The one home of Google code: the three provider folders import it and state only what
differs between them; nothing Google-specific lives outside `providers/`.
Docs: https://developers.google.com/identity/protocols/oauth2/web-server
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import secrets
import time
import uuid
from email.message import Message
from email.utils import formatdate
from typing import Any

import httpx

from backend.connectors.base import (
    Adapter,
    NormalizedEvent,
    ProviderError,
    Reply,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRegistration,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
    json_object,
)
from backend.connectors.event_generators import (
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    event_time,
    simulated_number,
)
from backend.connectors.simulator import (
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
)
from backend.connectors.spec import ErrorRule, OAuthSpec
from backend.connectors.webhook_normalize import from_http_date
from backend.connectors.webhook_schemes import (
    TOLERANCE_SECONDS,
    constant_time_equals,
    equals_any_secret,
    header,
    parse_int,
    require_header,
)
from backend.lib.vocab import FailureKind

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
OAUTH_DOCS = "https://developers.google.com/identity/protocols/oauth2/web-server"
SCOPE_PREFIX = "https://www.googleapis.com/auth/"

# A refresh token comes only with access_type=offline, and only on first consent unless
# prompt=consent; include_granted_scopes=true enables incremental consent.
EXTRA_AUTHORIZE_PARAMS = {
    "access_type": "offline",
    "prompt": "consent",
    "include_granted_scopes": "true",
}

# A 403 whose reason is a quota, not a permission, means back off (every Google API answers
# {"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}):
# https://developers.google.com/workspace/calendar/api/guides/errors#403_rate_limit_exceeded
# https://developers.google.com/workspace/drive/api/guides/handle-errors
# https://developers.google.com/workspace/gmail/api/guides/handle-errors
ERRORS = (
    ErrorRule(
        kind="rate_limit",
        status=(403,),
        body_path="error.errors.0.reason",
        body_equals=(
            "rateLimitExceeded",
            "userRateLimitExceeded",
            "quotaExceeded",
            "dailyLimitExceeded",
        ),
    ),
)


def google_oauth(default_scopes: tuple[str, ...], optional_scopes: dict[str, str]) -> OAuthSpec:
    return OAuthSpec(
        authorize_url=AUTHORIZE_URL,
        token_url=TOKEN_URL,
        revoke_url=REVOKE_URL,
        docs_url=OAUTH_DOCS,
        default_scopes=default_scopes,
        optional_scopes=optional_scopes,
        pkce=True,
        refresh_tokens=True,
        rotating_refresh_tokens=False,
        extra_authorize_params=EXTRA_AUTHORIZE_PARAMS,
        token_endpoint_auth_method="client_secret_post",
    )


class GoogleAdapter(Adapter):
    """Revocation at the shared OAuth server: a form POST to the operator's revoke URL, not
    a call on the API base, so no spec field can say it."""

    async def revoke(self) -> bool:
        # Revoking the refresh token ends the whole grant; an access token alone also works.
        token = self.ctx.credentials.get("refresh_token") or self.ctx.credentials.get(
            "access_token"
        )
        if not token:
            return False
        url = self.ctx.operator.revoke_url or REVOKE_URL
        try:
            response = await self.ctx.http.post(url, data={"token": token})
        except httpx.HTTPError as exc:
            raise ProviderError(FailureKind.NETWORK, "could not reach the provider") from exc
        # 400 invalid_token: already revoked or expired, which is what we wanted.
        if response.status_code == 400 and b"invalid_token" in response.content:
            return True
        error = self.classify(response)
        if error is not None:
            raise error
        return True


# -- simulator pieces ---------------------------------------------------------------------


def bearer_ok(request: SimRequest) -> bool:
    return looks_valid(request.bearer())


def unauthorized(request: SimRequest) -> SimResponse:
    return json_response(
        401,
        {
            "error": {
                "code": 401,
                "message": "Request had invalid authentication credentials. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
                "errors": [
                    {
                        "message": "Invalid Credentials",
                        "domain": "global",
                        "reason": "authError",
                        "location": "Authorization",
                        "locationType": "header",
                    }
                ],
                "status": "UNAUTHENTICATED",
            }
        },
        {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
    )


def rate_limited(service: str, retry_after: int) -> SimResponse:
    return json_response(
        429,
        {
            "error": {
                "code": 429,
                "message": f"Quota exceeded for quota metric 'Queries' and limit 'Queries per "
                f"minute per user' of service '{service}' for consumer 'project_number:0'.",
                "errors": [
                    {"message": "Quota exceeded", "domain": "global", "reason": "rateLimitExceeded"}
                ],
                "status": "RESOURCE_EXHAUSTED",
            }
        },
        {"Retry-After": str(retry_after)},
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(
        500,
        {
            "error": {
                "code": 500,
                "message": "Internal error encountered.",
                "errors": [
                    {"message": "Backend Error", "domain": "global", "reason": "backendError"}
                ],
                "status": "INTERNAL",
            }
        },
    )


def revoke(request: SimRequest) -> SimResponse:
    """POST https://oauth2.googleapis.com/revoke (form token=...)."""
    token = request.form().get("token") or request.query.get("token")
    if not looks_valid(token):
        return json_response(
            400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
        )
    return SimResponse(200, b"{}", {"Content-Type": "application/json"})


SAMPLE_CREDENTIALS = {
    "access_token": "ya29.a0AfB_simulated_access_token",
    "refresh_token": "1//0g_simulated_refresh_token",
    "token_type": "Bearer",
}


# -- push channels (Calendar events.watch, Drive changes.watch) ----------------------------


def verify_channel(request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
    """Google push notifications carry no signature: the channel token we chose at watch
    time must come back in `X-Goog-Channel-Token`, on the channel we expect, unexpired.

    The first message on a channel (`sync`) only confirms the watch: acknowledged, not kept.
    """
    token = require_header(request, "X-Goog-Channel-Token")
    if not equals_any_secret(token, secrets):
        raise WebhookVerificationError("X-Goog-Channel-Token mismatch")
    channel_id = require_header(request, "X-Goog-Channel-ID")
    expected_channel = secrets.config.get("channel_id")
    if expected_channel and not (
        isinstance(expected_channel, str) and constant_time_equals(channel_id, expected_channel)
    ):
        raise WebhookVerificationError("unknown X-Goog-Channel-ID")
    raw_expiration = header(request, "X-Goog-Channel-Expiration")
    if raw_expiration is not None:
        expiration = from_http_date(raw_expiration)
        if expiration is None:
            raise WebhookVerificationError("malformed X-Goog-Channel-Expiration header")
        if expiration.timestamp() < request.received_at - TOLERANCE_SECONDS:
            raise WebhookVerificationError("the channel has expired")
    state = require_header(request, "X-Goog-Resource-State")
    number = parse_int(require_header(request, "X-Goog-Message-Number"))
    if number is None:
        raise WebhookVerificationError("malformed X-Goog-Message-Number header")
    if state == "sync":
        return VerifiedDelivery(None, "sync", store=False, reply=Reply(200, b""))
    return VerifiedDelivery(f"{channel_id}:{number}", state)


CHANNEL_HEADERS = (
    "x-goog-channel-id",
    "x-goog-channel-expiration",
    "x-goog-resource-id",
    "x-goog-resource-uri",
    "x-goog-resource-state",
    "x-goog-message-number",
    "x-goog-changed",
    "content-type",
)


def channel_event(headers: dict[str, str]) -> NormalizedEvent:
    """A Calendar / Drive change notification: everything is in the headers, the body is
    empty; the consumer re-reads the resource (or the changes feed) to learn what changed."""
    state = headers.get("x-goog-resource-state") or "unknown"
    number = headers.get("x-goog-message-number")
    changed = headers.get("x-goog-changed")
    resource_uri = headers.get("x-goog-resource-uri")
    resource_id = headers.get("x-goog-resource-id")
    data: dict[str, Any] = {
        "channel_id": headers.get("x-goog-channel-id"),
        "resource_id": resource_id,
        "resource_uri": resource_uri,
        "resource_state": state,
        "message_number": int(number) if number and number.isascii() and number.isdigit() else None,
        "changed": [c.strip() for c in changed.split(",") if c.strip()] if changed else [],
        "channel_expiration": headers.get("x-goog-channel-expiration"),
    }
    return NormalizedEvent(state, resource_uri or resource_id, None, data)


class GoogleChannelWebhook(WebhookHandler):
    """Calendar and Drive push notifications: no signature, the channel token set at watch
    time is the shared secret (see `verify_channel`); the body is empty."""

    stored_headers = CHANNEL_HEADERS

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        return verify_channel(request, secrets)

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        return channel_event(headers)


# -- opening and closing watches (the adapters' register_webhook / unregister_webhook) -----

# Ask for a week; Google may grant less and says so in `expiration`.
WATCH_TTL_SECONDS = 7 * 24 * 3600


def expiration_at(body: dict[str, Any]) -> dt.datetime:
    """A watch's `expiration`: epoch milliseconds as an int64 string. An answer without a
    readable one is taken to last the week we asked for (what Google grants by default)."""
    raw = body.get("expiration")
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 15:
        return dt.datetime.fromtimestamp(int(raw) / 1000, tz=dt.UTC)
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=WATCH_TTL_SECONDS)


def channel_provider_id(channel_id: str, resource_id: str) -> str:
    """channels.stop needs both ids: kept together as `channel_id:resource_id` (our channel
    ids are UUIDs, so the first colon separates them)."""
    return f"{channel_id}:{resource_id}"


class ChannelWatchAdapter(GoogleAdapter):
    """Calendar events.watch and Drive changes.watch: a channel per integration, its token
    the integration's signing secret (checked on every notification by `verify_channel`).

    Renewing opens a new channel before stopping the old one, so no change falls between
    them; Google cannot extend a channel in place.
    Docs: https://developers.google.com/workspace/calendar/api/guides/push
    """

    async def watch_target(self) -> tuple[str, dict[str, str]]:
        """The watch call's path and query parameters."""
        raise NotImplementedError

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        if not signing_secret:
            raise ProviderError(FailureKind.MISCONFIGURED, "a channel token is required")
        path, params = await self.watch_target()
        channel = {
            "id": str(uuid.uuid4()),
            "type": "web_hook",
            "address": url,
            "token": signing_secret,
            "params": {"ttl": str(WATCH_TTL_SECONDS)},
        }
        body = json_object(await self.call("POST", path, params=params, json=channel))
        provider_id = channel_provider_id(
            required_str(body, "id"), required_str(body, "resourceId")
        )
        if existing_id:
            # Should the stop fail, the old channel lapses on its own at its expiration.
            with contextlib.suppress(ProviderError):
                await self.unregister_webhook(existing_id)
        return WebhookRegistration(
            provider_id=provider_id,
            description=f"watch channel {body['id']}",
            expires_at=expiration_at(body),
        )

    async def unregister_webhook(self, provider_id: str) -> None:
        channel_id, _, resource_id = provider_id.partition(":")
        # 404: the channel already expired or was stopped, which is what we wanted.
        await self.call_if_exists(
            "POST", "channels/stop", json={"id": channel_id, "resourceId": resource_id}
        )


# -- simulated watches (test mode) ---------------------------------------------------------


#: Open simulated channels by id (their resource id), so a stop can be checked.
CHANNELS: dict[str, str] = {}


def simulated_expiration() -> str:
    return str(int((time.time() + WATCH_TTL_SECONDS) * 1000))


def watch_channel(request: SimRequest) -> SimResponse:
    """POST …/watch with a Channel body: the Channel back, with its resource and expiration."""
    body = request_json(request)
    if not body or body.get("type") not in ("web_hook", "webhook"):
        return invalid_argument("Invalid channel type.")
    channel_id, address = body.get("id"), body.get("address")
    if not isinstance(channel_id, str) or not channel_id or not isinstance(address, str):
        return invalid_argument("Required channel id and address.")
    if not address.startswith("https://"):
        return invalid_argument(f"WebHook callback must be HTTPS: {address}")
    resource_id = hashlib.sha256(request.path.encode()).hexdigest()[:27]
    channel = {
        "kind": "api#channel",
        "id": channel_id,
        "resourceId": resource_id,
        "resourceUri": request.path,
        "expiration": simulated_expiration(),
    }
    if isinstance(body.get("token"), str):
        channel["token"] = body["token"]
    remember(CHANNELS, channel_id, resource_id)
    return json_response(200, channel)


def stop_channel(request: SimRequest) -> SimResponse:
    """POST channels/stop: nothing to answer; 404 for a channel that is not open."""
    body = request_json(request)
    if not body or not isinstance(body.get("id"), str):
        return invalid_argument("Required parameter: id")
    if CHANNELS.get(body["id"]) != body.get("resourceId"):
        return api_error(404, f"Channel '{body['id']}' not found", "notFound", "NOT_FOUND")
    CHANNELS.pop(body["id"], None)
    return SimResponse(204, b"", {})


# -- simulated push notifications (test mode) ----------------------------------------------

# A watch channel lives at most 7 days (Calendar's default; Drive allows up to a week).
CHANNEL_LIFETIME_SECONDS = 7 * 24 * 3600


def channel_delivery(
    ctx: SimulationContext,
    state: str,
    resource_uri: str,
    changed: str | None = None,
) -> OutboundDelivery:
    """One push notification of a watch channel, as Google sends it: an empty body and the
    X-Goog-* headers (docs: developers.google.com/workspace/calendar/api/guides/push).

    The channel is the integration's own (`config.channel_id` when a watch is open, else a
    stable id derived from the integration), so the handler's channel check holds; message
    numbers increase from call to call. `overrides` replace header values by name.
    """
    channel_id = ctx.config.get("channel_id")
    if not isinstance(channel_id, str) or not channel_id:
        channel_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"switchboard:{ctx.integration_id}"))
    resource_id = ctx.config.get("resource_id")
    if not isinstance(resource_id, str) or not resource_id:
        resource_id = hashlib.sha256(channel_id.encode()).hexdigest()[:27]
    number = simulated_number(ctx)
    headers = {
        "x-goog-channel-id": channel_id,
        "x-goog-channel-expiration": formatdate(ctx.now + CHANNEL_LIFETIME_SECONDS, usegmt=True),
        "x-goog-resource-id": resource_id,
        "x-goog-resource-uri": resource_uri,
        "x-goog-resource-state": state,
        "x-goog-message-number": str(number),
    }
    if changed:
        headers["x-goog-changed"] = changed
    merged = deep_merge(headers, ctx.overrides)
    return OutboundDelivery(
        event_type=str(merged["x-goog-resource-state"]),
        provider_event_id=f"{merged['x-goog-channel-id']}:{merged['x-goog-message-number']}",
        body=b"",
        headers={name.lower(): str(value) for name, value in merged.items()},
        occurred_at=event_time(ctx),
    )


def sign_channel(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """The channel token chosen at watch time comes back on every notification (no
    signature); without one Google sends none."""
    return {"x-goog-channel-token": ctx.signing_secret} if ctx.signing_secret else {}


# -- outbound actions (Gmail send_email, Calendar events, Drive uploads) -------------------

#: A JSON Schema for one line of header text: a CR or LF would start a new header (injection).
#: Stated as `not pattern` because `$` in Python's `re` also matches before a final newline.
SINGLE_LINE: dict[str, Any] = {"type": "string", "not": {"pattern": "[\\r\\n]"}}
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: An email address as Google takes it: one `local@domain`, no display name, no list; ASCII
#: (the WHATWG HTML form pattern: an internationalized domain goes in its xn-- form).
EMAIL_ADDRESS: dict[str, Any] = {
    "type": "string",
    "format": "email",
    "pattern": f"^[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_LABEL}(?:\\.{_LABEL})+$",
    "maxLength": 254,
}
#: A MIME type (`type/subtype`), as Gmail attachments and Drive uploads name their content.
MIME_TYPE: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
    "maxLength": 255,
}


def base64_content(max_decoded_bytes: int) -> dict[str, Any]:
    """Standard base64 (RFC 4648 section 4, padded) of at most `max_decoded_bytes` bytes."""
    return {
        "type": "string",
        "contentEncoding": "base64",
        "pattern": "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
        "maxLength": 4 * -(-max_decoded_bytes // 3),
    }


def required_str(body: dict[str, Any], name: str) -> str:
    """A field the documented answer always holds (an id, a link), or a PROVIDER_DOWN error."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ProviderError(
            FailureKind.PROVIDER_DOWN, f"the provider's answer has no {name}", status_code=200
        )
    return value


def items(body: Any, key: str) -> list[dict[str, Any]]:
    """The objects in a list answer's `key` array (messages, history, files, changes);
    an absent array is an empty page, a malformed entry is skipped."""
    found = body.get(key) if isinstance(body, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def rfc3339(moment: dt.datetime) -> str:
    """A UTC time as Google's query parameters and search terms take it (a naive one is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> dt.datetime:
    """A time Google wrote (or a client sent), aware; ValueError when it is none."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def api_error(status: int, message: str, reason: str, api_status: str) -> SimResponse:
    """Google's error body for a refused call (400 invalid argument, 404 not found)."""
    return json_response(
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
                "status": api_status,
            }
        },
    )


def invalid_argument(message: str) -> SimResponse:
    return api_error(400, message, "invalidArgument", "INVALID_ARGUMENT")


def request_json(request: SimRequest) -> dict[str, Any] | None:
    """A simulated call's JSON object body, or None when it is not one."""
    try:
        body = json.loads(request.body)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


# -- multipart/related uploads (Drive files, Gmail messages on the /upload URI) ---------------


def multipart_related(meta: dict[str, Any], content: bytes, content_type: str) -> tuple[bytes, str]:
    """Google's multipart upload body: the JSON metadata part, then the media part; returns
    the body and its Content-Type. The boundary is random and checked absent from the media.
    Docs: https://developers.google.com/workspace/drive/api/guides/manage-uploads#multipart"""
    boundary = secrets.token_hex(16)
    while boundary.encode() in content:
        boundary = secrets.token_hex(16)
    body = b"".join(
        (
            f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n".encode(),
            json.dumps(meta).encode(),
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode(),
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        )
    )
    return body, f"multipart/related; boundary={boundary}"


def split_multipart_related(request: SimRequest) -> tuple[dict[str, Any], str, bytes] | SimResponse:
    """A simulated upload's metadata, media type and exact media bytes (the parts are split
    at the boundary, never re-parsed, so binary and message/rfc822 media stay as sent); or
    Google's 400 for a body that is not metadata + media."""
    header = Message()
    header["Content-Type"] = request.headers.get("content-type", "")
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/related" or not isinstance(boundary, str):
        return invalid_argument("Bad content type. Please use multipart.")
    sections = (b"\r\n" + request.body).split(b"\r\n--" + boundary.encode())
    parts = [section.removeprefix(b"\r\n") for section in sections[1:-1]]
    if len(parts) != 2 or not sections[-1].startswith(b"--"):
        return invalid_argument(f"Invalid multipart request with {len(parts)} mime parts.")
    (meta_headers, _, meta_bytes), (media_headers, _, media) = (
        part.partition(b"\r\n\r\n") for part in parts
    )
    try:
        meta = json.loads(meta_bytes)
    except ValueError:
        meta = None
    if b"application/json" not in meta_headers.lower() or not isinstance(meta, dict):
        return invalid_argument("Parse Error")
    media_type = next(
        (
            line.split(b":", 1)[1].strip().decode("latin-1")
            for line in media_headers.split(b"\r\n")
            if line.lower().startswith(b"content-type:")
        ),
        "application/octet-stream",
    )
    return meta, media_type, media
