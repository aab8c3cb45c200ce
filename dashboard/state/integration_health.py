"""The health panel: health from evidence (`GET …/health`) with every reason behind it, and the
integration's open alerts, refreshed while the panel is on screen."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from dashboard.client import AlertEntry, IntegrationHealth
from dashboard.state.integration_panel import PanelState, short_time
from dashboard.state.session import AuthState, ProblemMixin

LIVE_NAME = "integration-health"
INTERVAL_SECONDS = 2.0
ALERTS_LIMIT = 200


@dataclass
class ReasonRow:
    code: str
    message: str


@dataclass
class AlertRow:
    id: str
    kind: str
    severity: str
    message: str
    opened_at: str


def reason_rows(health: IntegrationHealth) -> list[ReasonRow]:
    return [
        ReasonRow(code=str(r.get("code", "")), message=str(r.get("message", "")))
        for r in health.get("reasons") or []
    ]


def alert_rows(alerts: list[AlertEntry], integration_id: str) -> list[AlertRow]:
    """This integration's alerts only (the api lists the tenant's)."""
    return [
        AlertRow(
            id=str(a.get("id", "")),
            kind=str(a.get("kind", "")),
            severity=str(a.get("severity", "")),
            message=str(a.get("message", "")),
            opened_at=short_time(str(a.get("opened_at") or "")),
        )
        for a in alerts
        if a.get("integration_id") == integration_id
    ]


class HealthPanelState(PanelState, ProblemMixin, AuthState):
    state: str = ""
    reasons: list[ReasonRow] = []
    assessed_at: str = ""
    alerts: list[AlertRow] = []

    @rx.var
    def alert_count(self) -> int:
        return len(self.alerts)

    async def _refresh(self) -> bool:
        async def call(api, integration_id):  # type: ignore[no-untyped-def]
            health = await api.get_integration_health(integration_id)
            alerts = await api.list_alerts(status="open", limit=ALERTS_LIMIT)
            return health, alert_rows(alerts["items"], integration_id)

        ok, answer = await self._call_live(call)
        if ok:
            health, alerts = answer
            async with self:
                self.state = str(health.get("state") or "")
                self.reasons = reason_rows(health)
                self.assessed_at = short_time(str(health.get("assessed_at") or ""))
                self.alerts = alerts
                self.panel_loading = False
        return True

    @rx.event(background=True)
    async def start(self):
        def forget() -> None:
            self.state, self.reasons, self.alerts = "", [], []

        return await self._start_panel(LIVE_NAME, self._refresh, INTERVAL_SECONDS, forget)

    @rx.event(background=True)
    async def stop(self):
        self._stop_panel_loop(LIVE_NAME)
