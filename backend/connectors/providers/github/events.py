"""GitHub webhook deliveries for test mode, shaped like GitHub's documented payloads and signed
like GitHub signs them (`X-Hub-Signature-256: sha256=<hex HMAC of the body>`).

Templates are `event_templates.json` (GitHub's Codertocat/Hello-World examples). Every
delivery names the integration's repository (`config.repository`, else the example's), its
issue and pull request numbers grow with each delivery, and times derive from `ctx.now`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
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

_TEMPLATES: dict[str, Any] = json.loads(
    Path(__file__).with_name("event_templates.json").read_bytes()
)
_EXAMPLE_REPOSITORY = "Codertocat/Hello-World"
_EXAMPLE_OWNER = "Codertocat"


def _iso(unix: float) -> str:
    return dt.datetime.fromtimestamp(int(unix), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(seed: str) -> str:
    return hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()


class _Scene:
    """What one delivery's parts share: the repository, numbers, ids and times."""

    def __init__(self, ctx: SimulationContext) -> None:
        configured = ctx.config.get("repository")
        self.full_name = (
            configured
            if isinstance(configured, str) and configured.count("/") == 1
            else _EXAMPLE_REPOSITORY
        )
        self.owner = self.full_name.split("/")[0]
        self.n = simulated_number(ctx)
        self.seed = f"{ctx.integration_id}:{self.n}"
        self.now = ctx.now
        self.number = self.n % 100_000 + 1

    def template(self, name: str) -> Any:
        """A template with the example repository (its URLs included) replaced by ours."""
        text = json.dumps(_TEMPLATES[name]).replace(_EXAMPLE_REPOSITORY, self.full_name)
        return json.loads(text)

    def repository(self) -> dict[str, Any]:
        repository: dict[str, Any] = self.template("repository")
        owner = json.dumps(repository["owner"]).replace(_EXAMPLE_OWNER, self.owner)
        repository.update(
            owner=json.loads(owner),
            name=self.full_name.split("/")[1],
            pushed_at=_iso(self.now),
            updated_at=_iso(self.now),
        )
        if self.full_name != _EXAMPLE_REPOSITORY:  # another repository has another id
            repository["id"] = int(_sha(self.full_name)[:8], 16)
        return repository

    def issue(self, *, closed: bool = False) -> dict[str, Any]:
        issue: dict[str, Any] = self.template("issue")
        text = json.dumps(issue).replace("/issues/1", f"/issues/{self.number}")
        issue = json.loads(text)
        issue.update(
            id=self.n % 2_000_000_000,
            number=self.number,
            created_at=_iso(self.now - 60),
            updated_at=_iso(self.now),
            state="closed" if closed else "open",
            closed_at=_iso(self.now) if closed else None,
        )
        if closed:
            issue["state_reason"] = "completed"
        return issue

    def pull_request(self, *, merged: bool = False) -> dict[str, Any]:
        pull: dict[str, Any] = self.template("pull_request")
        pull = json.loads(json.dumps(pull).replace("/pull/2", f"/pull/{self.number}"))
        pull["url"] = f"https://api.github.com/repos/{self.full_name}/pulls/{self.number}"
        head_sha = _sha(self.seed)
        pull.update(
            id=self.n % 2_000_000_000,
            number=self.number,
            created_at=_iso(self.now - 60),
            updated_at=_iso(self.now),
            state="closed" if merged else "open",
            closed_at=_iso(self.now) if merged else None,
            merged_at=_iso(self.now) if merged else None,
            merged=merged,
            merge_commit_sha=_sha(self.seed + ":merge") if merged else None,
        )
        api = f"https://api.github.com/repos/{self.full_name}"
        html = f"https://github.com/{self.full_name}/pull/{self.number}"
        sender, repository = self.template("sender"), self.repository()
        pull["head"] = {
            **pull["head"],
            "sha": head_sha,
            "label": f"{self.owner}:changes",
            "repo": repository,
            "user": sender,
        }
        pull["base"] = {
            **pull["base"],
            "label": f"{self.owner}:master",
            "repo": repository,
            "user": sender,
        }
        pull.update(
            assignee=None,
            assignees=[],
            labels=[],
            milestone=None,
            auto_merge=None,
            requested_reviewers=[],
            requested_teams=[],
            diff_url=f"{html}.diff",
            patch_url=f"{html}.patch",
            issue_url=f"{api}/issues/{self.number}",
            commits_url=f"{pull['url']}/commits",
            review_comments_url=f"{pull['url']}/comments",
            review_comment_url=f"{api}/pulls/comments{{/number}}",
            comments_url=f"{api}/issues/{self.number}/comments",
            statuses_url=f"{api}/statuses/{head_sha}",
        )
        pull["_links"] = {
            "self": {"href": pull["url"]},
            "html": {"href": html},
            "issue": {"href": pull["issue_url"]},
            "comments": {"href": pull["comments_url"]},
            "review_comments": {"href": pull["review_comments_url"]},
            "review_comment": {"href": pull["review_comment_url"]},
            "commits": {"href": pull["commits_url"]},
            "statuses": {"href": pull["statuses_url"]},
        }
        return pull

    def commit(self) -> dict[str, Any]:
        commit: dict[str, Any] = self.template("commit")
        sha = _sha(self.seed)
        commit.update(
            id=sha,
            tree_id=_sha(self.seed + ":tree"),
            timestamp=_iso(self.now),
            url=f"https://github.com/{self.full_name}/commit/{sha}",
        )
        return commit


