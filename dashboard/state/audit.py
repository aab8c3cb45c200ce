"""The audit page: the tenant's audit trail, newest first, loaded a page at a time."""

from __future__ import annotations

import json
from dataclasses import dataclass

import reflex as rx

from dashboard.client import AuditEntry, SwitchboardClient
from dashboard.state.session import AuthState, ProblemMixin

PAGE_SIZE = 50


@dataclass
class AuditRow:
    id: str
    created_at: str
    actor: str
    action: str
    target: str
    ip: str
    details: str


def audit_row(entry: AuditEntry) -> AuditRow:
    target_id = entry.get("target_id")
    target = str(entry.get("target_type") or "")
    return AuditRow(
        id=str(entry.get("id", "")),
        created_at=str(entry.get("created_at") or ""),
        actor=str(entry.get("actor") or ""),
        action=str(entry.get("action") or ""),
        target=f"{target} {target_id}" if target_id else target,
        ip=str(entry.get("ip") or ""),
        details=json.dumps(entry.get("details") or {}, ensure_ascii=False)
        if entry.get("details")
        else "",
    )


class AuditState(ProblemMixin, AuthState):
    entries: list[AuditRow] = []
    next_cursor: str = ""
    loading: bool = False

    @rx.var
    def has_more(self) -> bool:
        return self.next_cursor != ""

    async def _fetch(self, cursor: str | None):
        async def call(api: SwitchboardClient) -> None:
            page = await api.list_audit(limit=PAGE_SIZE, cursor=cursor)
            rows = [audit_row(e) for e in page["items"]]
            self.entries = [*self.entries, *rows] if cursor else rows
            self.next_cursor = page.get("next_cursor") or ""

        async for update in self._api_load(call):
            yield update

    @rx.event
    async def load(self):
        self.entries = []
        self.next_cursor = ""
        async for update in self._fetch(None):
            yield update

    @rx.event
    async def load_more(self):
        if not self.next_cursor or self.loading:
            return
        async for update in self._fetch(self.next_cursor):
            yield update
