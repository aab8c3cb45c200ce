"""/audit: the tenant's audit trail."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, scroll_table
from dashboard.components.layout import page_layout
from dashboard.state.audit import AuditRow, AuditState


def _row(e: AuditRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(e.created_at, size="1", font_family="monospace")),
        rx.table.cell(e.actor),
        rx.table.cell(rx.code(e.action)),
        rx.table.cell(e.target),
        rx.table.cell(
            rx.text(e.details, size="1", font_family="monospace", style={"word_break": "break-all"})
        ),
        id="audit-" + e.id,
    )


def audit_page() -> rx.Component:
    return page_layout(
        "Audit trail",
        error_callout(
            AuditState.problem_title,
            AuditState.problem_detail,
            on_dismiss=AuditState.dismiss_problem,
        ),
        scroll_table(
            AuditState.entries,
            _row,
            "audit-table",
            headers=("When", "Who", "Action", "Target", "Details"),
        ),
        rx.cond(
            (AuditState.entries.length() == 0) & ~AuditState.loading,
            rx.text("No audit entries.", color_scheme="gray", id="audit-empty"),
        ),
        rx.cond(
            AuditState.has_more | AuditState.loading,
            rx.button(
                "Load more",
                on_click=AuditState.load_more,
                loading=AuditState.loading,
                disabled=~AuditState.has_more,
                variant="soft",
                id="audit-load-more",
            ),
        ),
    )
