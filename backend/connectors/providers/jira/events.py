"""Jira webhooks for test mode, shaped like Atlassian's documented issue and comment events
and signed like Jira signs secret-based webhooks (`X-Hub-Signature: sha256=<hex HMAC of the
body>`, SHA-256 despite the header's name), with a fresh `X-Atlassian-Webhook-Identifier`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from typing import Any

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

_SITE = "https://switchboard-test.atlassian.net"
_REPORTER = {"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof", "active": True}
_ASSIGNEE = {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Emma Richards"}
_SUMMARIES = (
    "Checkout fails with a 500 for EUR carts",
    "Export to CSV drops the last row",
    "Password reset mail is not localized",
)


class _Scene:
    def __init__(self, ctx: SimulationContext) -> None:
        site = ctx.config.get("site_url")
        self.site = site.rstrip("/") if isinstance(site, str) and site else _SITE
        self.n = simulated_number(ctx)
        self.millis = int(ctx.now * 1000)
        self.issue_id = str(10_000 + self.n % 1_000_000)
        self.key = f"ED-{1 + self.n % 100_000}"
        self.summary = _SUMMARIES[ctx.sequence % len(_SUMMARIES)]

    def jira_time(self) -> str:
        moment = dt.datetime.fromtimestamp(self.millis / 1000, dt.UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{self.millis % 1000:03d}+0000"

    def issue(self, status: str = "To Do") -> dict[str, Any]:
        return {
            "id": self.issue_id,
            "self": f"{self.site}/rest/api/2/issue/{self.issue_id}",
            "key": self.key,
            "fields": {
                "summary": self.summary,
                "issuetype": {"id": "10004", "name": "Bug"},
                "project": {"id": "10000", "key": "ED", "name": "Edison"},
                "priority": {"id": "2", "name": "High"},
                "status": {"id": "3" if status == "In Progress" else "10000", "name": status},
                "assignee": _ASSIGNEE if status == "In Progress" else None,
                "reporter": _REPORTER,
                "created": self.jira_time(),
                "updated": self.jira_time(),
            },
        }


def _created(scene: _Scene) -> dict[str, Any]:
    return {"issue_event_type_name": "issue_created", "user": _REPORTER, "issue": scene.issue()}


def _updated(scene: _Scene) -> dict[str, Any]:
    return {
        "issue_event_type_name": "issue_generic",
        "user": _REPORTER,
        "issue": scene.issue("In Progress"),
        "changelog": {
            "id": str(10_100 + scene.n % 1_000_000),
            "items": [
                {
                    "field": "status",
                    "fieldtype": "jira",
                    "fieldId": "status",
                    "from": "10000",
                    "fromString": "To Do",
                    "to": "3",
                    "toString": "In Progress",
                },
                {
                    "field": "assignee",
                    "fieldtype": "jira",
                    "fieldId": "assignee",
                    "from": None,
                    "fromString": None,
                    "to": _ASSIGNEE["accountId"],
                    "toString": _ASSIGNEE["displayName"],
                },
            ],
        },
    }


def _deleted(scene: _Scene) -> dict[str, Any]:
    return {"issue_event_type_name": "issue_deleted", "user": _REPORTER, "issue": scene.issue()}


def _comment(scene: _Scene) -> dict[str, Any]:
    comment_id = str(10_050 + scene.n % 1_000_000)
    issue = scene.issue("In Progress")
    return {
        "comment": {
            "self": f"{issue['self']}/comment/{comment_id}",
            "id": comment_id,
            "author": _ASSIGNEE,
            "body": "Reproduced on staging, looking at it now.",
            "created": scene.jira_time(),
            "updated": scene.jira_time(),
        },
        "issue": issue,
        "eventType": "primaryAction",
    }


def _event(name: str, description: str, build: Callable[[_Scene], dict[str, Any]]) -> EventType:
    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        scene = _Scene(ctx)
        payload = deep_merge(
            {"timestamp": scene.millis, "webhookEvent": name, **build(scene)}, ctx.overrides
        )
        identifier = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ctx.integration_id}:{scene.n}"))
        return OutboundDelivery(
            event_type=name,
            provider_event_id=identifier,
            body=msgspec.json.encode(payload),
            headers={
                "content-type": "application/json; charset=utf-8",
                "user-agent": "Atlassian Webhook HTTP Client",
                "x-atlassian-webhook-identifier": identifier,
                "x-atlassian-webhook-flow": "Primary",
            },
            occurred_at=scene.millis / 1000,
        )

    return EventType(name, description, delivery)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("jira:issue_created", "An issue was created.", _created),
    _event("jira:issue_updated", "An issue moved to In Progress and was assigned.", _updated),
    _event("jira:issue_deleted", "An issue was deleted.", _deleted),
    _event("comment_created", "An issue was commented on.", _comment),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """`X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`; no secret, no header."""
    if not ctx.signing_secret:
        return {}
    digest = hmac_digests([to_bytes(ctx.signing_secret)], delivery.body, hashlib.sha256)[0]
    return {"x-hub-signature": "sha256=" + digest.hex()}
