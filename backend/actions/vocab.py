"""The states of an action run (stored, sent and compared as plain text)."""

from __future__ import annotations

from enum import StrEnum


class ActionRunStatus(StrEnum):
    """queued (async, not started) → running → succeeded | failed | needs_reauth (the
    provider refused the credentials even after a token refresh: reconnect)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NEEDS_REAUTH = "needs_reauth"


FINISHED = frozenset(
    {ActionRunStatus.SUCCEEDED, ActionRunStatus.FAILED, ActionRunStatus.NEEDS_REAUTH}
)
