"""/: the connector catalog and the tenant's integrations."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, scroll_table, skeleton_cards, status_badge
from dashboard.components.layout import page_layout
from dashboard.state.catalog import CatalogState, ConnectorCard, IntegrationRow


def _filters() -> rx.Component:
    return rx.flex(
        rx.input(
            rx.input.slot(rx.icon("search", size=14)),
            placeholder="Search connectors and integrations",
            value=CatalogState.search,
            on_change=CatalogState.set_search.debounce(200),
            id="catalog-search",
            flex="1",
            min_width="200px",
        ),
        rx.select(
            CatalogState.categories,
            value=CatalogState.category,
            on_change=CatalogState.set_category,
            id="filter-category",
        ),
        rx.select(
            CatalogState.statuses,
            value=CatalogState.status,
            on_change=CatalogState.set_status,
            id="filter-status",
        ),
        rx.cond(
            CatalogState.filters_active,
            rx.button(
                "Clear", variant="ghost", on_click=CatalogState.clear_filters, id="filters-clear"
            ),
        ),
        spacing="2",
        wrap="wrap",
        width="100%",
    )


def _connector_card(c: ConnectorCard) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(c.icon, size=24),
                rx.vstack(
                    rx.text(c.name, weight="bold"),
                    rx.text(c.category, size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.spacer(),
                rx.badge(c.auth_label, variant="outline"),
                width="100%",
                align="center",
            ),
            rx.text(c.description, size="2", color_scheme="gray", trim="both"),
            rx.hstack(
                rx.cond(
                    c.configured,
                    rx.badge("configured", color_scheme="green", variant="soft"),
                    rx.tooltip(
                        rx.badge("not configured", color_scheme="amber", variant="soft"),
                        content=c.configured_reason,
                    ),
                ),
                rx.cond(
                    c.integration_count > 0,
                    rx.badge(c.integration_count.to_string() + " active", variant="soft"),
                ),
                rx.spacer(),
                rx.link(
                    rx.button("Connect", size="1", disabled=~c.configured, id="connect-" + c.id),
                    href="/connect/" + c.id,
                ),
                width="100%",
                align="center",
            ),
            rx.cond(
                ~c.configured & (c.configured_reason != ""),
                rx.text(c.configured_reason, size="1", color_scheme="amber"),
            ),
            spacing="2",
            height="100%",
        ),
        id="connector-" + c.id,
        data_connector=c.id,
    )


def _integration_row(i: IntegrationRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(
                rx.hstack(rx.icon(i.icon, size=16), rx.text(i.name), align="center"),
                href="/integrations/" + i.id,
                id="integration-link-" + i.id,
            )
        ),
        rx.table.cell(i.connector_name),
        rx.table.cell(
            rx.hstack(
                status_badge(i.status), rx.cond(i.test_mode, rx.badge("test", variant="outline"))
            )
        ),
        rx.table.cell(
            rx.tooltip(
                status_badge(i.health_status),
                content=rx.cond(i.health_reason != "", i.health_reason, "No reason given"),
            )
        ),
        id="integration-" + i.id,
    )


def _integrations() -> rx.Component:
    return rx.vstack(
        rx.heading("Your integrations", size="4"),
        rx.cond(
            CatalogState.filtered_integrations.length() > 0,
            scroll_table(
                CatalogState.filtered_integrations,
                _integration_row,
                "integrations-table",
                headers=("Name", "Connector", "Status", "Health"),
            ),
            rx.text(
                rx.cond(
                    CatalogState.filters_active,
                    "No integration matches the filters.",
                    "No integrations yet: connect one below.",
                ),
                color_scheme="gray",
                id="integrations-empty",
            ),
        ),
        width="100%",
    )


def _connectors() -> rx.Component:
    return rx.vstack(
        rx.heading("Connectors", size="4"),
        rx.cond(
            CatalogState.filtered_connectors.length() > 0,
            rx.grid(
                rx.foreach(CatalogState.filtered_connectors, _connector_card),
                columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                spacing="3",
                width="100%",
                id="connector-grid",
            ),
            rx.text(
                "No connector matches the filters.", color_scheme="gray", id="connectors-empty"
            ),
        ),
        width="100%",
    )


def catalog_page() -> rx.Component:
    return page_layout(
        "Catalog",
        error_callout(
            CatalogState.problem_title,
            CatalogState.problem_detail,
            on_dismiss=CatalogState.dismiss_problem,
        ),
        _filters(),
        rx.cond(
            CatalogState.loading & ~CatalogState.loaded,
            skeleton_cards(),
            rx.fragment(_integrations(), _connectors()),
        ),
        actions=rx.icon_button(
            rx.icon("refresh-cw", size=16),
            on_click=CatalogState.load,
            loading=CatalogState.loading,
            variant="soft",
            id="catalog-reload",
            aria_label="Reload",
        ),
    )
