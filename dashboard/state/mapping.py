"""The mapping editor: one source's rules as an editable draft, a live preview of what they
produce, the source's saved versions, and export/import of every saved source.

The draft is what the person is editing; nothing reaches the api until Save. Each change
re-runs the preview (`POST …/mapping/preview`) on the latest stored event or record of the
source, or on a pasted sample, and shows every problem at its rule: the api's 422 names the
rule and field (`rules.2.source`), a rule that fails at runtime comes back in `errors`.
Rules still missing a target or a source are left out of the preview and marked at the rule,
so adding a rule does not blank the preview while it is being filled in.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from dashboard.client import (
    ApiError,
    Event,
    Mapping,
    MappingVersion,
    PreviewResult,
    Rule,
    SwitchboardClient,
)
from dashboard.state.session import AuthState, ProblemMixin

ALL_SOURCES = "*"
VERSIONS_LIMIT = 50
IMPORT_MAX_BYTES = 2_000_000
# Files named so are sent as they are, as YAML (`?format=yaml`); any other is read as JSON.
YAML_SUFFIXES = (".yaml", ".yml")
# The transform ops the api knows (docs/api.md "Field mappings"), offered in the editor.
TRANSFORM_OPS = [
    "trim",
    "lower",
    "upper",
    "to_int",
    "to_float",
    "to_bool",
    "to_string",
    "parse_datetime",
    "regex_extract",
    "regex_replace",
    "split",
    "join",
    "lookup",
    "template",
    "coalesce",
    "minor_to_major",
]
# The api's source pattern (backend/mappings/schemas.py SOURCE_PATTERN).
SOURCE_RE = re.compile(r"^(\*|[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,199})$")
_FIELD_RE = re.compile(r"^rules\.(\d+)(?:\.(.+))?$")
INCOMPLETE = "Give the rule a target and a source."
NO_SAMPLE_HINT = "Nothing stored yet for this source: paste a sample payload to preview."


@dataclass
class TransformChip:
    op: str = ""
    args: str = ""  # the op's own fields as compact JSON ("" when it has none)
    label: str = ""


@dataclass
class RuleRow:
    key: str = ""  # stable across reorders (React keys)
    target: str = ""
    source: str = ""
    transforms: list[TransformChip] = field(default_factory=list)
    default: str = ""  # JSON when it parses, else text; "" for none
    required: bool = False


@dataclass
class VersionRow:
    version: int = 0
    created_at: str = ""
    current: bool = False
    restored_from: str = ""
    rule_count: int = 0


def _key() -> str:
    return secrets.token_hex(4)


def chip(transform: dict[str, Any]) -> TransformChip:
    op = str(transform.get("op", ""))
    params = {k: v for k, v in transform.items() if k != "op"}
    args = json.dumps(params, ensure_ascii=False, separators=(",", ":")) if params else ""
    shown = ", ".join(
        f"{k}={v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
        for k, v in params.items()
    )
    label = f"{op}({shown})" if shown else op
    return TransformChip(op=op, args=args, label=label if len(label) <= 60 else label[:57] + "…")


def default_text(rule: Rule) -> str:
    if "default" not in rule or rule.get("default") is None:
        return ""
    value = rule["default"]
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def rule_row(rule: Rule) -> RuleRow:
    return RuleRow(
        key=_key(),
        target=str(rule.get("target", "")),
        source=str(rule.get("source", "")),
        transforms=[chip(t) for t in rule.get("transforms") or []],
        default=default_text(rule),
        required=bool(rule.get("required", False)),
    )


def parse_default(text: str) -> Any:
    """The default a person typed: a JSON value when it reads as one, else the text."""
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def to_rule(row: RuleRow) -> Rule:
    """A draft row as the api's Rule (only the fields that differ from the defaults)."""
    rule: Rule = {"target": row.target.strip(), "source": row.source.strip()}
    if row.transforms:
        rule["transforms"] = [
            {"op": t.op, **(json.loads(t.args) if t.args else {})} for t in row.transforms
        ]
    default = parse_default(row.default)
    if default is not None:
        rule["default"] = default
    if row.required:
        rule["required"] = True
    return rule


def version_row(v: MappingVersion) -> VersionRow:
    restored = v.get("restored_from")
    return VersionRow(
        version=int(v.get("version", 0)),
        created_at=str(v.get("created_at") or ""),
        current=bool(v.get("current", False)),
        restored_from=str(restored) if restored is not None else "",
        rule_count=len(v.get("rules") or []),
    )


