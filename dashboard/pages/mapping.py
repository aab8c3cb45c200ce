"""/integrations/[integration_id]/mappings: the field mapping editor of one integration."""

from __future__ import annotations

import reflex as rx

from dashboard.components.feedback import error_callout, info_callout, loading_block, scroll_table
from dashboard.components.layout import back_link, page_layout
from dashboard.state.mapping import TRANSFORM_OPS, MappingState, RuleRow, TransformChip, VersionRow

S = MappingState
IMPORT_ID = "mapping-import"
# Wide screens: one line per rule; a phone stacks the fields (no sideways scrolling).
RULE_COLUMNS = rx.breakpoints(
    initial="1fr",
    md="minmax(7rem, 1.2fr) minmax(9rem, 2fr) minmax(9rem, 2fr) minmax(6rem, 1fr) auto",
)


def _source_bar() -> rx.Component:
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text("Source", weight="bold", size="2"),
                rx.select(
                    S.sources,
                    value=S.source,
                    on_change=S.choose_source,
                    id="mapping-source",
                    width="100%",
                ),
                rx.cond(
                    S.is_default,
                    rx.badge("connector default (not saved)", variant="soft", id="mapping-version"),
                    rx.badge(
                        "version ",
                        S.version,
                        variant="soft",
                        color_scheme="green",
                        id="mapping-version",
                    ),
                ),
                spacing="1",
                min_width="min(100%, 16rem)",
            ),
            rx.form(
                rx.vstack(
                    rx.text("Map another source", weight="bold", size="2"),
                    rx.hstack(
                        rx.input(
                            placeholder="event type, stream or *",
                            value=S.new_source,
                            on_change=S.set_new_source,
                            id="mapping-new-source",
                            flex="1",
                        ),
                        rx.button("Add", type="submit", variant="soft", id="mapping-add-source"),
                        width="100%",
                    ),
                    rx.cond(
                        S.new_source_error != "",
                        rx.text(S.new_source_error, color_scheme="red", size="1"),
                    ),
                    spacing="1",
                    width="100%",
                ),
                on_submit=lambda _form: S.add_source(),
                reset_on_submit=False,
                flex="1",
                min_width="min(100%, 16rem)",
            ),
            spacing="4",
            wrap="wrap",
            width="100%",
        ),
        width="100%",
    )


def _chip(t: TransformChip, position: rx.Var[int], index: rx.Var[int]) -> rx.Component:
    editing = (S.chip_rule == index) & (S.chip_position == position)
    return rx.badge(
        # The label is a button: a click opens the transform form filled with this one.
        rx.el.button(
            rx.text(
                t.label,
                font_family="monospace",
                size="1",
                overflow="hidden",
                text_overflow="ellipsis",
                white_space="nowrap",
            ),
            type="button",
            on_click=S.edit_transform(index, position),
            aria_label="Edit transform " + t.label,
            aria_pressed=editing,
            id=f"rule-{index}-transform-{position}",
            style={
                "all": "unset",
                "cursor": "pointer",
                "min_width": "0",
                "overflow": "hidden",
                "display": "inline-flex",
            },
        ),
        rx.icon_button(
            rx.icon("x", size=10),
            size="1",
            variant="ghost",
            on_click=S.remove_transform(index, position),
            aria_label="Remove transform",
            id=f"rule-{index}-remove-transform-{position}",
        ),
        variant=rx.cond(editing, "solid", "soft"),
        radius="full",
        class_name="transform-chip",
        title=t.label,
        max_width="100%",
    )


def _chip_form(index: rx.Var[int]) -> rx.Component:
    return rx.cond(
        S.chip_rule == index,
        rx.flex(
            rx.select(
                TRANSFORM_OPS, value=S.chip_op, on_change=S.set_chip_op, id="chip-op", size="1"
            ),
            rx.input(
                placeholder='its fields as JSON, e.g. {"sep": ","}',
                value=S.chip_args,
                on_change=S.set_chip_args,
                id="chip-args",
                size="1",
                flex="1",
                min_width="12rem",
            ),
            rx.button(
                rx.cond(S.chip_position >= 0, "Save transform", "Add transform"),
                size="1",
                on_click=S.add_transform,
                id="chip-add",
            ),
            rx.cond(
                S.chip_position >= 0,
                rx.button(
                    "Cancel",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.edit_transform(index, S.chip_position),
                    id="chip-cancel",
                ),
            ),
            rx.cond(S.chip_error != "", rx.text(S.chip_error, color_scheme="red", size="1")),
            spacing="2",
            wrap="wrap",
            align="center",
            width="100%",
        ),
    )


