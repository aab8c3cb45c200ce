"""The catalog page: connectors and the tenant's integrations, with search and filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import get_args

import reflex as rx

from dashboard.client import Connector, Integration, IntegrationStatus, SwitchboardClient
from dashboard.state.session import AuthState, ProblemMixin

ALL = "all"
INTEGRATION_STATUSES = list(get_args(IntegrationStatus))
AUTH_LABELS = {"oauth2": "OAuth 2.0", "api_key": "API key", "none": "No auth (webhook)"}


@dataclass
class ConnectorCard:
    id: str
    name: str
    category: str
    description: str
    icon: str
    auth_type: str
    auth_label: str
    configured: bool
    configured_reason: str
    integration_count: int = 0


@dataclass
class IntegrationRow:
    id: str
    name: str
    connector_id: str
    connector_name: str
    category: str
    icon: str
    status: str
    test_mode: bool
    health_status: str
    health_reason: str
    health_checked_at: str


def connector_card(c: Connector, integration_count: int = 0) -> ConnectorCard:
    auth_type = str(c.get("auth_type") or "none")
    return ConnectorCard(
        id=str(c.get("id", "")),
        name=str(c.get("name") or c.get("id", "")),
        category=str(c.get("category") or "other"),
        description=str(c.get("description") or ""),
        icon=str(c.get("icon") or "plug"),
        auth_type=auth_type,
        auth_label=AUTH_LABELS.get(auth_type, auth_type),
        configured=bool(c.get("configured", False)),
        configured_reason=str(c.get("configured_reason") or ""),
        integration_count=integration_count,
    )


def integration_row(i: Integration, connectors: dict[str, ConnectorCard]) -> IntegrationRow:
    connector = connectors.get(str(i.get("connector_id", "")))
    health = i.get("health") or {}
    return IntegrationRow(
        id=str(i.get("id", "")),
        name=str(i.get("name") or ""),
        connector_id=str(i.get("connector_id", "")),
        connector_name=connector.name if connector else str(i.get("connector_id", "")),
        category=connector.category if connector else "other",
        icon=connector.icon if connector else "plug",
        status=str(i.get("status") or "pending"),
        test_mode=bool(i.get("test_mode", False)),
        health_status=str(health.get("status") or "unknown"),
        health_reason=str(health.get("reason") or ""),
        health_checked_at=str(health.get("checked_at") or ""),
    )


def _matches(query: str, *texts: str) -> bool:
    return not query or any(query in text.lower() for text in texts)


class CatalogState(ProblemMixin, AuthState):
    connectors: list[ConnectorCard] = []
    integrations: list[IntegrationRow] = []
    search: str = ""
    category: str = ALL
    status: str = ALL
    loading: bool = False
    loaded: bool = False

    @rx.var
    def categories(self) -> list[str]:
        return [ALL, *sorted({c.category for c in self.connectors})]

    @rx.var
    def statuses(self) -> list[str]:
        return [ALL, *INTEGRATION_STATUSES]

    @rx.var
    def filtered_connectors(self) -> list[ConnectorCard]:
        query = self.search.strip().lower()
        return [
            c
            for c in self.connectors
            if (self.category == ALL or c.category == self.category)
            and (
                self.status == ALL
                or any(
                    i.connector_id == c.id and i.status == self.status for i in self.integrations
                )
            )
            and _matches(query, c.name, c.id, c.category, c.description, c.auth_label)
        ]

    @rx.var
    def filtered_integrations(self) -> list[IntegrationRow]:
        query = self.search.strip().lower()
        return [
            i
            for i in self.integrations
            if (self.category == ALL or i.category == self.category)
            and (self.status == ALL or i.status == self.status)
            and _matches(query, i.name, i.connector_name, i.connector_id, i.status)
        ]

    @rx.var
    def filters_active(self) -> bool:
        return bool(self.search.strip()) or self.category != ALL or self.status != ALL

    @rx.event
    def set_search(self, value: str):
        self.search = value

    @rx.event
    def set_category(self, value: str):
        self.category = value or ALL

    @rx.event
    def set_status(self, value: str):
        self.status = value or ALL

    @rx.event
    def clear_filters(self):
        self.search = ""
        self.category = ALL
        self.status = ALL

    @rx.event
    async def load(self):
        async def call(api: SwitchboardClient) -> None:
            connectors = await api.list_connectors()
            integrations: list[Integration] = []
            cursor: str | None = None
            # A tenant has a handful of integrations; a few pages at most.
            for _ in range(10):
                page = await api.list_integrations(limit=200, cursor=cursor)
                integrations.extend(page["items"])
                cursor = page.get("next_cursor")
                if not cursor:
                    break
            counts: dict[str, int] = {}
            for i in integrations:
                if i.get("status") != "revoked":
                    key = str(i.get("connector_id", ""))
                    counts[key] = counts.get(key, 0) + 1
            cards = [connector_card(c, counts.get(str(c.get("id", "")), 0)) for c in connectors]
            by_id = {c.id: c for c in cards}
            self.connectors = cards
            self.integrations = [integration_row(i, by_id) for i in integrations]
            self.loaded = True

        async for update in self._api_load(call):
            yield update
