"""Small feedback pieces: status badge, copy button, error callout, loading, confirm dialog,
a table that scrolls in its own box."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

STATUS_COLORS = {
    "connected": "green",
    "pending": "amber",
    "needs_reauth": "orange",
    "error": "red",
    "revoked": "gray",
    # health and event statuses
    "ok": "green",
    "healthy": "green",
    "degraded": "amber",
    "failing": "red",
    "unknown": "gray",
    "auth_failed": "red",
    "rate_limited": "amber",
    "provider_down": "red",
    "network": "orange",
    "bad_request": "red",
    "misconfigured": "orange",
    "ready": "green",
    "unreachable": "red",
    "received": "blue",
    "processed": "green",
    "failed": "red",
    "dead": "red",
    # webhook registration at the provider
    "registered": "green",
    "manual": "amber",
    "removed": "gray",
}


def status_badge(status: rx.Var[str] | str, **props: Any) -> rx.Component:
    """A colored badge for an integration, health or event status."""
    status_var = rx.Var.create(status)
    color = rx.match(
        status_var,
        *[(name, color) for name, color in STATUS_COLORS.items()],
        "gray",
    )
    return rx.badge(
        status_var.to(str).replace("_", " "),
        color_scheme=color,  # type: ignore[arg-type]
        variant="soft",
        radius="full",
        data_status=status_var,
        **props,
    )


def copy_button(text: rx.Var[str] | str, id: str, label: str = "Copy") -> rx.Component:
    return rx.button(
        rx.icon("copy", size=14),
        label,
        id=id,
        size="1",
        variant="soft",
        type="button",
        on_click=[rx.set_clipboard(text), rx.toast.success("Copied to the clipboard")],
    )


def error_callout(
    title: rx.Var[str], detail: rx.Var[str], on_dismiss: Any = None, id: str = "error-callout"
) -> rx.Component:
    """Shown only while `title` is not empty; a failed call reads as words, not a blank page."""
    return rx.cond(
        title != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("triangle-alert")),
            rx.vstack(
                rx.text(title, weight="bold"),
                rx.cond(detail != "", rx.text(detail, size="2")),
                spacing="1",
            ),
            *(
                [
                    rx.icon_button(
                        rx.icon("x", size=14),
                        variant="ghost",
                        size="1",
                        on_click=on_dismiss,
                        aria_label="Dismiss",
                        margin_left="auto",
                    )
                ]
                if on_dismiss is not None
                else []
            ),
            color_scheme="red",
            role="alert",
            id=id,
            width="100%",
        ),
    )


def info_callout(text: rx.Var[str], color: Any = "blue", id: str = "info-callout") -> rx.Component:
    return rx.cond(
        text != "",
        rx.callout.root(
            rx.callout.icon(rx.icon("info")),
            rx.callout.text(text),
            color_scheme=color,
            id=id,
            width="100%",
        ),
    )


def loading_block(label: str = "Loading…", id: str = "loading") -> rx.Component:
    return rx.hstack(
        rx.spinner(size="3"),
        rx.text(label, color_scheme="gray"),
        id=id,
        align="center",
        padding_y="var(--space-4)",
    )


def skeleton_cards(count: int = 6) -> rx.Component:
    return rx.grid(
        *[rx.skeleton(rx.box(height="120px"), loading=True) for _ in range(count)],
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="3",
        width="100%",
    )


def confirm_dialog(
    *,
    id: str,
    trigger: rx.Component,
    title: str,
    description: str,
    confirm_label: str,
    on_confirm: Callable[..., Any] | Any,
    open: rx.Var[bool] | None = None,
    on_open_change: Any = None,
) -> rx.Component:
    """An alert dialog that runs `on_confirm` only after an explicit second click."""
    controlled = {} if open is None else {"open": open, "on_open_change": on_open_change}
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(trigger),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button("Cancel", variant="soft", color_scheme="gray", id=f"{id}-cancel")
                ),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label, color_scheme="red", on_click=on_confirm, id=f"{id}-confirm"
                    )
                ),
                spacing="3",
                justify="end",
                margin_top="var(--space-4)",
            ),
            id=id,
        ),
        **controlled,
    )


def scroll_table(
    items: rx.Var[list[Any]],
    row: Callable[[Any], rx.Component],
    id: str,
    headers: Sequence[str] = (),
) -> rx.Component:
    """A full-width table of `items`, one `row` each, under `headers` when given; it scrolls
    sideways in its own box, so a narrow screen never scrolls the whole page."""
    head = [rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers]))]
    return rx.box(
        rx.table.root(
            *(head if headers else []),
            rx.table.body(rx.foreach(items, row)),
            width="100%",
            id=id,
        ),
        overflow_x="auto",
        width="100%",
    )
