"""Jira Cloud's outbound actions: create an issue and move one through its workflow.

OAuth 2.0 (3LO) apps call the site through Atlassian's gateway, /ex/jira/{cloud_id}/rest/api/3
(https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/). REST v3 takes rich
text as Atlassian Document Format only, so a plain-text description becomes ADF paragraphs
(https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from backend.connectors.actions import Action, ActionCall, ActionResult
from backend.connectors.base import Adapter, ProviderError
from backend.connectors.classify import json_body
from backend.lib.vocab import FailureKind

_WRITE_WORK = (("write:jira-work",),)
_ISSUE_ID_OR_KEY = r"^(?:[0-9]+|[A-Z][A-Z0-9_]{0,254}-[0-9]+)$"
_CLOUD_ID = re.compile(r"[0-9a-fA-F-]{36}")
_GATEWAY_HOST = "api.atlassian.com"


def _api(adapter: Adapter) -> str:
    """The REST v3 prefix of the integration's site through the gateway."""
    cloud_id = adapter.ctx.config.get("cloud_id")
    if not isinstance(cloud_id, str) or not _CLOUD_ID.fullmatch(cloud_id):
        raise ProviderError(
            FailureKind.MISCONFIGURED, "the Jira Cloud site id (cloud_id) is not set"
        )
    return f"/ex/jira/{cloud_id}/rest/api/3"


def adf_document(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: blank lines separate paragraphs, single newlines
    become hard breaks (ADF text nodes may not hold newlines or be empty)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if p.strip()]
    content = []
    for paragraph in paragraphs:
        nodes: list[dict[str, Any]] = []
        for index, line in enumerate(paragraph.split("\n")):
            if index:
                nodes.append({"type": "hardBreak"})
            if line:
                nodes.append({"type": "text", "text": line})
        content.append({"type": "paragraph", "content": nodes})
    return {"type": "doc", "version": 1, "content": content}


def _browse_url(created: dict[str, Any]) -> str | None:
    """The issue's page on the site: `self` names the site unless it came via the gateway."""
    parts = urlsplit(str(created.get("self") or ""))
    if not parts.scheme or not parts.netloc or parts.hostname == _GATEWAY_HOST:
        return None
    return f"{parts.scheme}://{parts.netloc}/browse/{created['key']}"


async def create_issue(adapter: Adapter, call: ActionCall) -> ActionResult:
    given = call.input
    fields: dict[str, Any] = {
        "project": {"key": given["project_key"]},
        "issuetype": {"name": given["issue_type"]},
        "summary": given["summary"],
    }
    if given.get("description"):
        fields["description"] = adf_document(given["description"])
    if given.get("labels"):
        fields["labels"] = given["labels"]
    response = await adapter.call("POST", f"{_api(adapter)}/issue", json={"fields": fields})
    created = json_body(response)
    if not isinstance(created, dict) or not created.get("id") or not created.get("key"):
        raise ProviderError(FailureKind.BAD_REQUEST, "Jira's answer named no issue id and key")
    result = {"id": str(created["id"]), "key": str(created["key"]), "url": _browse_url(created)}
    return ActionResult(result, created)


async def _transition_named(adapter: Adapter, issue_path: str, name: str) -> str:
    """The id of the issue's available transition called `name` (case-insensitive)."""
    response = await adapter.call("GET", f"{issue_path}/transitions")
    body = json_body(response)
    transitions = body.get("transitions") if isinstance(body, dict) else None
    available = [t for t in transitions or () if isinstance(t, dict)]
    for transition in available:
        if str(transition.get("name", "")).casefold() == name.casefold():
            return str(transition["id"])
    names = ", ".join(sorted(str(t.get("name")) for t in available)) or "none"
    raise ProviderError(
        FailureKind.BAD_REQUEST,
        f"the issue has no transition named {name!r} (available: {names})",
    )


async def transition_issue(adapter: Adapter, call: ActionCall) -> ActionResult:
    issue = call.input["issue"]
    issue_path = f"{_api(adapter)}/issue/{quote(issue, safe='')}"
    transition_id = call.input.get("transition_id") or await _transition_named(
        adapter, issue_path, call.input["transition_name"]
    )
    body = {"transition": {"id": transition_id}}
    await adapter.call("POST", f"{issue_path}/transitions", json=body)
    return ActionResult({"key": issue, "transition_id": transition_id})


ACTIONS: tuple[Action, ...] = (
    Action(
        name="create_issue",
        description="Create an issue in a Jira Cloud project.",
        input_schema={
            "type": "object",
            "properties": {
                "project_key": {"type": "string", "pattern": r"^[A-Z][A-Z0-9_]{1,254}$"},
                "issue_type": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "description": "the issue type's name: Task, Bug, Story...",
                },
                "summary": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": {"type": "string", "maxLength": 32767},
                "labels": {
                    "type": "array",
                    # Jira refuses spaces in labels.
                    "items": {"type": "string", "pattern": r"^\S{1,255}$"},
                    "uniqueItems": True,
                },
            },
            "required": ["project_key", "issue_type", "summary"],
            "additionalProperties": False,
        },
        run=create_issue,
        required_scopes=_WRITE_WORK,
        redact_fields=("description",),
    ),
    Action(
        name="transition_issue",
        description="Move an issue through its workflow by transition id or name.",
        input_schema={
            "type": "object",
            "properties": {
                "issue": {"type": "string", "pattern": _ISSUE_ID_OR_KEY},
                "transition_id": {"type": "string", "pattern": r"^[0-9]{1,18}$"},
                "transition_name": {"type": "string", "minLength": 1, "maxLength": 255},
            },
            "required": ["issue"],
            "oneOf": [{"required": ["transition_id"]}, {"required": ["transition_name"]}],
            "additionalProperties": False,
        },
        run=transition_issue,
        required_scopes=_WRITE_WORK,
    ),
)
