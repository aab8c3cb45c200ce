"""What a run stores of a call: the input with the action's message and secret fields
redacted, and provider answers with secret-named fields dropped."""

from __future__ import annotations

from typing import Any

from backend.connectors.actions import Action
from backend.observability.services import scrub

REDACTED = "[redacted]"


def _redact_path(value: Any, parts: list[str]) -> Any:
    """`value` with the dotted path `parts` replaced (every item of a list on the way)."""
    if isinstance(value, list):
        return [_redact_path(item, parts) for item in value]
    if not isinstance(value, dict) or parts[0] not in value:
        return value
    head, rest = parts[0], parts[1:]
    return {**value, head: _redact_path(value[head], rest) if rest else REDACTED}


def redact_input(action: Action, data: dict[str, Any]) -> dict[str, Any]:
    """The input as stored and listed: each `redact_fields` path (dotted, e.g. `body` or
    `message.text`) and every secret-named field replaced."""
    redacted: Any = data
    for path in action.redact_fields:
        redacted = _redact_path(redacted, path.split("."))
    return scrub(redacted)


def redact_response(action: Action, data: dict[str, Any]) -> dict[str, Any]:
    """A provider answer as stored: it often echoes the message (`redact_fields`) too."""
    return redact_input(action, data)
