"""Slack requests for test mode: Events API callbacks, a slash command and a button click,
shaped like Slack's documented examples and signed like Slack signs them
(`X-Slack-Signature: v0=<hex HMAC of "v0:{ts}:{body}">` with `X-Slack-Request-Timestamp`).

Every request names the team the integration is connected to (`team_id`), so the
per-integration account check accepts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import msgspec

from backend.connectors.event_generators import (
    EventType,
    OutboundDelivery,
    SigningContext,
    SimulationContext,
    deep_merge,
    simulated_number,
)
from backend.connectors.webhook_schemes import hmac_digests, to_bytes

_EXAMPLE_TEAM = "T0123ABCDEF"  # the simulator's team (auth.test)
_APP_ID = "A0PNCHHK2"
_USER = "U2147483697"
_CHANNEL = "C024BE91L"
_MESSAGES = (
    "Live long and prospect.",
    "Deploy finished: checkout-service v2.14.0",
    "Can someone review the EUR rounding fix?",
)


class _Scene:
    def __init__(self, ctx: SimulationContext) -> None:
        self.team = ctx.account_id or _EXAMPLE_TEAM
        self.n = simulated_number(ctx)
        self.now = ctx.now
        # Slack's ts: seconds, then a per-channel sequence of six digits.
        self.ts = f"{int(ctx.now)}.{self.n % 1_000_000:06d}"
        self.text = _MESSAGES[ctx.sequence % len(_MESSAGES)]
        digest = hashlib.sha256(str(self.n).encode()).hexdigest()[:32]
        self.trigger_id = f"{int(ctx.now)}.{self.n % 10**10}.{digest}"


def _callback(scene: _Scene, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "one-long-verification-token",
        "team_id": scene.team,
        "api_app_id": _APP_ID,
        "event": event,
        "type": "event_callback",
        "authed_teams": [scene.team],
        "event_id": f"Ev{scene.n % 10**12:012d}",
        "event_time": int(scene.now),
    }


def _message(scene: _Scene) -> dict[str, Any]:
    return _callback(
        scene,
        {
            "type": "message",
            "channel": _CHANNEL,
            "user": _USER,
            "text": scene.text,
            "ts": scene.ts,
            "event_ts": scene.ts,
            "channel_type": "channel",
        },
    )


def _app_mention(scene: _Scene) -> dict[str, Any]:
    return _callback(
        scene,
        {
            "type": "app_mention",
            "user": _USER,
            "text": f"<@U0LAN0Z89> {scene.text}",
            "ts": scene.ts,
            "channel": _CHANNEL,
            "event_ts": scene.ts,
        },
    )


def _slash_command(scene: _Scene) -> dict[str, Any]:
    return {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "team_id": scene.team,
        "team_domain": "example",
        "channel_id": "C2147483705",
        "channel_name": "test",
        "user_id": _USER,
        "user_name": "Steve",
        "command": "/weather",
        "text": "94070",
        "response_url": f"https://hooks.slack.com/commands/{scene.team}/{scene.n % 10**8}/x",
        "trigger_id": scene.trigger_id,
        "api_app_id": _APP_ID,
    }


def _block_actions(scene: _Scene) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": _USER, "username": "Amy McGee", "name": "Amy McGee", "team_id": scene.team},
        "api_app_id": _APP_ID,
        "token": "Shh_its_a_seekrit",
        "container": {
            "type": "message",
            "message_ts": scene.ts,
            "channel_id": _CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": scene.trigger_id,
        "team": {"id": scene.team, "domain": "pocket-calculator"},
        "channel": {"id": _CHANNEL, "name": "general"},
        "response_url": f"https://hooks.slack.com/actions/{scene.team}/{scene.n % 10**8}/x",
        "actions": [
            {
                "action_id": "approve_request",
                "block_id": "=qXel",
                "text": {"type": "plain_text", "text": "Approve", "emoji": True},
                "value": "click_me_123",
                "type": "button",
                "action_ts": f"{scene.now:.6f}",
            }
        ],
    }


Shape = Callable[[_Scene], dict[str, Any]]


def _json_event(name: str, description: str, build: Shape) -> EventType:
    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        payload = deep_merge(build(_Scene(ctx)), ctx.overrides)
        return OutboundDelivery(
            event_type=name,
            provider_event_id=str(payload["event_id"]),
            body=msgspec.json.encode(payload),
            headers={"content-type": "application/json", "user-agent": _USER_AGENT},
            occurred_at=ctx.now,
        )

    return EventType(name, description, delivery)


def _form_event(name: str, description: str, build: Shape, *, wrapped: bool) -> EventType:
    """Slash commands post their fields; interactivity posts JSON in a `payload` field."""

    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        fields = deep_merge(build(_Scene(ctx)), ctx.overrides)
        form = {"payload": msgspec.json.encode(fields).decode()} if wrapped else fields
        return OutboundDelivery(
            event_type=name,
            provider_event_id=str(fields["trigger_id"]),
            body=urlencode({k: str(v) for k, v in form.items()}).encode(),
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "user-agent": _USER_AGENT,
            },
            occurred_at=ctx.now,
        )

    return EventType(name, description, delivery)


_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"

EVENT_TYPES: tuple[EventType, ...] = (
    _json_event("message", "A message was posted in a channel.", _message),
    _json_event("app_mention", "Someone mentioned the app.", _app_mention),
    _form_event("slash_command", "Someone ran /weather.", _slash_command, wrapped=False),
    _form_event("block_actions", "Someone clicked a button.", _block_actions, wrapped=True),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """`X-Slack-Signature: v0=<hex>` over "v0:{ts}:{body}" and the timestamp it signs."""
    if not ctx.signing_secret:
        return {}
    timestamp = int(ctx.timestamp)
    message = to_bytes(f"v0:{timestamp}:") + delivery.body
    digest = hmac_digests([to_bytes(ctx.signing_secret)], message, hashlib.sha256)[0]
    return {
        "x-slack-request-timestamp": str(timestamp),
        "x-slack-signature": "v0=" + digest.hex(),
    }
