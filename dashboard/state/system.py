"""Is the api up? Shown on the sign-in page, so a broken deployment says so before anyone
types a key (and proves the dashboard process reaches the api)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from dashboard.client import ApiError, SwitchboardClient


def describe_readiness(answer: dict[str, Any] | None, error: ApiError | None) -> tuple[str, str]:
    """(status, words) from GET /ready: ready, degraded (a dependency down) or unreachable."""
    if error is None and answer is not None:
        return "ready", "API ready: database and Redis reachable"
    if error is not None and error.status == 503:
        return "degraded", "API up, but " + (error.detail or "a dependency is unavailable")
    detail = error.detail if error is not None else "no answer"
    return "unreachable", f"API unreachable: {detail}"


class SystemState(rx.State):
    api_status: str = "checking"
    api_detail: str = "Checking the API…"

    @rx.event
    async def check_api(self) -> None:
        answer, error = None, None
        async with SwitchboardClient(None) as api:
            try:
                answer = await api.ready()
            except ApiError as exc:
                error = exc
        self.api_status, self.api_detail = describe_readiness(answer, error)
