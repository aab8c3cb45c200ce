"""The mapping API over HTTP against the real app, PostgreSQL and Redis: versions, restore,
validation (422 naming rule and field), preview, export/import in JSON and YAML, tenant
isolation, and end to end through a signed GitHub webhook, replay and restore."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import yaml
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from backend.lib.telemetry import setup_tracing
from tests.ingest.support import assert_problem, fixture, new_id
from tests.webhooks.helpers import hub_signature

SECRET = "mapping-secret"
ISSUE_RULES = [
    {"target": "title", "source": "issue.title"},
    {"target": "who.login", "source": "issue.user.login"},
]
V2_RULES = [
    {"target": "headline", "source": "issue.title", "transforms": [{"op": "upper"}]},
    {"target": "labels", "source": "issue.labels[*].name"},
    {
        "target": "opened_at",
        "source": "issue.created_at",
        "transforms": [{"op": "parse_datetime", "format": "iso8601"}],
    },
]


def base(integration: Any) -> str:
    return f"/api/integrations/{integration.id}/mapping"


async def save(client: Any, tenant: Any, integration: Any, source: str, rules: Any) -> Any:
    return await client.post(
        base(integration), json={"source": source, "rules": rules}, headers=tenant.headers
    )


async def deliver_issue(client: Any, integration: Any) -> str:
    body = fixture("github", "issues__opened.json")
    response = await client.post(
        integration.path,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "issues",
            "X-GitHub-Delivery": new_id(),
            "X-Hub-Signature-256": hub_signature(SECRET, body),
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["event_id"])


async def event_view(client: Any, tenant: Any, integration: Any, event_id: str) -> Any:
    url = f"/api/integrations/{integration.id}/events/{event_id}"
    response = await client.get(url, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_save_versions_and_restore(client, tenant, make_integration) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    listed = (await client.get(base(integration), headers=tenant.headers)).json()["items"]
    defaults = {m["source"]: m for m in listed}
    assert defaults["issues.opened"]["version"] == 0  # the connector's default, in force
    assert defaults["issues.opened"]["updated_at"] is None
    assert {r["target"] for r in defaults["issues.opened"]["rules"]} >= {
        "title",
        "state",
        "author",
        "url",
        "created_at",
    }

    first = await save(client, tenant, integration, "issues.opened", ISSUE_RULES)
    assert first.status_code == 200, first.text
    mapping = first.json()["mapping"]
    assert set(mapping) == {"source", "rules", "version", "updated_at"}
    assert mapping["source"] == "issues.opened" and mapping["version"] == 1
    assert mapping["rules"] == ISSUE_RULES and mapping["updated_at"]
    second = (await save(client, tenant, integration, "issues.opened", V2_RULES)).json()
    assert second["mapping"]["version"] == 2
    other = (await save(client, tenant, integration, "*", ISSUE_RULES)).json()
    assert other["mapping"]["version"] == 1  # versions count per source

    listed = (await client.get(base(integration), headers=tenant.headers)).json()["items"]
    by_source = {m["source"]: m for m in listed}
    assert by_source["issues.opened"]["version"] == 2
    assert by_source["issues.opened"]["rules"] == V2_RULES
    assert by_source["*"]["version"] == 1
    assert by_source["push"]["version"] == 0  # defaults stay for sources not saved

    versions = await client.get(
        f"{base(integration)}/versions",
        params={"source": "issues.opened"},
        headers=tenant.headers,
    )
    page = versions.json()
    assert [(v["version"], v["current"]) for v in page["items"]] == [(2, True), (1, False)]
    assert page["items"][1]["rules"] == ISSUE_RULES and page["next_cursor"] is None

    restored = await client.post(
        f"{base(integration)}/versions/1/restore",
        json={"source": "issues.opened"},
        headers=tenant.headers,
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["mapping"]["version"] == 3
    assert restored.json()["mapping"]["rules"] == ISSUE_RULES
    page = (
        await client.get(
            f"{base(integration)}/versions",
            params={"source": "issues.opened", "limit": 1},
            headers=tenant.headers,
        )
    ).json()
    assert [(v["version"], v["restored_from"]) for v in page["items"]] == [(3, 1)]
    assert page["next_cursor"]

    missing = await client.post(
        f"{base(integration)}/versions/9/restore",
        json={"source": "issues.opened"},
        headers=tenant.headers,
    )
    assert_problem(missing, 404, "not-found")
    bad_source = await client.get(
        f"{base(integration)}/versions", params={"source": "a b"}, headers=tenant.headers
    )
    assert_problem(bad_source, 422, "validation")


async def test_invalid_rules_are_422_naming_rule_and_field(
    client, tenant, make_integration, raw_rows
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    cases = [
        ([{"target": "a", "source": "x"}, {"target": "b", "source": "foo[?"}], "rules.1.source"),
        ([{"target": "a", "source": "x"}, {"target": "a", "source": "y"}], "rules.1.target"),
        ([{"target": "a", "source": "x"}, {"target": "a.b", "source": "y"}], "rules.1.target"),
        (
            [{"target": "a", "source": "x", "transforms": [{"op": "nope"}]}],
            "rules.0.transforms.0.op",
        ),
        (
            [
                {
                    "target": "a",
                    "source": "x",
                    "transforms": [{"op": "regex_extract", "pattern": "("}],
                }
            ],
            "rules.0.transforms.0.pattern",
        ),
        (
            [{"target": "a", "source": "x", "transforms": [{"op": "parse_datetime", "tz": "X/Y"}]}],
            "rules.0.transforms.0.tz",
        ),
    ]
    for rules, field in cases:
        response = await save(client, tenant, integration, "issues.opened", rules)
        problem = assert_problem(response, 422, "validation")
        assert [e["field"] for e in problem["errors"]] == [field], problem
        assert field in problem["detail"]
    assert (
        await raw_rows("SELECT 1 FROM integration_mapping WHERE integration = $1", integration.id)
        == []
    )
    extra = await client.post(
        base(integration),
        json={"source": "issues.opened", "rules": [], "surprise": 1},
        headers=tenant.headers,
    )
    assert_problem(extra, 422, "validation")
    bad_source = await save(client, tenant, integration, "has space", [])
    assert_problem(bad_source, 422, "validation")


async def test_preview_with_and_without_sample(
    client, tenant, make_integration, run_worker
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    url = f"{base(integration)}/preview"
    rules = [
        {"target": "n", "source": "count", "transforms": [{"op": "to_int"}]},
        {"target": "bad", "source": "name", "transforms": [{"op": "to_int"}]},
    ]
    sample = {"count": "12", "name": "Ada"}
    response = await client.post(
        url, json={"source": "x.y", "rules": rules, "sample": sample}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "result": {"n": 12},
        "errors": [{"rule": 1, "target": "bad", "message": "to_int: 'Ada' is not a whole number"}],
    }
    none_stored = await client.post(
        url, json={"source": "issues.opened", "rules": V2_RULES}, headers=tenant.headers
    )
    problem = assert_problem(none_stored, 422, "validation")
    assert problem["errors"][0]["field"] == "sample"

    await deliver_issue(client, integration)
    stored = await client.post(
        url, json={"source": "issues.opened", "rules": V2_RULES}, headers=tenant.headers
    )
    assert stored.status_code == 200, stored.text
    assert stored.json() == {
        "result": {
            "headline": "SPELLING ERROR IN THE README FILE",
            "labels": ["bug"],
            "opened_at": "2019-05-15T15:20:18Z",
        },
        "errors": [],
    }
    invalid = await client.post(
        url,
        json={"source": "issues.opened", "rules": [{"target": "a", "source": "[["}]},
        headers=tenant.headers,
    )
    assert_problem(invalid, 422, "validation")
    await run_worker()


async def test_export_import_json_and_yaml_across_tenants(
    client, tenant, make_tenant, make_integration, raw_rows
) -> None:
    source = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    await save(client, tenant, source, "issues.opened", V2_RULES)
    await save(client, tenant, source, "push", ISSUE_RULES)
    exported = await client.get(f"{base(source)}/export", headers=tenant.headers)
    assert exported.status_code == 200
    document = exported.json()
    assert document["connector"] == "github" and document["exported_at"]
    assert document["mappings"] == [
        {"source": "issues.opened", "rules": V2_RULES},
        {"source": "push", "rules": ISSUE_RULES},
    ]

    other = await make_tenant("globex")
    target = await make_integration(other, "github", signing_secrets=(SECRET,))
    imported = await client.post(f"{base(target)}/import", json=document, headers=other.headers)
    assert imported.status_code == 200, imported.text
    assert [(m["source"], m["version"]) for m in imported.json()["items"]] == [
        ("issues.opened", 1),
        ("push", 1),
    ]
    again = (await client.get(f"{base(target)}/export", headers=other.headers)).json()
    assert again["mappings"] == document["mappings"]

    as_yaml = await client.get(
        f"{base(source)}/export", params={"format": "yaml"}, headers=tenant.headers
    )
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text)["mappings"] == document["mappings"]
    yaml_import = await client.post(
        f"{base(target)}/import",
        params={"format": "yaml"},
        content=as_yaml.content,
        headers=other.headers,
    )
    assert yaml_import.status_code == 200, yaml_import.text
    assert [m["version"] for m in yaml_import.json()["items"]] == [2, 2]

    # All or nothing: one bad entry and nothing is saved.
    broken = {
        "mappings": [
            {"source": "a", "rules": ISSUE_RULES},
            {"source": "b", "rules": [{"target": "x", "source": "bad[["}]},
        ]
    }
    before = await raw_rows("SELECT id FROM integration_mapping WHERE integration = $1", target.id)
    refused = await client.post(f"{base(target)}/import", json=broken, headers=other.headers)
    problem = assert_problem(refused, 422, "validation")
    assert [e["field"] for e in problem["errors"]] == ["mappings.1.rules.0.source"]
    duplicate = {"mappings": [{"source": "a", "rules": []}, {"source": "a", "rules": []}]}
    refused = await client.post(f"{base(target)}/import", json=duplicate, headers=other.headers)
    assert assert_problem(refused, 422, "validation")["errors"][0]["field"] == "mappings.1.source"
    stripe = await make_integration(other, "stripe", signing_secrets=("whsec_x",))
    wrong = await client.post(f"{base(stripe)}/import", json=document, headers=other.headers)
    assert assert_problem(wrong, 422, "validation")["errors"][0]["field"] == "connector"
    after = await raw_rows("SELECT id FROM integration_mapping WHERE integration = $1", target.id)
    assert before == after

    bomb = b"a: &a [x, x]\nb: &b [*a, *a]\nmappings: [*b]\n"
    refused = await client.post(
        f"{base(target)}/import", params={"format": "yaml"}, content=bomb, headers=other.headers
    )
    assert_problem(refused, 400, "validation")
    malformed = await client.post(
        f"{base(target)}/import", params={"format": "yaml"}, content=b"a: [", headers=other.headers
    )
    assert_problem(malformed, 400, "validation")
    # A mistyped value before malformed bytes (found by the schema fuzzer): a 400, not a 500.
    for fmt in ("json", "yaml"):
        mixed = await client.post(
            f"{base(target)}/import",
            params={"format": fmt},
            content=b"7\xff",
            headers={**other.headers, "Content-Type": "application/json"},
        )
        assert_problem(mixed, 400, "validation")


async def test_another_tenants_mappings_are_invisible(
    client, tenant, make_tenant, make_integration
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    await save(client, tenant, integration, "issues.opened", ISSUE_RULES)
    intruder = await make_tenant("intruder")
    for method, path, body in [
        ("GET", base(integration), None),
        ("POST", base(integration), {"source": "issues.opened", "rules": []}),
        ("GET", f"{base(integration)}/versions?source=issues.opened", None),
        ("POST", f"{base(integration)}/versions/1/restore", {"source": "issues.opened"}),
        ("POST", f"{base(integration)}/preview", {"source": "x", "rules": [], "sample": {}}),
        ("GET", f"{base(integration)}/export", None),
        ("POST", f"{base(integration)}/import", {"mappings": []}),
    ]:
        response = await client.request(method, path, json=body, headers=intruder.headers)
        assert_problem(response, 404, "not-found")
    mine = (await client.get(base(integration), headers=tenant.headers)).json()["items"]
    assert {m["source"]: m["version"] for m in mine}["issues.opened"] == 1


async def test_end_to_end_webhook_mapped_then_new_version_replay_and_restore(
    client, tenant, make_integration, run_worker
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    assert (
        await save(client, tenant, integration, "issues.opened", ISSUE_RULES)
    ).status_code == 200
    event_id = await deliver_issue(client, integration)
    await run_worker()
    view = await event_view(client, tenant, integration, event_id)
    assert view["status"] == "processed"
    assert view["mapped"] == {
        "title": "Spelling error in the README file",
        "who": {"login": "Codertocat"},
    }
    assert view["mapping_version"] == 1 and view["mapping_errors"] == []
    listed = await client.get(f"/api/integrations/{integration.id}/events", headers=tenant.headers)
    (item,) = listed.json()["items"]
    assert (item["mapped"], item["mapping_version"], item["mapping_errors"]) == (
        view["mapped"],
        1,
        [],
    )

    failing = [
        *V2_RULES,
        {"target": "number", "source": "issue.title", "transforms": [{"op": "to_int"}]},
    ]
    assert (await save(client, tenant, integration, "issues.opened", failing)).status_code == 200
    replay = await client.post(
        f"/api/integrations/{integration.id}/events/{event_id}/replay", headers=tenant.headers
    )
    assert replay.status_code == 202
    await run_worker()
    view = await event_view(client, tenant, integration, event_id)
    assert view["status"] == "processed"  # a failing rule never stops the event
    assert view["mapped"] == {
        "headline": "SPELLING ERROR IN THE README FILE",
        "labels": ["bug"],
        "opened_at": "2019-05-15T15:20:18Z",
    }
    assert view["mapping_version"] == 2
    assert view["mapping_errors"] == [
        {
            "rule": 3,
            "target": "number",
            "message": "to_int: 'Spelling error in the README file' is not a whole number",
        }
    ]
    assert view["normalized"]["mappingversion"] == 2

    restored = await client.post(
        f"{base(integration)}/versions/1/restore",
        json={"source": "issues.opened"},
        headers=tenant.headers,
    )
    assert restored.json()["mapping"]["version"] == 3
    await client.post(
        f"/api/integrations/{integration.id}/events/{event_id}/replay", headers=tenant.headers
    )
    await run_worker()
    view = await event_view(client, tenant, integration, event_id)
    assert view["mapped"] == {
        "title": "Spelling error in the README file",
        "who": {"login": "Codertocat"},
    }
    assert view["mapping_version"] == 3 and view["mapping_errors"] == []


async def test_connector_default_applies_until_the_tenant_saves_its_own(
    client, tenant, make_integration, run_worker
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    event_id = await deliver_issue(client, integration)
    await run_worker()
    view = await event_view(client, tenant, integration, event_id)
    assert view["mapping_version"] == 0 and view["mapping_errors"] == []
    assert view["mapped"] == {
        "title": "Spelling error in the README file",
        "state": "open",
        "author": "Codertocat",
        "url": "https://github.com/Codertocat/Hello-World/issues/1",
        "created_at": "2019-05-15T15:20:18Z",
        "number": 1,
        "repository": "Codertocat/Hello-World",
        "labels": ["bug"],
    }
    # A `*` mapping of the tenant outranks the connector's default for every type.
    await save(client, tenant, integration, "*", [{"target": "kind", "source": "action"}])
    await client.post(
        f"/api/integrations/{integration.id}/events/{event_id}/replay", headers=tenant.headers
    )
    await run_worker()
    view = await event_view(client, tenant, integration, event_id)
    assert (view["mapped"], view["mapping_version"]) == ({"kind": "opened"}, 1)
    raw = json.loads(json.dumps(view["normalized"]))
    assert raw["mapped"] == {"kind": "opened"}


async def test_concurrent_saves_get_distinct_versions_and_one_current(
    client, tenant, make_integration, raw_rows
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    rules = [[{"target": f"t{i}", "source": "issue.title"}] for i in range(8)]
    answers = await asyncio.gather(
        *(save(client, tenant, integration, "issues.opened", r) for r in rules)
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    assert sorted(a.json()["mapping"]["version"] for a in answers) == list(range(1, 9))
    rows = await raw_rows(
        "SELECT version, active FROM integration_mapping WHERE integration = $1", integration.id
    )
    assert [r["version"] for r in rows if r["active"]] == [8]
    (index,) = await raw_rows(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'integration_mapping_current'"
    )
    assert "UNIQUE" in index["indexdef"] and "WHERE active" in index["indexdef"]


@pytest.fixture(scope="module")
def spans(app: Any) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    setup_tracing("switchboard-tests", extra=SimpleSpanProcessor(exporter))
    return exporter


async def test_the_normalize_span_counts_the_mapping_without_its_values(
    client, tenant, make_integration, run_worker, spans
) -> None:
    integration = await make_integration(tenant, "github", signing_secrets=(SECRET,))
    failing = [
        *ISSUE_RULES,
        {"target": "n", "source": "issue.title", "transforms": [{"op": "to_int"}]},
    ]
    await save(client, tenant, integration, "issues.opened", failing)
    spans.clear()
    event_id = await deliver_issue(client, integration)
    await run_worker()
    (normalize,) = [
        s
        for s in spans.get_finished_spans()
        if s.name == "webhook.normalize" and (s.attributes or {}).get("event.id") == event_id
    ]
    # The mapping has its own span under the normalization (backend/webhooks/jobs.py).
    (span,) = [
        s
        for s in spans.get_finished_spans()
        if s.name == "mapping.apply" and s.parent == normalize.context
    ]
    assert span.attributes["switchboard.mapping.version"] == 1
    assert span.attributes["switchboard.mapping.errors"] == 1
    assert "Spelling error" not in str(dict(span.attributes)) + str(span.events)
