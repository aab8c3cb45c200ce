"""The mapping editor's state: the draft, the live preview with errors at the rule, save,
versions and restore, export and import — the api faked at the network boundary."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import reflex as rx
from dashboard_testkit import FakeApi, make_state, problem, run, signed_in

from dashboard.state.mapping import (
    INCOMPLETE,
    NO_SAMPLE_HINT,
    MappingState,
    RuleRow,
    errors_at_rules,
    rule_row,
    to_rule,
)

BASE = "/api/integrations/i1/mapping"
CHARGE_RULES = [
    {
        "target": "amount",
        "source": "data.object.amount",
        "transforms": [{"op": "minor_to_major", "currency": "data.object.currency"}],
    },
    {"target": "currency", "source": "data.object.currency", "transforms": [{"op": "upper"}]},
]
PAYLOAD = {"data": {"object": {"amount": 1999, "currency": "usd", "customer": "cus_1"}}}


def fake_preview(request: httpx.Request) -> httpx.Response:
    """Applies plain `a.b.c` sources to the payload the way the api would (enough here)."""
    body = json.loads(request.content)
    document = body.get("sample") or PAYLOAD
    result: dict[str, Any] = {}
    errors = []
    for index, rule in enumerate(body["rules"]):
        value: Any = document
        for part in rule["source"].split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is None and rule.get("required"):
            errors.append({"rule": index, "target": rule["target"], "message": "required"})
        result[rule["target"]] = value if value is not None else rule.get("default")
    return httpx.Response(200, json={"result": result, "errors": errors})


def serve(
    fake_api: FakeApi, saved: list[dict[str, Any]] | None = None, latest_type: str = ""
) -> None:
    fake_api.on(
        "GET",
        "/api/integrations/i1",
        {"id": "i1", "name": "Billing", "connector_id": "stripe", "status": "connected"},
    )
    defaults = [
        {"source": "charge.succeeded", "rules": CHARGE_RULES, "version": 0, "updated_at": None}
    ]
    fake_api.on("GET", BASE, {"items": [*(saved or []), *defaults]})
    fake_api.on("GET", BASE + "/versions", {"items": [], "next_cursor": None})
    fake_api.on("POST", BASE + "/preview", fake_preview)
    events = [{"id": "e1", "type": latest_type, "status": "processed"}] if latest_type else []
    fake_api.on("GET", "/api/integrations/i1/events", {"items": events, "next_cursor": None})


def sent(fake_api: FakeApi, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in fake_api.requests if r.url.path == path and r.content]


async def loaded(fake_api: FakeApi) -> Any:
    state = signed_in(
        make_state(MappingState, "/integrations/i1/mappings", params={"integration_id": "i1"})
    )
    await run(state.load())
    return state


async def test_load_shows_the_mapping_in_force_and_previews_the_latest_payload(
    fake_api: FakeApi,
) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    assert state.integration_name == "Billing" and state.connector_id == "stripe"
    assert state.sources == ["charge.succeeded"] and state.source == "charge.succeeded"
    assert state.is_default and not state.dirty
    assert [r.target for r in state.rules] == ["amount", "currency"]
    assert [t.label for t in state.rules[0].transforms] == [
        "minor_to_major(currency=data.object.currency)"
    ]
    # No sample sent: the api previews its latest stored event of the source.
    assert "sample" not in sent(fake_api, BASE + "/preview")[0]
    assert json.loads(state.preview_json) == {"amount": 1999, "currency": "usd"}


async def test_editing_a_rule_changes_the_preview(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    follow_up = state.set_rule_field(1, "target", "currency_code")
    assert follow_up is MappingState.refresh_preview and state.dirty
    await run(state.refresh_preview())
    assert json.loads(state.preview_json) == {"amount": 1999, "currency_code": "usd"}
    assert sent(fake_api, BASE + "/preview")[-1]["rules"][1]["target"] == "currency_code"
    await run(state.discard())
    assert not state.dirty and state.rules[1].target == "currency"


async def test_an_incomplete_rule_is_marked_and_left_out_of_the_preview(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.add_rule()
    state.add_rule()
    state.set_rule_field(3, "target", "customer")
    state.set_rule_field(3, "source", "data.object.customer")
    await run(state.refresh_preview())
    rules_sent = sent(fake_api, BASE + "/preview")[-1]["rules"]
    assert [r["target"] for r in rules_sent] == ["amount", "currency", "customer"]
    assert state.rule_errors == ["", "", INCOMPLETE, ""]
    assert json.loads(state.preview_json)["customer"] == "cus_1"


async def test_api_field_errors_land_at_their_rule(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.add_rule()  # incomplete: not sent, so rule 2 sent is draft rule 3
    state.add_rule()
    state.set_rule_field(3, "target", "bad")
    state.set_rule_field(3, "source", "data.[")
    fake_api.on(
        "POST",
        BASE + "/preview",
        problem(
            422,
            "validation",
            "Invalid request",
            "rules.2.source: not a JMESPath expression",
            [{"field": "rules.2.source", "message": "not a JMESPath expression"}],
        ),
    )
    await run(state.refresh_preview())
    assert state.rule_errors[3] == "source: not a JMESPath expression"
    assert state.rule_errors[2] == INCOMPLETE and state.error_count == 2
    assert "Fix the marked rules" in state.preview_note


async def test_runtime_errors_of_the_preview_land_at_their_rule(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.add_rule()
    state.set_rule_field(2, "target", "email")
    state.set_rule_field(2, "source", "data.object.email")
    state.set_rule_required(2, True)
    await run(state.refresh_preview())
    assert state.rule_errors == ["", "", "required"]


async def test_a_pasted_sample_is_previewed_and_bad_json_is_said(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    before = len(sent(fake_api, BASE + "/preview"))
    state.set_sample_mode("sample")
    state.set_sample_text("{not json")
    await run(state.refresh_preview())
    assert "not JSON" in state.sample_error and state.preview_json == ""
    assert len(sent(fake_api, BASE + "/preview")) == before  # nothing sent
    state.set_sample_text(json.dumps({"data": {"object": {"amount": 5, "currency": "eur"}}}))
    await run(state.refresh_preview())
    assert sent(fake_api, BASE + "/preview")[-1]["sample"]["data"]["object"]["amount"] == 5
    assert json.loads(state.preview_json) == {"amount": 5, "currency": "eur"}


async def test_nothing_stored_asks_for_a_sample(fake_api: FakeApi) -> None:
    serve(fake_api)
    fake_api.on(
        "POST",
        BASE + "/preview",
        problem(
            422,
            "validation",
            "Invalid request",
            "sample: no stored event",
            [{"field": "sample", "message": "no stored event or record of 'x': send a sample"}],
        ),
    )
    state = await loaded(fake_api)
    assert state.preview_note == NO_SAMPLE_HINT and state.preview_json == ""


async def test_reorder_remove_and_transforms(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.move_rule(0, 1)
    assert [r.target for r in state.rules] == ["currency", "amount"]
    assert state.move_rule(0, -1) is None  # nothing above the first
    state.open_chip_form(0)
    state.set_chip_op("regex_replace")
    state.set_chip_args("{oops")
    assert state.add_transform() is None and "not JSON" in state.chip_error
    state.set_chip_args('{"pattern": "^u", "replacement": "U"}')
    state.add_transform()
    assert [t.op for t in state.rules[0].transforms] == ["upper", "regex_replace"]
    assert to_rule(state.rules[0])["transforms"][1] == {
        "op": "regex_replace",
        "pattern": "^u",
        "replacement": "U",
    }
    state.remove_transform(0, 0)
    assert [t.op for t in state.rules[0].transforms] == ["regex_replace"]
    state.remove_rule(1)
    assert [r.target for r in state.rules] == ["currency"] and state.dirty


async def test_save_makes_a_version_and_says_so(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.set_rule_field(1, "target", "currency_code")

    def saved(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        mapping = {**body, "version": 1, "updated_at": "2026-11-27T14:00:00Z"}
        return httpx.Response(200, json={"mapping": mapping})

    fake_api.on("POST", BASE, saved)
    fake_api.on(
        "GET",
        BASE + "/versions",
        {
            "items": [
                {
                    "version": 1,
                    "rules": CHARGE_RULES,
                    "created_at": "2026-11-27T14:00:00Z",
                    "current": True,
                    "restored_from": None,
                }
            ],
            "next_cursor": None,
        },
    )
    updates = await run(state.save())
    assert updates == []  # no redirect, no problem
    body = sent(fake_api, BASE)[-1]
    assert body["source"] == "charge.succeeded"
    assert body["rules"][1] == {
        "target": "currency_code",
        "source": "data.object.currency",
        "transforms": [{"op": "upper"}],
    }
    assert state.version == 1 and not state.is_default and not state.dirty
    assert state.message == "Saved charge.succeeded as version 1." and state.busy == ""
    assert [v.version for v in state.versions] == [1] and state.versions[0].current


async def test_a_refused_save_says_so_at_the_rule(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.add_rule()
    fake_api.on(
        "POST",
        BASE,
        problem(
            422,
            "validation",
            "Invalid request",
            "rules.2.target: does not match",
            [
                {"field": "rules.2.target", "message": "does not match the pattern"},
                {"field": "rules.2.source", "message": "is too short"},
            ],
        ),
    )
    await run(state.save())
    assert state.problem_title == "The mapping was not saved" and state.busy == ""
    assert state.rule_errors[2] == "target: does not match the pattern source: is too short"
    assert state.dirty and state.is_default


async def test_a_save_the_api_cannot_answer_says_so(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    fake_api.on("POST", BASE, problem(503, "unavailable", "Service unavailable", "db down"))
    await run(state.save())
    assert state.problem_title == "The mapping was not saved: Service unavailable"
    assert state.problem_detail == "db down"


async def test_restore_and_other_sources(fake_api: FakeApi) -> None:
    saved = {
        "source": "*",
        "rules": [{"target": "kind", "source": "type"}],
        "version": 3,
        "updated_at": "2026-11-27T13:00:00Z",
    }
    serve(fake_api, [saved])
    state = await loaded(fake_api)
    assert state.sources == ["*", "charge.succeeded"] and state.source == "*"
    assert state.version == 3
    fake_api.on(
        "POST",
        BASE + "/versions/2/restore",
        {"mapping": {**saved, "rules": [{"target": "type", "source": "type"}], "version": 4}},
    )
    await run(state.restore(2))
    assert sent(fake_api, BASE + "/versions/2/restore")[-1] == {"source": "*"}
    assert state.version == 4 and state.rules[0].target == "type"
    assert state.message == "Restored version 2 as version 4."

    state.set_new_source("bad source!")
    await run(state.add_source())
    assert state.new_source_error
    state.set_new_source("invoice.paid")
    await run(state.add_source())
    assert state.source == "invoice.paid" and "invoice.paid" in state.sources
    assert state.rules == [] and state.is_default
    assert fake_api.requests[-2].url.params["source"] == "invoice.paid"


async def test_opens_the_source_of_the_latest_stored_event(fake_api: FakeApi) -> None:
    saved = {"source": "*", "rules": [], "version": 1, "updated_at": "2026-11-27T13:00:00Z"}
    serve(fake_api, [saved], latest_type="charge.succeeded")
    state = await loaded(fake_api)
    assert state.sources == ["*", "charge.succeeded"] and state.source == "charge.succeeded"
    # An event whose type has no mapping of its own: the first source.
    serve(fake_api, [saved], latest_type="payout.paid")
    state = await loaded(fake_api)
    assert state.source == "*"


async def test_export_downloads_a_json_file(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    document = {"connector": "stripe", "exported_at": "2026-11-27T14:00:00Z", "mappings": []}
    fake_api.on("GET", BASE + "/export", document)
    updates = await run(state.export())
    assert len(updates) == 1 and isinstance(updates[0], rx.event.EventSpec)
    assert state.message == "Exported 0 saved sources."


class Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name = name
        self._data = io.BytesIO(data)

    async def read(self) -> bytes:
        return self._data.read()


async def test_import_saves_every_source_or_says_why_not(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    await run(state.import_file([Upload("m.json", b"not json")]))
    assert state.problem_title == "The file was not imported"
    assert "m.json is not a JSON export" in state.problem_detail

    document = {
        "connector": "stripe",
        "mappings": [{"source": "invoice.paid", "rules": [{"target": "n", "source": "number"}]}],
    }
    fake_api.on(
        "POST",
        BASE + "/import",
        problem(
            422,
            "validation",
            "Invalid request",
            "mappings.0.rules.0.source: bad",
            [{"field": "mappings.0.rules.0.source", "message": "bad"}],
        ),
    )
    await run(state.import_file([Upload("m.json", json.dumps(document).encode())]))
    assert state.problem_title == "The file was not imported: nothing was saved"
    assert state.problem_detail == "mappings.0.rules.0.source: bad"

    imported = {**document["mappings"][0], "version": 1, "updated_at": "2026-11-27T14:00:00Z"}
    fake_api.on("POST", BASE + "/import", {"items": [imported]})
    serve(fake_api, [imported])
    await run(state.import_file([Upload("m.json", json.dumps(document).encode())]))
    assert sent(fake_api, BASE + "/import")[-1] == document
    assert state.message == "Imported 1 source: invoice.paid." and state.problem_title == ""
    assert "invoice.paid" in state.sources


def test_rules_round_trip_and_defaults() -> None:
    rule = {"target": "a", "source": "b", "default": 0, "required": True}
    row = rule_row(rule)  # type: ignore[arg-type]
    assert row.default == "0" and row.required
    assert to_rule(row) == rule
    assert to_rule(RuleRow(target="x", source="y", default="n/a"))["default"] == "n/a"
    assert "default" not in to_rule(RuleRow(target="x", source="y"))
    at_rule, other = errors_at_rules({"rules.0": "dup", "sample": "missing"}, 1)
    assert at_rule == ["rule: dup"] and other == ["sample: missing"]


async def test_a_chip_is_edited_in_place(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    state.edit_transform(0, 0)  # a click on minor_to_major(currency=…)
    assert (state.chip_rule, state.chip_position) == (0, 0)
    assert state.chip_op == "minor_to_major"
    assert json.loads(state.chip_args) == {"currency": "data.object.currency"}
    state.set_chip_args("{oops")
    assert state.add_transform() is None and "not JSON" in state.chip_error
    assert to_rule(state.rules[0])["transforms"] == CHARGE_RULES[0]["transforms"]
    state.set_chip_args('{"currency": "data.object.currency_code"}')
    assert state.add_transform() == MappingState.refresh_preview  # the preview follows
    assert to_rule(state.rules[0])["transforms"] == [
        {"op": "minor_to_major", "currency": "data.object.currency_code"}
    ]
    assert (
        state.rules[0].transforms[0].label == "minor_to_major(currency=data.object.currency_code)"
    )
    assert state.dirty and (state.chip_rule, state.chip_position) == (-1, -1)

    # Another op in place of `upper`, its neighbours untouched; not appended.
    state.open_chip_form(1)
    state.set_chip_op("trim")
    state.add_transform()
    assert [t.op for t in state.rules[1].transforms] == ["upper", "trim"]
    state.edit_transform(1, 0)
    state.set_chip_op("lower")
    state.set_chip_args("")
    state.add_transform()
    assert [t.op for t in state.rules[1].transforms] == ["lower", "trim"]

    # A second click on the chip closes the form; "+" switches it to adding.
    state.edit_transform(1, 1)
    state.edit_transform(1, 1)
    assert state.chip_rule == -1
    state.edit_transform(1, 1)
    state.open_chip_form(1)
    assert (state.chip_rule, state.chip_position, state.chip_args) == (1, -1, "")
    # Removing the chip being edited closes the form instead of editing its neighbour.
    state.edit_transform(1, 0)
    state.remove_transform(1, 0)
    assert (state.chip_rule, state.chip_position) == (-1, -1)
    assert [t.op for t in state.rules[1].transforms] == ["trim"]
    state.edit_transform(1, 5)  # no such chip: nothing opens
    assert state.chip_rule == -1


YAML_EXPORT = b"""connector: stripe
mappings:
- source: invoice.paid
  rules:
  - target: n
    source: number
    transforms:
    - op: trim