def _rule(rule: RuleRow, index: rx.Var[int]) -> rx.Component:
    error = S.rule_errors[index]
    return rx.box(
        rx.grid(
            rx.input(
                value=rule.target,
                on_change=lambda v: S.set_rule_field(index, "target", v),
                debounce_timeout=400,
                placeholder="target (customer.email)",
                aria_label="Target",
                id=f"rule-target-{index}",
                font_family="monospace",
            ),
            rx.input(
                value=rule.source,
                on_change=lambda v: S.set_rule_field(index, "source", v),
                debounce_timeout=400,
                placeholder="JMESPath (data.object.email)",
                aria_label="Source (JMESPath)",
                id=f"rule-source-{index}",
                font_family="monospace",
            ),
            rx.flex(
                rx.foreach(rule.transforms, lambda t, j: _chip(t, j, index)),
                rx.icon_button(
                    rx.icon("plus", size=12),
                    size="1",
                    variant="soft",
                    on_click=S.open_chip_form(index),
                    aria_label="Add a transform",
                    id=f"rule-add-transform-{index}",
                ),
                spacing="1",
                wrap="wrap",
                align="center",
                min_width="0",
            ),
            rx.input(
                value=rule.default,
                on_change=lambda v: S.set_rule_field(index, "default", v),
                debounce_timeout=400,
                placeholder="default",
                aria_label="Default (JSON or text)",
                id=f"rule-default-{index}",
            ),
            rx.hstack(
                rx.tooltip(
                    rx.checkbox(
                        "req.",
                        checked=rule.required,
                        on_change=lambda v: S.set_rule_required(index, v),
                        id=f"rule-required-{index}",
                    ),
                    content="Required: a missing value is a field error",
                ),
                rx.icon_button(
                    rx.icon("arrow-up", size=14),
                    size="1",
                    variant="ghost",
                    on_click=S.move_rule(index, -1),
                    disabled=index == 0,
                    aria_label="Move up",
                    id=f"rule-up-{index}",
                ),
                rx.icon_button(
                    rx.icon("arrow-down", size=14),
                    size="1",
                    variant="ghost",
                    on_click=S.move_rule(index, 1),
                    disabled=index == S.rule_count - 1,
                    aria_label="Move down",
                    id=f"rule-down-{index}",
                ),
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=S.remove_rule(index),
                    aria_label="Remove rule",
                    id=f"rule-remove-{index}",
                ),
                spacing="1",
                align="center",
            ),
            grid_template_columns=RULE_COLUMNS,
            gap="var(--space-2)",
            align_items="center",
            width="100%",
        ),
        _chip_form(index),
        rx.cond(
            error != "",
            rx.text(
                rx.icon("circle-alert", size=12),
                " ",
                error,
                color_scheme="red",
                size="1",
                id=f"rule-error-{index}",
                class_name="rule-error",
            ),
        ),
        padding="var(--space-2)",
        border_bottom="1px solid var(--gray-a4)",
        id=f"rule-{index}",
        class_name="mapping-rule",
        width="100%",
    )