def errors_at_rules(
    field_errors: dict[str, str], count: int, positions: list[int] | None = None
) -> tuple[list[str], list[str]]:
    """Split an api 422's field errors into one message per draft rule, and the rest.

    `positions[i]` is the draft index of the i-th rule sent (the preview leaves incomplete
    rules out); without it rule i is draft rule i.
    """
    at_rule = [""] * count
    other: list[str] = []
    for name, message in field_errors.items():
        match = _FIELD_RE.match(name)
        index = int(match.group(1)) if match else -1
        if positions is not None and 0 <= index < len(positions):
            index = positions[index]
        if match and 0 <= index < count:
            where = match.group(2) or "rule"
            text = f"{where}: {message}"
            at_rule[index] = f"{at_rule[index]} {text}".strip() if at_rule[index] else text
        else:
            other.append(f"{name}: {message}")
    return at_rule, other


def latest_source(events: list[Event], connector_id: str) -> str:
    """The source of the newest stored event: the editor opens where there is data."""
    if not events:
        return ""
    kind = str(events[0].get("type") or "")
    return kind.removeprefix(f"{connector_id}.") if connector_id else kind


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def export_filename(connector: str, integration_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"mappings-{connector or 'integration'}-{integration_id[:8]}-{stamp}.json"


class MappingState(ProblemMixin, AuthState):
    integration_id: str = ""
    integration_name: str = ""
    connector_id: str = ""
    loading: bool = False
    missing: bool = False
    # Every source with the mapping in force: source -> (version, rules as the api has them).
    sources: list[str] = []
    _saved: dict[str, Mapping] = {}
    source: str = ""
    version: int = 0
    new_source: str = ""
    new_source_error: str = ""
    # The draft.
    rules: list[RuleRow] = []
    rule_errors: list[str] = []
    dirty: bool = False  # the draft differs from the rules in force
    _baseline: str = ""
    # The transform form: on rule `chip_rule`, adding a transform (`chip_position` -1) or
    # editing the one at `chip_position` in place (op + its fields as JSON).
    chip_rule: int = -1
    chip_position: int = -1
    chip_op: str = "trim"
    chip_args: str = ""
    chip_error: str = ""
    # Preview.
    sample_mode: str = "latest"  # latest | sample
    sample_text: str = ""
    sample_error: str = ""
    preview_json: str = ""
    preview_note: str = ""
    previewing: bool = False
    _preview_seq: int = 0
    # Versions, save, import.
    versions: list[VersionRow] = []
    message: str = ""

    @rx.var
    def rule_count(self) -> int:
        return len(self.rules)

    @rx.var
    def error_count(self) -> int:
        return sum(1 for e in self.rule_errors if e)

    @rx.var
    def is_default(self) -> bool:
        return self.version == 0

    @rx.var
    def back_href(self) -> str:
        return f"/integrations/{self.integration_id}"

    # -- loading ----------------------------------------------------------------------------

    @rx.event
    async def load(self):
        integration_id = self._route_param("integration_id")
        chosen = ""

        def prepare() -> None:
            if integration_id != self.integration_id:
                self.source = ""
                self.sample_text = ""
                self.sample_mode = "latest"
            self.integration_id = integration_id
            self.missing = False
            self.message = ""

        async def call(api: SwitchboardClient) -> None:
            nonlocal chosen
            integration = await api.get_integration(integration_id)
            mappings = await api.list_mappings(integration_id)
            latest = await api.list_events(integration_id, limit=1)
            self.integration_name = str(integration.get("name") or "")
            self.connector_id = str(integration.get("connector_id") or "")
            self._take_mappings(mappings)
            chosen = self.source or latest_source(latest["items"], self.connector_id)
            if chosen not in self._saved:
                chosen = self._first_source()

        async for update in self._api_load(
            call, prepare=prepare, note_missing=True, then=lambda: self._open_source(chosen)
        ):
            yield update

    def _take_mappings(self, mappings: list[Mapping]) -> None:
        self._saved = {m["source"]: m for m in mappings}
        self.sources = sorted(self._saved, key=lambda s: (s != ALL_SOURCES, s))

    def _first_source(self) -> str:
        return self.sources[0] if self.sources else ALL_SOURCES

    def _set_draft(self, rules: list[Rule]) -> None:
        self.rules = [rule_row(r) for r in rules]
        self.rule_errors = [""] * len(self.rules)
        self._baseline = self._draft_json()
        self.dirty = False
        self._close_chip_form()

    def _draft_json(self) -> str:
        return json.dumps([to_rule(r) for r in self.rules], sort_keys=True)

    async def _open_source(self, source: str):
        """Show `source`: its rules in force as the draft, its versions, a fresh preview."""
        mapping = self._saved.get(source)
        self.source = source
        self.version = int(mapping["version"]) if mapping else 0
        self._set_draft(list(mapping["rules"]) if mapping else [])
        self.preview_json = ""
        self.preview_note = ""
        yield
        async for update in self._load_versions():
            yield update
        async for update in self._run_preview():
            yield update

    async def _load_versions(self):
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        try:
            async with api:
                page = await api.list_mapping_versions(
                    self.integration_id, self.source, limit=VERSIONS_LIMIT
                )
        except ApiError as exc:
            self.versions = []
            yield self._show_problem(exc)
            return
        self.versions = [version_row(v) for v in page["items"]]

    @rx.event
    async def choose_source(self, source: str):
        if source == self.source:
            return
        self.message = ""
        async for update in self._open_source(source):
            yield update

    @rx.event
    def set_new_source(self, value: str):
        self.new_source = value
        self.new_source_error = ""

    @rx.event
    async def add_source(self):
        """Start a mapping for a source that has none yet (an event type, a stream, `*`)."""
        name = self.new_source.strip()
        if not SOURCE_RE.match(name):
            self.new_source_error = (
                "An event type (issues.opened), a sync stream (customers) or * — letters, "
                "digits and _ . : / -"
            )
            return
        self.new_source, self.new_source_error = "", ""
        if name not in self.sources:
            self.sources = [*self.sources, name]
        async for update in self._open_source(name):
            yield update

    # -- editing the draft ------------------------------------------------------------------

    def _edited(self) -> Any:
        self.message = ""
        self.dirty = self._draft_json() != self._baseline
        return MappingState.refresh_preview

    @rx.event
    def set_rule_field(self, index: int, name: str, value: str):
        if not 0 <= index < len(self.rules) or name not in ("target", "source", "default"):
            return None
        row = self.rules[index]
        setattr(row, name, value)
        self.rules = list(self.rules)
        return self._edited()

    @rx.event
    def set_rule_required(self, index: int, value: bool):
        if not 0 <= index < len(self.rules):
            return None
        self.rules[index].required = bool(value)
        self.rules = list(self.rules)
        return self._edited()

    @rx.event
    def add_rule(self):
        self.rules = [*self.rules, RuleRow(key=_key())]
        self.rule_errors = [*self.rule_errors, INCOMPLETE]
        self.message = ""
        self.dirty = True

    @rx.event
    def remove_rule(self, index: int):
        if not 0 <= index < len(self.rules):
            return None
        self.rules = [r for i, r in enumerate(self.rules) if i != index]
        self.rule_errors = [e for i, e in enumerate(self.rule_errors) if i != index]
        self._close_chip_form()
        return self._edited()

    @rx.event
    def move_rule(self, index: int, step: int):
        other = index + step
        if not (0 <= index < len(self.rules) and 0 <= other < len(self.rules)):
            return None
        rules, errors = list(self.rules), list(self.rule_errors)
        rules[index], rules[other] = rules[other], rules[index]
        errors[index], errors[other] = errors[other], errors[index]
        self.rules, self.rule_errors = rules, errors
        self._close_chip_form()
        return self._edited()

    @rx.event
    def remove_transform(self, index: int, position: int):
        if not 0 <= index < len(self.rules):
            return None
        row = self.rules[index]
        row.transforms = [t for i, t in enumerate(row.transforms) if i != position]
        self.rules = list(self.rules)
        if self.chip_rule == index and self.chip_position >= 0:
            self._close_chip_form()  # the chip being edited moved or is gone
        return self._edited()

    def _close_chip_form(self) -> None:
        self.chip_rule, self.chip_position = -1, -1
        self.chip_args, self.chip_error = "", ""

    @rx.event
    def open_chip_form(self, index: int):
        """The "+" of a rule: a form to add a transform (a second click closes it)."""
        if self.chip_rule == index and self.chip_position < 0:
            self._close_chip_form()
            return
        self.chip_rule, self.chip_position = index, -1
        self.chip_op, self.chip_args, self.chip_error = "trim", "", ""

    @rx.event
    def edit_transform(self, index: int, position: int):
        """A click on a chip: the same form, filled with that transform, to change it in
        place (a second click on the chip closes it)."""
        if not 0 <= index < len(self.rules):
            return
        transforms = self.rules[index].transforms
        if not 0 <= position < len(transforms):
            return
        if (self.chip_rule, self.chip_position) == (index, position):
            self._close_chip_form()
            return
        current = transforms[position]
        self.chip_rule, self.chip_position = index, position
        self.chip_op, self.chip_args, self.chip_error = current.op, current.args, ""

    @rx.event
    def set_chip_op(self, value: str):
        self.chip_op = value
        self.chip_error = ""

    @rx.event
    def set_chip_args(self, value: str):
        self.chip_args = value
        self.chip_error = ""

    @rx.event
    def add_transform(self):
        index = self.chip_rule
        if not 0 <= index < len(self.rules) or self.chip_op not in TRANSFORM_OPS:
            return None
        text = self.chip_args.strip()
        params: Any = {}
        if text:
            try:
                params = json.loads(text)
            except json.JSONDecodeError as exc:
                self.chip_error = f"The fields are not JSON: {exc.msg}"
                return None
            if not isinstance(params, dict) or "op" in params:
                self.chip_error = 'Give the fields as a JSON object, e.g. {"sep": ","}'
                return None
        row = self.rules[index]
        made = chip({"op": self.chip_op, **params})
        position = self.chip_position
        if 0 <= position < len(row.transforms):
            row.transforms = [made if i == position else t for i, t in enumerate(row.transforms)]
        else:
            row.transforms = [*row.transforms, made]
        self.rules = list(self.rules)
        self._close_chip_form()
        return self._edited()

    @rx.event
    async def discard(self):
        """Back to the rules in force for this source."""
        mapping = self._saved.get(self.source)
        self._set_draft(list(mapping["rules"]) if mapping else [])
        self.message = ""
        async for update in self._run_preview():
            yield update

    # -- preview ----------------------------------------------------------------------------

    @rx.event
    def set_sample_mode(self, value: str):
        self.sample_mode = "sample" if value == "sample" else "latest"
        return MappingState.refresh_preview

    @rx.event
    def set_sample_text(self, value: str):
        self.sample_text = value
        return MappingState.refresh_preview

    def _sample(self) -> tuple[dict[str, Any] | None, str]:
        if self.sample_mode != "sample":
            return None, ""
        text = self.sample_text.strip()
        if not text:
            return None, "Paste a JSON object to preview against."
        try:
            sample = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, f"The sample is not JSON: {exc.msg} (line {exc.lineno})"
        if not isinstance(sample, dict):
            return None, "The sample must be a JSON object."
        return sample, ""

    @rx.event
    async def refresh_preview(self):
        async for update in self._run_preview():
            yield update

    async def _run_preview(self):
        """Preview the complete rules of the draft; show each problem at its rule."""
        sample, sample_error = self._sample()
        self.sample_error = sample_error
        positions = [i for i, r in enumerate(self.rules) if r.target.strip() and r.source.strip()]
        incomplete = ["" if i in positions else INCOMPLETE for i in range(len(self.rules))]
        if sample_error:
            self.rule_errors = incomplete
            self.preview_json, self.preview_note = "", ""
            return
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        try:
            rules = [to_rule(self.rules[i]) for i in positions]
        except ValueError:
            self.rule_errors = incomplete
            return
        self._preview_seq += 1
        seq = self._preview_seq
        self.previewing = True
        yield
        try:
            async with api:
                answer: PreviewResult = await api.preview_mapping(
                    self.integration_id, self.source, rules, sample
                )
        except ApiError as exc:
            if seq != self._preview_seq:
                return
            self.previewing = False
            if exc.unauthorized:
                yield self._show_problem(exc)
                return
            at_rule, other = errors_at_rules(exc.field_errors, len(self.rules), positions)
            self.rule_errors = [a or b for a, b in zip(at_rule, incomplete, strict=True)]
            if "sample" in exc.field_errors and self.sample_mode == "latest":
                self.preview_note = NO_SAMPLE_HINT
                self.preview_json = ""
            elif other or not exc.field_errors:
                self.preview_note = "; ".join(other) or str(exc)
            else:
                self.preview_note = "Fix the marked rules to see the preview."
            return
        if seq != self._preview_seq:
            return
        self.previewing = False
        errors = list(incomplete)
        for error in answer.get("errors") or []:
            index = int(error.get("rule", -1))
            if 0 <= index < len(positions):
                at = positions[index]
                text = str(error.get("message") or "failed")
                errors[at] = f"{errors[at]} {text}".strip() if errors[at] else text
        self.rule_errors = errors
        self.preview_json = pretty(answer.get("result") or {})
        self.preview_note = (
            "Preview of the pasted sample."
            if sample is not None
            else "Preview of the latest stored event or record of this source."
        )

    # -- save, versions -------------------------------------------------------------------

    @rx.event
    async def save(self):
        if self.busy:
            return
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        self.busy = "save"
        self.message = ""
        self._clear_problem()
        yield
        rules = [to_rule(r) for r in self.rules]
        try:
            async with api:
                mapping = await api.save_mapping(self.integration_id, self.source, rules)
        except ApiError as exc:
            self.busy = ""
            if exc.field_errors:
                at_rule, other = errors_at_rules(exc.field_errors, len(self.rules))
                self.rule_errors = at_rule
                self.problem_title = "The mapping was not saved"
                self.problem_detail = "; ".join(other) or "Fix the rules marked below."
                return
            yield self._show_problem(exc)
            if not self.problem_title.startswith("The mapping"):
                self.problem_title = f"The mapping was not saved: {self.problem_title}"
            return
        self.busy = ""
        self._saved[self.source] = mapping
        self._saved = dict(self._saved)
        if self.source not in self.sources:
            self.sources = [*self.sources, self.source]
        self.version = int(mapping["version"])
        self._set_draft(list(mapping["rules"]))
        self.message = f"Saved {self.source} as version {self.version}."
        async for update in self._reload_saved():
            yield update

    def _action_message(self, text: str) -> None:
        self.message = text

    async def _reload_saved(self):
        """After a save or a restore: the versions list and the preview of the new draft."""
        async for update in self._load_versions():
            yield update
        async for update in self._run_preview():
            yield update

    @rx.event
    async def restore(self, version: int):
        async def call(api: SwitchboardClient) -> str:
            mapping = await api.restore_mapping_version(
                self.integration_id, self.source, int(version)
            )
            self._saved = {**self._saved, self.source: mapping}
            self.version = int(mapping["version"])
            self._set_draft(list(mapping["rules"]))
            return f"Restored version {version} as version {self.version}."

        async for update in self._api_action(f"restore-{version}", call, then=self._reload_saved):
            yield update

    # -- export, import -------------------------------------------------------------------

    @rx.event
    async def export(self):
        if self.busy:
            return
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        self.busy = "export"
        self._clear_problem()
        yield
        try:
            async with api:
                document = await api.export_mappings(self.integration_id)
        except ApiError as exc:
            self.busy = ""
            yield self._show_problem(exc)
            return
        self.busy = ""
        count = len(document.get("mappings") or [])
        self.message = f"Exported {count} saved source{'s' if count != 1 else ''}."
        yield rx.download(
            data=pretty(document),
            filename=export_filename(self.connector_id, self.integration_id),
            mime_type="application/json",
        )

    @rx.event
    async def import_file(self, files: list[rx.UploadFile]):
        """Import an export document: every source saved, or none. A .json file is read
        here (a clear message when it is not JSON); a .yaml/.yml file is sent to the api as
        it is, as YAML, and the api says where it is malformed."""
        if not files:
            return
        self.message = ""
        self._clear_problem()
        upload = files[0]
        raw = await upload.read()
        if len(raw) > IMPORT_MAX_BYTES:
            self.problem_title = "The file was not imported"
            self.problem_detail = f"It is over {IMPORT_MAX_BYTES // 1_000_000} MB."
            return
        name = str(upload.name or "")
        as_yaml = name.lower().endswith(YAML_SUFFIXES)
        document: Any = None
        if not as_yaml:
            try:
                document = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as exc:
                self.problem_title = "The file was not imported"
                self.problem_detail = (
                    f"{name or 'The file'} is not a JSON export: {exc} "
                    "(a YAML export is read from a .yaml or .yml file)"
                )
                return
        api = self._api()
        if api is None:
            yield self._to_login()
            return
        self.busy = "import"
        yield
        try:
            async with api:
                mappings = await api.import_mappings(
                    self.integration_id, document, yaml=raw if as_yaml else None
                )
                everything = await api.list_mappings(self.integration_id)
        except ApiError as exc:
            self.busy = ""
            yield self._show_problem(exc)
            self.problem_title = "The file was not imported: nothing was saved"
            if exc.field_errors:
                self.problem_detail = "; ".join(f"{k}: {v}" for k, v in exc.field_errors.items())
            return
        self.busy = ""
        self._take_mappings(everything)
        names = ", ".join(m["source"] for m in mappings)
        self.message = (
            f"Imported {len(mappings)} source{'s' if len(mappings) != 1 else ''}: {names}."
        )
        chosen = self.source if self.source in self._saved else self._first_source()
        async for update in self._open_source(chosen):
            yield update
