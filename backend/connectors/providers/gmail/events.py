"""Simulated Gmail push notifications: a Pub/Sub push request carrying Gmail's change
notification, authenticated by an RS256 OIDC token of the (simulated) Google.

The token is signed with the Gmail simulator's key, which the handler trusts for test-mode
integrations only; its audience is the integration's signing secret and its email the push
service account the integration is configured with, exactly the claims a live push carries.
`overrides` merge into the Pub/Sub push body; an object at `message.data` merges into the
Gmail notification inside it (`{"message": {"data": {"historyId": "1"}}}`), which is then
base64-encoded as Pub/Sub sends it.
Docs: https://developers.google.com/workspace/gmail/api/guides/push,
https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import msgspec
from joserfc import jwt

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    event_time,
    simulated_number,
)
from backend.connectors.providers.gmail import simulator

_MAILBOX = "test.user@example.com"  # the simulator's users.getProfile answer
_SUBSCRIPTION = "projects/switchboard-simulator/subscriptions/gmail-push"
_TOKEN_LIFETIME = 3600  # Pub/Sub's push tokens live an hour
_SERVICE_ACCOUNT_ID = "112233445566778899000"  # the push service account's numeric id


def _iso(seconds: float) -> str:
    moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _history(ctx: SimulationContext) -> OutboundDelivery:
    notification: dict[str, Any] = {
        "emailAddress": ctx.account_id or _MAILBOX,
        "historyId": str(simulated_number(ctx)),
    }
    message_id = str(simulated_number(ctx))
    published = _iso(event_time(ctx))
    push: dict[str, Any] = {
        "message": {
            "data": notification,
            "messageId": message_id,
            "message_id": message_id,
            "publishTime": published,
            "publish_time": published,
        },
        "subscription": _SUBSCRIPTION,
    }
    push = deep_merge(push, ctx.overrides)
    message = push["message"]
    if isinstance(message.get("data"), dict):
        message["data"] = base64.b64encode(msgspec.json.encode(message["data"])).decode()
    return OutboundDelivery(
        event_type="gmail.history",
        provider_event_id=str(message.get("messageId")),
        body=msgspec.json.encode(push),
        headers={
            "content-type": "application/json",
            "user-agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
        },
        occurred_at=event_time(ctx),
    )


EVENT_TYPES = (
    EventType(
        "gmail.history",
        "The mailbox changed (messages added, deleted or relabelled) since the history id; "
        "read users.history.list from the previous one to learn what.",
        _history,
    ),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """`Authorization: Bearer <OIDC token>` minted at the signed time for the audience
    (the signing secret) and the configured push service account."""
    email = ctx.config.get("service_account_email")
    issued = int(ctx.timestamp)
    claims = {
        "iss": "https://accounts.google.com",
        "aud": ctx.signing_secret or "",
        "azp": _SERVICE_ACCOUNT_ID,
        "sub": _SERVICE_ACCOUNT_ID,
        "email": email if isinstance(email, str) and email else simulator.PUSH_SERVICE_ACCOUNT,
        "email_verified": True,
        "iat": issued,
        "exp": issued + _TOKEN_LIFETIME,
    }
    key = simulator.signing_key()
    header = {"alg": "RS256", "kid": key.kid, "typ": "JWT"}
    return {"authorization": f"Bearer {jwt.encode(header, claims, key)}"}
