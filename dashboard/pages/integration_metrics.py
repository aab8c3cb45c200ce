"""The integration page's metrics panel: events, errors, records synced and provider latency over
1 h / 24 h / 7 d, drawn with Recharts."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, loading_block
from dashboard.state.integration_metrics import WINDOWS, MetricsPanelState, TotalTile

S = MetricsPanelState
CHART_HEIGHT = 220


def _window_button(window: str) -> rx.Component:
    return rx.button(
        window,
        size="1",
        variant=rx.cond(S.window == window, "solid", "soft"),
        on_click=S.choose_window(window),
        id="metrics-window-" + window,
    )


def _tile(t: TotalTile) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(t.label, size="1", color_scheme="gray"),
            rx.text(t.value, size="5", weight="bold", id="metric-total-" + t.key),
            spacing="1",
        ),
        min_width="120px",
    )


_COLORS = ["var(--accent-9)", "var(--red-9)", "var(--amber-9)", "var(--green-9)"]


def _lines(*series: tuple[str, str]) -> list[rx.Component]:
    """One line per (counter, label); at most as many as there are colors."""
    return [
        rx.recharts.line(data_key=key, name=label, stroke=color, dot=False, type_="monotone")
        for (key, label), color in zip(series, _COLORS, strict=False)
    ]


def _chart(title: str, id_: str, *series: tuple[str, str]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text(title, weight="bold", size="2"),
            rx.recharts.line_chart(
                *_lines(*series),
                rx.recharts.x_axis(data_key="at", font_size=10, min_tick_gap=24),
                rx.recharts.y_axis(allow_decimals=False, width=32, font_size=10),
                rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                data=S.series,
                width="100%",
                height=CHART_HEIGHT,
            ),
            width="100%",
        ),
        id=id_,
        class_name="metrics-chart",
        width="100%",
    )


def _latency_chart() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Latency (ms, upper bound of the bucket)", weight="bold", size="2"),
            rx.cond(
                S.has_latency,
                rx.recharts.bar_chart(
                    rx.recharts.bar(data_key="ms", name="ms", fill="var(--accent-9)"),
                    rx.recharts.x_axis(data_key="name", font_size=10),
                    rx.recharts.y_axis(width=40, font_size=10),
                    rx.recharts.graphing_tooltip(),
                    data=S.latency,
                    width="100%",
                    height=CHART_HEIGHT,
                ),
                rx.text(
                    "No provider call or delivery in this window.", color_scheme="gray", size="2"
                ),
            ),
            width="100%",
        ),
        id="chart-latency",
        class_name="metrics-chart",
        width="100%",
    )


def metrics_panel() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.heading("Metrics", size="4"),
            rx.spacer(),
            *[_window_button(w) for w in WINDOWS],
            rx.cond(S.panel_loading, rx.spinner(size="1")),
            align="center",
            width="100%",
            wrap="wrap",
        ),
        error_callout(S.problem_title, S.problem_detail, S.dismiss_problem, id="metrics-error"),
        rx.cond(
            S.panel_loading & (S.totals.length() == 0),
            loading_block("Loading metrics…", id="metrics-loading"),
            rx.vstack(
                rx.flex(rx.foreach(S.totals, _tile), spacing="2", wrap="wrap", id="metric-totals"),
                rx.grid(
                    _chart(
                        "Events",
                        "chart-events",
                        ("webhooks_received", "received"),
                        ("events_processed", "processed"),
                        ("events_failed", "failed"),
                    ),
                    _chart(
                        "Errors",
                        "chart-errors",
                        ("api_errors", "provider errors"),
                        ("events_failed", "failed events"),
                        ("webhooks_rejected", "rejected"),
                        ("rate_limited", "rate limited"),
                    ),
                    _chart("Records synced", "chart-records", ("records_synced", "records")),
                    _latency_chart(),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="3",
                    width="100%",
                ),
                width="100%",
            ),
        ),
        rx.box(on_mount=S.start, on_unmount=S.stop, display="none"),
        spacing="3",
        width="100%",
        id="metrics-panel",
    )
