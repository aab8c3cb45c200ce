"""Badges of the alerts and overview pages: alert severity and assessed health state."""

from __future__ import annotations

from typing import Any

import reflex as rx

SEVERITY_COLORS = {"critical": "red", "warning": "amber", "info": "blue"}
HEALTH_COLORS = {
    "healthy": "green",
    "degraded": "amber",
    "failing": "red",
    "needs_reauth": "orange",
}


def _colored(value: rx.Var[str] | str, colors: dict[str, str], **props: Any) -> rx.Component:
    var = rx.Var.create(value)
    return rx.badge(
        var.to(str).replace("_", " "),
        color_scheme=rx.match(var, *colors.items(), "gray"),  # type: ignore[arg-type]
        variant="soft",
        radius="full",
        **props,
    )


def severity_badge(severity: rx.Var[str] | str, **props: Any) -> rx.Component:
    return _colored(severity, SEVERITY_COLORS, data_severity=severity, **props)


def health_badge(state: rx.Var[str] | str, **props: Any) -> rx.Component:
    return _colored(state, HEALTH_COLORS, data_health=state, **props)
