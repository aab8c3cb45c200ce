"""Gmail's API as documented: users.getProfile and users.messages.send (what test mode would
have sent is kept in SENT_MESSAGES), plus Google's token revocation; and, for push, the
token-signing keys of a simulated Google (the trust root of test mode only). For syncs, a
generated mailbox (`mailbox.py`): messages.list, messages.get, history.list and labels.list.

The simulator's RSA key is public by design (`simulator_key.json` beside this file): every
api process must sign and verify with the same key, and it proves nothing more than that a
delivery came from someone who knows the integration's audience and push service account.
The Gmail handler trusts it only for test-mode integrations (`WebhookSecrets.test_mode`),
never for live ones, which trust Google's published keys alone.
"""

import base64
import binascii
import email
import functools
import json
import secrets
from email import policy
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey

from backend.connectors.providers import _google
from backend.connectors.providers.gmail import mailbox
from backend.connectors.providers.gmail.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    remember,
)

#: What test mode would have sent, by message id: the parsed message, its thread, its raw bytes.
SENT_MESSAGES: dict[str, dict[str, Any]] = {}


def profile(request: SimRequest) -> SimResponse:
    return json_response(
        200,
        {
            "emailAddress": "test.user@example.com",
            "messagesTotal": mailbox.SIZE,
            "threadsTotal": mailbox.THREADS,
            "historyId": str(mailbox.HISTORY_ID),
        },
    )


def send_message(request: SimRequest) -> SimResponse:
    """POST users/me/messages/send: `raw` is the base64url RFC 5322 message."""
    body = _google.request_json(request)
    raw = body.get("raw") if body else None
    if not body or not isinstance(raw, str) or not raw:
        return _google.invalid_argument(
            "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
        )
    try:
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        return _google.invalid_argument("Invalid value for ByteString: " + raw[:40])
    return _sent(body, data)


def upload_message(request: SimRequest) -> SimResponse:
    """POST /upload/.../messages/send?uploadType=multipart: the JSON metadata (threadId),
    then the message as message/rfc822 media."""
    if request.query.get("uploadType") != "multipart":
        return _google.invalid_argument("Invalid upload type")
    upload = _google.split_multipart_related(request)
    if isinstance(upload, SimResponse):
        return upload
    meta, media_type, data = upload
    if not media_type.startswith("message/"):
        return _google.invalid_argument(f"Media type '{media_type}' is not supported.")
    return _sent(meta, data)


def _sent(meta: dict[str, Any], data: bytes) -> SimResponse:
    """Gmail needs a recipient and answers the new message's id, thread and SENT label."""
    message = email.message_from_bytes(data, policy=policy.default)
    if not any(message.get(h) for h in ("To", "Cc", "Bcc")):
        return _google.invalid_argument("Recipient address required")
    message_id = secrets.token_hex(8)
    thread_id = meta.get("threadId")
    thread = thread_id if isinstance(thread_id, str) and thread_id else message_id
    remember(SENT_MESSAGES, message_id, {"thread_id": thread, "message": message, "raw": data})
    return json_response(200, {"id": message_id, "threadId": thread, "labelIds": ["SENT"]})


#: The push service account a test-mode integration is configured with (Pub/Sub push auth).
PUSH_SERVICE_ACCOUNT = "gmail-push@switchboard-simulator.iam.gserviceaccount.com"
_KEY_FILE = Path(__file__).with_name("simulator_key.json")


def watch(request: SimRequest) -> SimResponse:
    """POST users/me/watch: the mailbox's current historyId and when the watch lapses."""
    body = _google.request_json(request)
    topic = body.get("topicName") if body else None
    if not isinstance(topic, str) or not topic.startswith("projects/"):
        return _google.invalid_argument("Invalid topicName does not match projects/*/topics/*")
    return json_response(
        200, {"historyId": str(mailbox.HISTORY_ID), "expiration": _google.simulated_expiration()}
    )


def stop(request: SimRequest) -> SimResponse:
    """POST users/me/stop: notifications end; an empty answer."""
    return SimResponse(204, b"", {})


@functools.cache
def signing_key() -> RSAKey:
    """The simulated Google's private token-signing key (RS256, with its kid)."""
    return RSAKey.import_key(json.loads(_KEY_FILE.read_text()))


@functools.cache
def public_keys() -> KeySet:
    """The simulated Google's JWKS: what https://www.googleapis.com/oauth2/v3/certs is to
    live push tokens."""
    return KeySet.import_key_set({"keys": [signing_key().as_dict(private=False)]})


def certs(request: SimRequest) -> SimResponse:
    """GET /oauth2/v3/certs, Google's JWKS document, with its Cache-Control."""
    return json_response(
        200, public_keys().as_dict(private=False), {"Cache-Control": "public, max-age=21600"}
    )


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/gmail/v1/users/me/profile", profile),
        Route("GET", r"/gmail/v1/users/me/messages", mailbox.list_messages),
        Route("GET", r"/gmail/v1/users/me/messages/[^/]+", mailbox.get_message),
        Route("GET", r"/gmail/v1/users/me/history", mailbox.list_history),
        Route("GET", r"/gmail/v1/users/me/labels", mailbox.list_labels),
        Route("POST", r"/gmail/v1/users/me/messages/send", send_message),
        Route("POST", r"/gmail/v1/users/me/watch", watch),
        Route("POST", r"/gmail/v1/users/me/stop", stop),
        Route("POST", r"/upload/gmail/v1/users/me/messages/send", upload_message),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
        Route("GET", r"/oauth2/v3/certs", certs, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited("gmail.googleapis.com", seconds),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
    sample_config={"service_account_email": PUSH_SERVICE_ACCOUNT},
)
