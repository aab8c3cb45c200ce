"""The Switchboard dashboard: a Reflex app and a REST client of the api (docs/api.md)."""

from __future__ import annotations

import reflex as rx

from dashboard.pages.alerts import alerts_page
from dashboard.pages.audit import audit_page
from dashboard.pages.catalog import catalog_page
from dashboard.pages.connect import connect_page
from dashboard.pages.integration import integration_page
from dashboard.pages.login import login_page
from dashboard.pages.mapping import mapping_page
from dashboard.pages.overview import overview_page
from dashboard.state.alerts import AlertsState
from dashboard.state.audit import AuditState
from dashboard.state.catalog import CatalogState
from dashboard.state.connect import ConnectState
from dashboard.state.integration import IntegrationState
from dashboard.state.mapping import MappingState
from dashboard.state.overview import OverviewState
from dashboard.state.session import AuthState

app = rx.App()  # theme: RadixThemesPlugin in rxconfig.py

app.add_page(
    login_page, route="/login", title="Sign in · Switchboard", on_load=AuthState.check_signed_in
)
app.add_page(catalog_page, route="/", title="Catalog · Switchboard", on_load=CatalogState.load)
app.add_page(
    connect_page,
    route="/connect/[connector_id]",
    title="Connect · Switchboard",
    on_load=ConnectState.load,
)
app.add_page(
    integration_page,
    route="/integrations/[integration_id]",
    title="Integration · Switchboard",
    on_load=IntegrationState.load,
)
app.add_page(audit_page, route="/audit", title="Audit trail · Switchboard", on_load=AuditState.load)

app.add_page(
    mapping_page,
    route="/integrations/[integration_id]/mappings",
    title="Field mappings · Switchboard",
    on_load=MappingState.load,
)
app.add_page(alerts_page, route="/alerts", title="Alerts · Switchboard", on_load=AlertsState.load)
app.add_page(
    overview_page, route="/overview", title="Overview · Switchboard", on_load=OverviewState.load
)
