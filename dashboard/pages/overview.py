"""/overview: the tenant at a glance — integrations by health, events and errors over 24 h,
open alerts. Every integration links to its page; the catalog stays one click away."""

from __future__ import annotations

import reflex as rx

from dashboard.components.alert_badges import health_badge, severity_badge
from dashboard.components.feedback import error_callout, loading_block, scroll_table
from dashboard.components.layout import page_layout
from dashboard.state.alerts import AlertRow
from dashboard.state.overview import HealthGroup, OverviewRow, OverviewState

S = OverviewState


def _group(g: HealthGroup) -> rx.Component:
    return rx.card(
        rx.vstack(
            health_badge(g.state),
            rx.heading(g.count, size="7", id="health-count-" + g.state),
            spacing="1",
            align="start",
        ),
        id="health-group-" + g.state,
    )


def _totals() -> rx.Component:
    return rx.grid(
        rx.foreach(S.groups, _group),
        rx.card(
            rx.vstack(
                rx.text("Events, 24 h", size="1", color_scheme="gray"),
                rx.heading(S.events_24h, size="7", id="overview-events"),
                spacing="1",
            )
        ),
        rx.card(
            rx.vstack(
                rx.text("Errors, 24 h", size="1", color_scheme="gray"),
                rx.heading(S.errors_24h, size="7", color_scheme="red", id="overview-errors"),
                spacing="1",
            )
        ),
        columns=rx.breakpoints(initial="2", sm="3", lg="6"),
        spacing="3",
        width="100%",
    )


def _chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Events and errors, last 24 h (UTC hours)", size="3"),
            rx.box(
                rx.recharts.bar_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.x_axis(data_key="at", interval="preserveStartEnd"),
                    rx.recharts.y_axis(allow_decimals=False, width=40),
                    rx.recharts.graphing_tooltip(),
                    rx.recharts.legend(),
                    rx.recharts.bar(
                        data_key="events",
                        name="events",
                        fill="var(--indigo-9)",
                        is_animation_active=False,
                    ),
                    rx.recharts.bar(
                        data_key="errors",
                        name="errors",
                        fill="var(--red-9)",
                        is_animation_active=False,
                    ),
                    data=S.chart,
                    width="100%",
                    height=240,
                ),
                width="100%",
                id="overview-chart",
            ),
            width="100%",
        ),
        width="100%",
    )


def _row(r: OverviewRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(r.name, href="/integrations/" + r.id, id="overview-integration-" + r.id)
        ),
        rx.table.cell(r.connector_id),
        rx.table.cell(health_badge(r.state, id="overview-health-" + r.id)),
        rx.table.cell(rx.text(r.reason, size="1"), min_width="12rem"),
        rx.table.cell(r.events),
        rx.table.cell(r.errors),
        id="overview-row-" + r.id,
    )


def _integrations() -> rx.Component:
    return rx.vstack(
        rx.heading("Integrations by health", size="4"),
        rx.cond(
            S.rows.length() > 0,
            scroll_table(
                S.rows,
                _row,
                "overview-integrations",
                headers=("Name", "Connector", "Health", "Why", "Events 24 h", "Errors 24 h"),
            ),
            rx.text(
                "No integrations yet: connect one from the ",
                rx.link("catalog", href="/", id="overview-to-catalog"),
                ".",
                color_scheme="gray",
            ),
        ),
        width="100%",
    )


def _alert(a: AlertRow) -> rx.Component:
    return rx.flex(
        severity_badge(a.severity),
        rx.link(a.integration_name, href="/integrations/" + a.integration_id),
        rx.text(a.message, size="2", flex="1", min_width="10rem"),
        rx.cond(
            a.acknowledged_at != "", rx.badge("acknowledged", variant="soft", color_scheme="green")
        ),
        spacing="2",
        align="center",
        wrap="wrap",
        width="100%",
        id="overview-alert-" + a.id,
    )


def _alerts() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Open alerts", size="4"),
                rx.badge(
                    S.open_alert_count,
                    color_scheme="red",
                    variant="soft",
                    id="overview-alert-count",
                ),
                rx.spacer(),
                rx.link("All alerts", href="/alerts", id="overview-all-alerts"),
                width="100%",
                align="center",
            ),
            rx.cond(
                S.open_alerts.length() > 0,
                rx.vstack(rx.foreach(S.open_alerts, _alert), spacing="2", width="100%"),
                rx.text("No open alerts.", color_scheme="gray", id="overview-no-alerts"),
            ),
            width="100%",
        ),
        width="100%",
    )


def overview_page() -> rx.Component:
    return page_layout(
        "Overview",
        error_callout(S.problem_title, S.problem_detail, on_dismiss=S.dismiss_problem),
        rx.cond(
            S.loading & ~S.loaded,
            loading_block("Loading the overview…"),
            rx.fragment(_totals(), _alerts(), _chart(), _integrations()),
        ),
        actions=rx.button(
            rx.icon("refresh-cw", size=14),
            "Refresh",
            variant="soft",
            on_click=S.load,
            loading=S.loading,
            id="overview-refresh",
        ),
    )