"""


async def test_a_yaml_file_is_imported_as_yaml(fake_api: FakeApi) -> None:
    serve(fake_api)
    state = await loaded(fake_api)
    rules = [{"target": "n", "source": "number", "transforms": [{"op": "trim"}]}]
    imported = {"source": "invoice.paid", "rules": rules, "version": 1, "updated_at": None}
    fake_api.on("POST", BASE + "/import", {"items": [imported]})
    serve(fake_api, [imported])
    await run(state.import_file([Upload("mappings.yaml", YAML_EXPORT)]))
    request = [r for r in fake_api.requests if r.url.path == BASE + "/import"][-1]
    assert request.url.params["format"] == "yaml"
    assert request.headers["content-type"] == "application/yaml"
    assert request.content == YAML_EXPORT  # as the file has it, never re-encoded
    assert state.message == "Imported 1 source: invoice.paid." and state.problem_title == ""
    assert "invoice.paid" in state.sources

    # The api's words on a malformed file are shown; a .yml is YAML too.
    fake_api.on(
        "POST",
        BASE + "/import",
        problem(400, "validation", "Bad request", "YAML is malformed (line 2)"),
    )
    await run(state.import_file([Upload("m.YML", b"mappings: [\n  - {")]))
    assert state.problem_title == "The file was not imported: nothing was saved"
    assert state.problem_detail == "YAML is malformed (line 2)"
    request = [r for r in fake_api.requests if r.url.path == BASE + "/import"][-1]
    assert request.url.params["format"] == "yaml" and request.content == b"mappings: [\n  - {"

    # A .json file is still read here, and sent as JSON.
    await run(state.import_file([Upload("m.json", YAML_EXPORT)]))
    assert "m.json is not a JSON export" in state.problem_detail
    assert "YAML" in state.problem_detail
    requests = [r for r in fake_api.requests if r.url.path == BASE + "/import"]
    assert len(requests) == 2
