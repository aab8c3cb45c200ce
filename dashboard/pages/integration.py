"""/integrations/[integration_id]: one integration, its webhook setup, actions and live events,
and in tabs its health, metrics, syncs, logs, test mode and actions."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import (
    confirm_dialog,
    copy_button,
    error_callout,
    info_callout,
    loading_block,
    scroll_table,
    status_badge,
)
from dashboard.components.layout import back_link, page_layout
from dashboard.pages.integration_actions import actions_panel
from dashboard.pages.integration_health import health_panel
from dashboard.pages.integration_logs import logs_panel
from dashboard.pages.integration_metrics import metrics_panel
from dashboard.pages.integration_syncs import syncs_panel
from dashboard.pages.integration_testmode import testmode_panel
from dashboard.state.integration import EventRow, IntegrationState

S = IntegrationState
I = IntegrationState.integration  # noqa: E741


def _summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Status", weight="bold"),
                status_badge(I.status, id="integration-status"),
                rx.cond(I.test_mode, rx.badge("test mode", variant="outline")),
                rx.text(S.connector_name, color_scheme="gray"),
                wrap="wrap",
                align="center",
            ),
            rx.hstack(
                rx.text("Health", weight="bold"),
                status_badge(I.health_status, id="health-status"),
                rx.text(I.health_reason, size="2", id="health-reason"),
                wrap="wrap",
                align="center",
            ),
            rx.cond(
                I.health_checked_at != "",
                rx.text("Last checked ", I.health_checked_at, size="1", color_scheme="gray"),
            ),
            rx.cond(
                I.token_expires_at != "",
                rx.text("Token expires ", I.token_expires_at, size="1", color_scheme="gray"),
            ),
            spacing="2",
        ),
        width="100%",
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("activity", size=14),
            "Test connection",
            on_click=S.test_connection,
            loading=S.busy == "test",
            disabled=S.is_revoked,
            id="action-test",
        ),
        rx.cond(
            S.is_oauth,
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh token",
                on_click=S.refresh_token,
                loading=S.busy == "refresh",
                disabled=S.is_revoked,
                variant="soft",
                id="action-refresh",
            ),
        ),
        rx.button(
            rx.icon("key-round", size=14),
            "Rotate webhook secret",
            on_click=S.rotate_secret,
            loading=S.busy == "rotate",
            disabled=S.is_revoked,
            variant="soft",
            id="action-rotate",
        ),
        rx.cond(
            S.is_revoked,
            confirm_dialog(
                id="confirm-delete",
                trigger=rx.button(
                    rx.icon("trash-2", size=14),
                    "Delete",
                    color_scheme="red",
                    variant="soft",
                    loading=S.busy == "delete",
                    id="action-delete",
                ),
                title="Delete this integration?",
                description="Its events and logs go with it. This cannot be undone.",
                confirm_label="Delete",
                on_confirm=S.delete,
            ),
            confirm_dialog(
                id="confirm-revoke",
                trigger=rx.button(
                    rx.icon("ban", size=14),
                    "Revoke",
                    color_scheme="red",
                    variant="soft",
                    loading=S.busy == "revoke",
                    id="action-revoke",
                ),
                title="Revoke this integration?",
                description="Credentials are discarded and the webhook URL stops accepting "
                "deliveries. You can delete it afterwards.",
                confirm_label="Revoke",
                on_confirm=S.revoke,
                open=S.confirm_revoke_open,
                on_open_change=S.set_confirm_revoke,
            ),
        ),
        spacing="2",
        wrap="wrap",
    )


def _secret_once() -> rx.Component:
    return rx.cond(
        S.has_secret,
        rx.callout.root(
            rx.callout.icon(rx.icon("key-round")),
            rx.vstack(
                rx.text("Webhook signing secret — shown once", weight="bold"),
                rx.text(
                    "Copy it now into the provider's webhook settings. It will not be shown "
                    "again; rotate it if you lose it.",
                    size="2",
                ),
                rx.code(S.revealed_secret, id="signing-secret", style={"word_break": "break-all"}),
                rx.hstack(
                    copy_button(S.revealed_secret, id="copy-signing-secret"),
                    rx.button(
                        "I saved it",
                        size="1",
                        variant="soft",
                        on_click=S.dismiss_secret,
                        id="dismiss-signing-secret",
                    ),
                ),
                spacing="2",
            ),
            color_scheme="amber",
            id="signing-secret-callout",
            width="100%",
        ),
    )


def _webhook() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Webhook", size="3"),
            rx.cond(
                I.webhook_url != "",
                rx.flex(
                    rx.code(I.webhook_url, id="webhook-url", style={"word_break": "break-all"}),
                    copy_button(I.webhook_url, id="copy-webhook-url"),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text("No webhook URL (revoked or not applicable).", color_scheme="gray"),
            ),
            _registration(),
            rx.cond(
                I.setup_instructions != "",
                rx.vstack(
                    rx.hstack(
                        rx.text("Setup instructions", weight="bold", size="2"),
                        copy_button(I.setup_instructions, id="copy-setup-instructions"),
                    ),
                    rx.box(
                        rx.markdown(I.setup_instructions), id="setup-instructions", width="100%"
                    ),
                    width="100%",
                ),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _registration() -> rx.Component:
    """Only for connectors whose webhook Switchboard registers at the provider itself."""
    return rx.cond(
        I.registration_status != "",
        rx.flex(
            rx.text("Registered at the provider:", weight="bold", size="2"),
            status_badge(I.registration_status),
            rx.text(I.registration_reason, size="2", color_scheme="gray", id="registration-reason"),
            rx.cond(
                (I.registration_status != "registered") & ~S.is_revoked,
                rx.button(
                    rx.icon("webhook", size=14),
                    "Register webhook",
                    size="1",
                    variant="soft",
                    on_click=S.register_webhook,
                    loading=S.busy == "register",
                    id="action-register-webhook",
                ),
            ),
            spacing="2",
            align="center",
            wrap="wrap",
            id="webhook-registration",
        ),
    )


def _event_row(e: EventRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e.received_at, size="1", font_family="monospace")),
        rx.table.cell(rx.code(e.type)),
        rx.table.cell(status_badge(e.status)),
        rx.table.cell(e.attempts),
        rx.table.cell(rx.text(e.error, size="1", color_scheme="red")),
        on_click=S.open_event(e.id),
        cursor="pointer",
        id="event-" + e.id,
        data_event_id=e.id,
        class_name="event-row",
    )


def _events() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Recent webhook events", size="4"),
            rx.badge(
                rx.hstack(
                    rx.box(
                        width="6px",
                        height="6px",
                        border_radius="50%",
                        background_color="var(--green-9)",
                    ),
                    "live",
                ),
                variant="soft",
                color_scheme="green",
                id="live-indicator",
            ),
            align="center",
        ),
        rx.cond(
            S.event_count > 0,
            scroll_table(
                S.events,
                _event_row,
                "events-table",
                headers=("Received", "Type", "Status", "Attempts", "Error"),
            ),
            rx.text(
                "No events yet. Deliveries appear here within a couple of seconds.",
                color_scheme="gray",
                id="events-empty",
            ),
        ),
        width="100%",
    )


def _pre(text, id_: str) -> rx.Component:
    return rx.box(
        rx.el.pre(
            text,
            style={
                "white_space": "pre-wrap",
                "word_break": "break-all",
                "font_size": "12px",
                "margin": "0",
            },
        ),
        id=id_,
        max_height="50vh",
        overflow="auto",
        padding="var(--space-2)",
        background_color="var(--gray-a3)",
        border_radius="6px",
        width="100%",
    )


def _event_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.hstack(
                    rx.text("Event "),
                    rx.code(S.event_type),
                    status_badge(S.event_status),
                    wrap="wrap",
                )
            ),
            rx.cond(
                S.event_loading,
                loading_block("Loading the event…"),
                rx.cond(
                    S.event_problem != "",
                    rx.callout.root(
                        rx.callout.text(S.event_problem), color_scheme="red", id="event-error"
                    ),
                    rx.tabs.root(
                        rx.tabs.list(
                            rx.tabs.trigger("Raw", value="raw", id="tab-raw"),
                            rx.tabs.trigger("Normalized", value="normalized", id="tab-normalized"),
                        ),
                        rx.tabs.content(
                            rx.vstack(
                                rx.text("Headers", weight="bold", size="2"),
                                _pre(S.event_headers, "event-headers"),
                                rx.text("Body", weight="bold", size="2"),
                                _pre(S.event_raw_body, "event-raw-body"),
                                padding_top="var(--space-3)",
                            ),
                            value="raw",
                        ),
                        rx.tabs.content(
                            rx.box(
                                rx.cond(
                                    S.event_normalized != "",
                                    _pre(S.event_normalized, "event-normalized"),
                                    rx.text("Not normalized yet.", color_scheme="gray"),
                                ),
                                padding_top="var(--space-3)",
                            ),
                            value="normalized",
                        ),
                        default_value="raw",
                    ),
                ),
            ),
            rx.flex(
                rx.button(
                    rx.icon("rotate-ccw", size=14),
                    "Replay",
                    on_click=S.replay_event,
                    loading=S.busy == "replay",
                    disabled=S.event_loading,
                    id="event-replay",
                ),
                rx.dialog.close(
                    rx.button("Close", variant="soft", color_scheme="gray", id="event-close")
                ),
                spacing="2",
                justify="end",
                margin_top="var(--space-4)",
            ),
            max_width="min(900px, 95vw)",
            id="event-dialog",
        ),
        open=S.event_open,
        on_open_change=S.set_event_open,
    )


def _tab(label: str, value: str, icon: str) -> rx.Component:
    return rx.tabs.trigger(
        rx.hstack(rx.icon(icon, size=14), rx.text(label), spacing="1", align="center"),
        value=value,
        id="tab-" + value,
    )


def _panel_tabs() -> rx.Component:
    """Overview first; every other panel mounts (and starts its own live loop) only while
    its tab is open. The tab list scrolls sideways at phone width."""
    return rx.tabs.root(
        rx.box(
            rx.tabs.list(
                _tab("Overview", "overview", "webhook"),
                _tab("Health", "health", "heart-pulse"),
                _tab("Metrics", "metrics", "chart-line"),
                _tab("Syncs", "syncs", "refresh-ccw"),
                _tab("Logs", "logs", "scroll-text"),
                rx.cond(I.test_mode, _tab("Test mode", "testmode", "flask-conical")),
                _tab("Actions", "actions", "play"),
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.tabs.content(
            rx.vstack(_webhook(), _events(), spacing="4", width="100%"),
            value="overview",
            padding_top="var(--space-3)",
        ),
        rx.tabs.content(health_panel(), value="health", padding_top="var(--space-3)"),
        rx.tabs.content(metrics_panel(), value="metrics", padding_top="var(--space-3)"),
        rx.tabs.content(syncs_panel(), value="syncs", padding_top="var(--space-3)"),
        rx.tabs.content(logs_panel(), value="logs", padding_top="var(--space-3)"),
        rx.tabs.content(testmode_panel(), value="testmode", padding_top="var(--space-3)"),
        rx.tabs.content(actions_panel(), value="actions", padding_top="var(--space-3)"),
        default_value="overview",
        width="100%",
        id="integration-tabs",
    )


def integration_page() -> rx.Component:
    return page_layout(
        rx.cond(I.name != "", I.name, "Integration"),
        back_link("Catalog", "/", "back-to-catalog"),
        rx.cond(
            I.id != "",
            rx.link(
                rx.button(rx.icon("arrow-right-left", size=14), "Field mappings", variant="soft"),
                href="/integrations/" + I.id + "/mappings",
                id="open-field-mappings",
            ),
        ),
        rx.cond(
            S.oauth_message != "",
            info_callout(
                S.oauth_message, color=rx.cond(S.oauth_ok, "green", "red"), id="oauth-outcome"
            ),
        ),
        error_callout(S.problem_title, S.problem_detail, on_dismiss=S.dismiss_problem),
        info_callout(S.action_message, id="action-message"),
        _secret_once(),
        rx.cond(
            S.loading & (I.status == ""),
            loading_block("Loading the integration…"),
            rx.cond(
                I.status != "",
                rx.fragment(_summary(), _actions(), _panel_tabs(), _event_dialog()),
            ),
        ),
        # The live loop lives as long as this page is on screen.
        rx.box(on_mount=S.start_live, on_unmount=S.leave, display="none"),
    )
