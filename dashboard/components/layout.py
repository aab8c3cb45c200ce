"""The page template: a sidebar with the tenant name on wide screens, a top bar with a drawer
below 768 px (works down to 390 px)."""

from __future__ import annotations

import reflex as rx

from dashboard.state.alerts import AlertBadgeState
from dashboard.state.session import AuthState

NAV = [
    ("Catalog", "/", "layout-grid", "nav-catalog"),
    ("Overview", "/overview", "gauge", "nav-overview"),
    ("Alerts", "/alerts", "bell", "nav-alerts"),
    ("Audit trail", "/audit", "scroll-text", "nav-audit"),
]


def _alerts_badge(id_: str) -> rx.Component:
    """Open alerts nobody acknowledged yet; hidden at zero."""
    return rx.cond(
        AlertBadgeState.badge != "",
        rx.badge(
            AlertBadgeState.badge,
            color_scheme="red",
            variant="solid",
            radius="full",
            id=id_,
            aria_label=AlertBadgeState.badge + " open alerts to acknowledge",
        ),
    )


def _nav_links(where: str) -> rx.Component:
    return rx.vstack(
        *[
            rx.link(
                rx.hstack(
                    rx.icon(icon, size=16),
                    rx.text(label, size="3"),
                    *([_alerts_badge(f"alerts-badge-{where}")] if id_ == "nav-alerts" else []),
                    align="center",
                ),
                href=href,
                id=id_,
                underline="none",
                width="100%",
                padding_y="var(--space-2)",
            )
            for label, href, icon, id_ in NAV
        ],
        spacing="1",
        width="100%",
    )


def _tenant_block() -> rx.Component:
    return rx.vstack(
        rx.text("Signed in as", size="1", color_scheme="gray"),
        rx.text(AuthState.tenant_name, weight="bold", id="tenant-name", trim="both"),
        rx.text(AuthState.key_prefix, size="1", color_scheme="gray", font_family="monospace"),
        rx.button(
            rx.icon("log-out", size=14),
            "Sign out",
            on_click=AuthState.sign_out,
            variant="soft",
            size="1",
            id="sign-out",
        ),
        spacing="1",
        width="100%",
    )


def _brand() -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("cable", size=20), rx.heading("Switchboard", size="4"), align="center"),
        href="/",
        underline="none",
        color="inherit",
    )


def sidebar() -> rx.Component:
    return rx.box(
        rx.vstack(
            _brand(),
            rx.divider(),
            _nav_links("sidebar"),
            rx.spacer(),
            _tenant_block(),
            height="100%",
            spacing="4",
        ),
        display=rx.breakpoints(initial="none", md="block"),
        width="240px",
        min_width="240px",
        height="100vh",
        position="sticky",
        top="0",
        padding="var(--space-4)",
        border_right="1px solid var(--gray-a5)",
        id="sidebar",
    )


def top_bar() -> rx.Component:
    return rx.hstack(
        _brand(),
        rx.spacer(),
        _alerts_badge("alerts-badge-top"),
        rx.drawer.root(
            rx.drawer.trigger(
                rx.icon_button(
                    rx.icon("menu"), variant="ghost", id="nav-toggle", aria_label="Open navigation"
                )
            ),
            rx.drawer.overlay(z_index="5"),
            rx.drawer.portal(
                rx.drawer.content(
                    rx.vstack(
                        rx.drawer.close(
                            rx.icon_button(
                                rx.icon("x"), variant="ghost", aria_label="Close navigation"
                            )
                        ),
                        _nav_links("drawer"),
                        rx.divider(),
                        _tenant_block(),
                        spacing="4",
                        padding="var(--space-4)",
                    ),
                    top="auto",
                    right="auto",
                    height="100%",
                    width="80%",
                    max_width="300px",
                    background_color="var(--color-panel-solid)",
                    id="nav-drawer",
                )
            ),
            direction="left",
        ),
        display=rx.breakpoints(initial="flex", md="none"),
        width="100%",
        padding="var(--space-3)",
        align="center",
        border_bottom="1px solid var(--gray-a5)",
        id="top-bar",
    )


def page_layout(title: rx.Var[str] | str, *children: rx.Component, actions=None) -> rx.Component:
    """Wrap a signed-in page: navigation, a heading, then the page's content."""
    return rx.flex(
        sidebar(),
        rx.box(
            top_bar(),
            rx.vstack(
                rx.hstack(
                    rx.heading(title, size="6", id="page-title"),
                    rx.spacer(),
                    *([actions] if actions is not None else []),
                    width="100%",
                    align="center",
                    wrap="wrap",
                ),
                *children,
                spacing="4",
                padding=rx.breakpoints(initial="var(--space-3)", md="var(--space-6)"),
                width="100%",
                max_width="1200px",
            ),
            flex="1",
            min_width="0",
        ),
        # Starts the alerts badge's polling: one loop per tab, kept across pages.
        rx.box(on_mount=AlertBadgeState.start_badge, display="none"),
        direction="row",
        width="100%",
        min_height="100vh",
    )


def back_link(label: str, href: rx.Var[str] | str, id: str) -> rx.Component:
    """The way back up, above a page's content ("Catalog", "Back to the integration")."""
    return rx.link(rx.hstack(rx.icon("arrow-left", size=14), rx.text(label)), href=href, id=id)
