"""GitHub's outbound actions: open an issue and comment on one, in the integration's
repository (config.repository) unless the input names another.

Both need `repo` (private repositories) or `public_repo` (public ones only): GitHub accepts
either for writing issues (https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/scopes-for-oauth-apps).
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.lib.vocab import FailureKind

_REPOSITORY_PATTERN = r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"
_WRITE_ISSUES = (("repo", "public_repo"),)
_REPOSITORY = {
    "type": "string",
    "pattern": _REPOSITORY_PATTERN,
    "description": "owner/name; defaults to the integration's config.repository",
}
_LOGIN = {"type": "string", "pattern": r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"}


def _repository(adapter: Adapter, call: ActionCall) -> str:
    repo = call.input.get("repository") or adapter.ctx.config.get("repository")
    if not isinstance(repo, str) or not re.fullmatch(_REPOSITORY_PATTERN, repo):
        raise ProviderError(
            FailureKind.MISCONFIGURED,
            "name the repository (owner/name) in the input or in config.repository",
        )
    return repo


def _object(response: httpx.Response) -> dict[str, Any]:
    body = json_body(response)
    if not isinstance(body, dict) or "id" not in body:
        raise ProviderError(FailureKind.BAD_REQUEST, "GitHub's answer had no id")
    return body


async def create_issue(adapter: Adapter, call: ActionCall) -> ActionResult:
    body = {k: call.input[k] for k in ("title", "body", "labels", "assignees") if k in call.input}
    response = await adapter.call("POST", f"/repos/{_repository(adapter, call)}/issues", json=body)
    issue = _object(response)
    return ActionResult(
        {"id": issue["id"], "number": issue.get("number"), "url": issue.get("html_url")}, issue
    )


async def comment(adapter: Adapter, call: ActionCall) -> ActionResult:
    number = call.input["issue_number"]
    path = f"/repos/{_repository(adapter, call)}/issues/{number}/comments"
    response = await adapter.call("POST", path, json={"body": call.input["body"]})
    created = _object(response)
    return ActionResult(
        {"id": created["id"], "number": number, "url": created.get("html_url")}, created
    )


ACTIONS: tuple[Action, ...] = (
    Action(
        name="create_issue",
        description="Open an issue in a repository.",
        input_schema={
            "type": "object",
            "properties": {
                "repository": _REPOSITORY,
                "title": {"type": "string", "minLength": 1, "maxLength": 256},
                "body": {"type": "string", "maxLength": 65536},
                "labels": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 50},
                    "uniqueItems": True,
                },
                "assignees": {"type": "array", "items": _LOGIN, "uniqueItems": True},
            },
            "required": ["title"],
            "additionalProperties": False,
        },
        run=create_issue,
        required_scopes=_WRITE_ISSUES,
        redact_fields=("body",),
        idempotent_at_provider=False,
    ),
    Action(
        name="comment",
        description="Comment on an issue or pull request.",
        input_schema={
            "type": "object",
            "properties": {
                "repository": _REPOSITORY,
                "issue_number": {"type": "integer", "minimum": 1},
                "body": {"type": "string", "minLength": 1, "maxLength": 65536},
            },
            "required": ["issue_number", "body"],
            "additionalProperties": False,
        },
        run=comment,
        required_scopes=_WRITE_ISSUES,
        redact_fields=("body",),
        idempotent_at_provider=False,
    ),
)