def _rules() -> rx.Component:
    header = rx.grid(
        *[
            rx.text(label, size="1", weight="bold", color_scheme="gray")
            for label in ("Target", "Source (JMESPath)", "Transforms", "Default", "")
        ],
        grid_template_columns=RULE_COLUMNS,
        gap="var(--space-2)",
        display=rx.breakpoints(initial="none", md="grid"),
        padding_x="var(--space-2)",
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Rules", size="4"),
                rx.badge(S.rule_count, variant="soft"),
                rx.cond(
                    S.dirty, rx.badge("unsaved changes", color_scheme="amber", id="mapping-dirty")
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("plus", size=14),
                    "Add rule",
                    size="2",
                    variant="soft",
                    on_click=S.add_rule,
                    id="mapping-add-rule",
                ),
                width="100%",
                align="center",
                wrap="wrap",
            ),
            header,
            rx.box(rx.foreach(S.rules, _rule), width="100%", id="mapping-rules", role="table"),
            rx.cond(
                S.rule_count == 0,
                rx.text(
                    "No rules: this source maps nothing yet.",
                    color_scheme="gray",
                    id="mapping-empty",
                ),
            ),
            rx.flex(
                rx.button(
                    rx.icon("save", size=14),
                    "Save",
                    on_click=S.save,
                    loading=S.busy == "save",
                    disabled=S.busy != "",
                    id="mapping-save",
                ),
                rx.button(
                    "Discard changes",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.discard,
                    disabled=~S.dirty,
                    id="mapping-discard",
                ),
                spacing="2",
                wrap="wrap",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _preview() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Preview", size="4"),
                rx.cond(S.previewing, rx.spinner(size="1")),
                align="center",
            ),
            rx.select.root(
                rx.select.trigger(id="preview-mode"),
                rx.select.content(
                    rx.select.item("Latest stored event or record", value="latest"),
                    rx.select.item("A pasted sample", value="sample"),
                ),
                value=S.sample_mode,
                on_change=S.set_sample_mode,
            ),
            rx.cond(
                S.sample_mode == "sample",
                rx.vstack(
                    rx.text_area(
                        value=S.sample_text,
                        on_change=S.set_sample_text,
                        debounce_timeout=500,
                        placeholder='{"data": {"object": {"amount": 1999, "currency": "usd"}}}',
                        rows="8",
                        font_family="monospace",
                        id="mapping-sample",
                        width="100%",
                    ),
                    rx.cond(
                        S.sample_error != "",
                        rx.text(S.sample_error, color_scheme="red", size="1", id="sample-error"),
                    ),
                    width="100%",
                ),
            ),
            rx.cond(
                S.preview_note != "",
                rx.text(S.preview_note, size="1", color_scheme="gray", id="preview-note"),
            ),
            rx.cond(
                S.preview_json != "",
                rx.box(
                    rx.el.pre(
                        S.preview_json,
                        style={
                            "white_space": "pre-wrap",
                            "word_break": "break-all",
                            "font_size": "12px",
                            "margin": "0",
                        },
                    ),
                    id="mapping-preview",
                    max_height="50vh",
                    overflow="auto",
                    padding="var(--space-2)",
                    background_color="var(--gray-a3)",
                    border_radius="6px",
                    width="100%",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _version_row(v: VersionRow) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text("v", v.version, weight="bold")),
        rx.table.cell(rx.text(v.created_at, size="1", font_family="monospace")),
        rx.table.cell(v.rule_count, " rules"),
        rx.table.cell(
            rx.cond(v.restored_from != "", rx.text("restored from v", v.restored_from, size="1"))
        ),
        rx.table.cell(
            rx.cond(
                v.current,
                rx.badge("current", color_scheme="green", variant="soft"),
                rx.button(
                    rx.icon("history", size=12),
                    "Restore",
                    size="1",
                    variant="soft",
                    on_click=S.restore(v.version),
                    loading=S.busy == f"restore-{v.version}",
                    disabled=S.busy != "",
                    id=f"restore-{v.version}",
                ),
            )
        ),
        id=f"version-{v.version}",
    )


def _versions() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Versions", size="4"),
            rx.cond(
                S.versions.length() > 0,
                scroll_table(S.versions, _version_row, "mapping-versions"),
                rx.text(
                    "Not saved yet: the connector's default applies.",
                    color_scheme="gray",
                    size="2",
                    id="versions-empty",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def _transfer() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("download", size=14),
            "Export",
            variant="soft",
            on_click=S.export,
            loading=S.busy == "export",
            id="mapping-export",
        ),
        rx.upload.root(
            rx.button(
                rx.icon("upload", size=14),
                "Import",
                variant="soft",
                loading=S.busy == "import",
                type="button",
                title="Import an export: a .json, .yaml or .yml file",
                id="mapping-import-button",
            ),
            id=IMPORT_ID,
            accept={
                "application/json": [".json"],
                "application/yaml": [".yaml", ".yml"],
                "text/yaml": [".yaml", ".yml"],
            },
            multiple=False,
            max_files=1,
            on_drop=S.import_file(rx.upload_files(upload_id=IMPORT_ID)),
        ),
        spacing="2",
        wrap="wrap",
        align="center",
    )


def mapping_page() -> rx.Component:
    return page_layout(
        rx.cond(
            S.integration_name != "", "Field mappings · " + S.integration_name, "Field mappings"
        ),
        rx.flex(
            back_link("Back to the integration", S.back_href, "back-to-integration"),
            rx.spacer(),
            _transfer(),
            width="100%",
            align="center",
            wrap="wrap",
            spacing="2",
        ),
        error_callout(S.problem_title, S.problem_detail, on_dismiss=S.dismiss_problem),
        info_callout(S.message, color="green", id="mapping-message"),
        rx.cond(
            S.loading & (S.source == ""),
            loading_block("Loading the mappings…"),
            rx.cond(
                ~S.missing,
                rx.fragment(
                    _source_bar(),
                    _rules(),
                    rx.grid(
                        _preview(),
                        _versions(),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                ),
            ),
        ),
    )