PayloadBuilder = Callable[[_Scene], dict[str, Any]]


def _ping(scene: _Scene) -> dict[str, Any]:
    hook: dict[str, Any] = scene.template("hook")
    hook.update(created_at=_iso(scene.now), updated_at=_iso(scene.now))
    return {"zen": "Design for failure.", "hook_id": hook["id"], "hook": hook}


def _push(scene: _Scene) -> dict[str, Any]:
    commit = scene.commit()
    before = _sha(scene.seed + ":before")
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": commit["id"],
        "pusher": scene.template("pusher"),
        "created": False,
        "deleted": False,
        "forced": False,
        "base_ref": None,
        "compare": f"https://github.com/{scene.full_name}/compare/{before[:12]}...{commit['id'][:12]}",
        "commits": [commit],
        "head_commit": commit,
    }


def _event(name: str, description: str, build: PayloadBuilder) -> EventType:
    event, _, action = name.partition(".")

    def delivery(ctx: SimulationContext) -> OutboundDelivery:
        scene = _Scene(ctx)
        payload: dict[str, Any] = {"action": action} if action else {}
        payload.update(build(scene))
        payload["repository"] = scene.repository()
        payload["sender"] = scene.template("sender")
        payload = deep_merge(payload, ctx.overrides)
        delivery_id = str(uuid.uuid5(uuid.NAMESPACE_URL, scene.seed))
        return OutboundDelivery(
            event_type=name,
            provider_event_id=delivery_id,
            body=msgspec.json.encode(payload),
            headers={
                "content-type": "application/json",
                "user-agent": "GitHub-Hookshot/044aadd",
                "x-github-event": event,
                "x-github-delivery": delivery_id,
                "x-github-hook-id": str(_TEMPLATES["hook"]["id"]),
                "x-github-hook-installation-target-id": str(payload["repository"]["id"]),
                "x-github-hook-installation-target-type": "repository",
            },
            occurred_at=scene.now,
        )

    return EventType(name, description, delivery)


EVENT_TYPES: tuple[EventType, ...] = (
    _event("ping", "GitHub confirms a new webhook.", _ping),
    _event("push", "Commits were pushed to a branch.", _push),
    _event("issues.opened", "An issue was opened.", lambda s: {"issue": s.issue()}),
    _event("issues.closed", "An issue was closed.", lambda s: {"issue": s.issue(closed=True)}),
    _event(
        "pull_request.opened",
        "A pull request was opened.",
        lambda s: {"number": s.number, "pull_request": s.pull_request()},
    ),
    _event(
        "pull_request.closed",
        "A pull request was merged.",
        lambda s: {"number": s.number, "pull_request": s.pull_request(merged=True)},
    ),
)


def sign(delivery: OutboundDelivery, ctx: SigningContext) -> dict[str, str]:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; no secret, no header."""
    if not ctx.signing_secret:
        return {}
    digest = hmac_digests([to_bytes(ctx.signing_secret)], delivery.body, hashlib.sha256)[0]
    return {"x-hub-signature-256": "sha256=" + digest.hex()}
