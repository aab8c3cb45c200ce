"""/alerts: the tenant's alerts, open and resolved, with acknowledge."""

from __future__ import annotations

import reflex as rx

from dashboard.components.alert_badges import severity_badge
from dashboard.components.feedback import error_callout, info_callout
from dashboard.components.layout import page_layout
from dashboard.state.alerts import FILTERS, AlertRow, AlertsState

S = AlertsState


def _alert(a: AlertRow) -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.flex(
                    severity_badge(a.severity),
                    rx.code(a.kind),
                    rx.badge(
                        a.status,
                        variant="outline",
                        color_scheme=rx.cond(a.status == "open", "red", "gray"),
                    ),
                    rx.link(
                        a.integration_name,
                        href="/integrations/" + a.integration_id,
                        id="alert-integration-" + a.id,
                    ),
                    spacing="2",
                    wrap="wrap",
                    align="center",
                ),
                rx.text(a.message, size="2", id="alert-message-" + a.id),
                rx.text(
                    "Opened ",
                    a.opened_at,
                    rx.cond(a.resolved_at != "", rx.fragment(" · resolved ", a.resolved_at)),
                    rx.cond(
                        a.acknowledged_at != "", rx.fragment(" · acknowledged ", a.acknowledged_at)
                    ),
                    size="1",
                    color_scheme="gray",
                ),
                spacing="1",
                flex="1",
                min_width="0",
            ),
            rx.cond(
                a.acknowledged_at != "",
                rx.badge(
                    "acknowledged",
                    color_scheme="green",
                    variant="soft",
                    radius="full",
                    id="alert-acked-" + a.id,
                ),
                rx.cond(
                    a.status == "open",
                    rx.button(
                        rx.icon("check", size=14),
                        "Acknowledge",
                        size="2",
                        variant="soft",
                        on_click=S.acknowledge(a.id),
                        loading=S.busy == "ack-" + a.id,
                        disabled=S.busy != "",
                        id="alert-ack-" + a.id,
                    ),
                ),
            ),
            spacing="3",
            align="center",
            wrap="wrap",
            width="100%",
        ),
        id="alert-" + a.id,
        class_name="alert-card",
        data_kind=a.kind,
        data_status=a.status,
        width="100%",
    )


def alerts_page() -> rx.Component:
    return page_layout(
        "Alerts",
        rx.flex(
            rx.select(
                FILTERS, value=S.status_filter, on_change=S.set_status_filter, id="alerts-filter"
            ),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="soft",
                on_click=S.load,
                loading=S.loading,
                id="alerts-refresh",
            ),
            spacing="2",
            wrap="wrap",
        ),
        error_callout(S.problem_title, S.problem_detail, on_dismiss=S.dismiss_problem),
        info_callout(S.message, color="green", id="alerts-message"),
        rx.vstack(rx.foreach(S.alerts, _alert), spacing="2", width="100%", id="alerts-list"),
        rx.cond(
            (S.alert_count == 0) & ~S.loading,
            rx.text("No alerts here.", color_scheme="gray", id="alerts-empty"),
        ),
        rx.cond(
            S.has_more,
            rx.button(
                "Load more",
                on_click=S.load_more,
                loading=S.loading,
                variant="soft",
                id="alerts-load-more",
            ),
        ),
        # The list is live while the page is mounted (dashboard/live.py).
        rx.box(on_mount=S.start_live, on_unmount=S.stop_live, display="none"),
    )
