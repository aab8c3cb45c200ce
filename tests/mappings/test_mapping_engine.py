"""Compiling and applying whole mappings: validation naming the rule and field, nested
targets, defaults and required values, per-field errors that never stop the rest, and the
time budget."""

from __future__ import annotations

from typing import Any

import pytest

from backend.mappings.compile import MappingInvalid, compile_rules, decode_rules
from backend.mappings.engine import CompiledMapping


def compiled(rules: list[dict[str, Any]], version: int = 0) -> CompiledMapping:
    return compile_rules(decode_rules(rules), version)


def errors_of(rules: list[dict[str, Any]]) -> list[tuple[str, str]]:
    with pytest.raises(MappingInvalid) as caught:
        compiled(rules)
    return [(e.field, e.message) for e in caught.value.errors]


PAYLOAD = {
    "issue": {
        "title": "Crash on save",
        "number": "17",
        "user": {"login": "ada"},
        "labels": [{"name": "bug"}, {"name": "p1"}],
        "created_at": "2024-03-10T02:30:00-05:00",
    },
    "repository": {"full_name": "octo/repo"},
}


def test_plain_and_general_sources_nested_targets_and_version() -> None:
    result = compiled(
        [
            {"target": "title", "source": "issue.title"},
            {"target": "author.login", "source": "issue.user.login"},
            {"target": "author.repo", "source": "repository.full_name"},
            {"target": "labels", "source": "issue.labels[*].name"},
            {"target": "first_label", "source": "issue.labels[0].name"},
            {"target": "bugs", "source": "length(issue.labels[?name == 'bug'])"},
            {"target": "summary", "source": "{t: issue.title, n: issue.number}"},
        ],
        version=4,
    ).apply(PAYLOAD)
    assert result.version == 4 and result.errors == []
    assert result.mapped == {
        "title": "Crash on save",
        "author": {"login": "ada", "repo": "octo/repo"},
        "labels": ["bug", "p1"],
        "first_label": "bug",
        "bugs": 1,
        "summary": {"t": "Crash on save", "n": "17"},
    }


def test_a_failing_rule_is_an_error_and_the_others_still_map() -> None:
    result = compiled(
        [
            {"target": "number", "source": "issue.number", "transforms": [{"op": "to_int"}]},
            {"target": "broken", "source": "issue.title", "transforms": [{"op": "to_int"}]},
            {"target": "needed", "source": "issue.missing", "required": True},
            {"target": "fn_error", "source": "abs(issue.title)"},
            {"target": "fallback", "source": "issue.missing", "default": {"x": [1]}},
            {"target": "missing", "source": "issue.absent"},
            {"target": "author", "source": "issue.user.login"},
        ]
    ).apply(PAYLOAD)
    assert result.mapped == {
        "number": 17,
        "fallback": {"x": [1]},
        "missing": None,
        "author": "ada",
    }
    assert [(e.rule, e.target) for e in result.errors] == [
        (1, "broken"),
        (2, "needed"),
        (3, "fn_error"),
    ]
    assert result.errors[0].message == "to_int: 'Crash on save' is not a whole number"
    assert result.errors[1].message == "required value is missing"
    assert result.errors[2].message.startswith("source: ")


def test_required_with_a_default_uses_the_default() -> None:
    result = compiled([{"target": "a", "source": "nope", "required": True, "default": 0}]).apply({})
    assert result.mapped == {"a": 0} and result.errors == []


def test_any_payload_shape_maps_without_raising() -> None:
    mapping = compiled(
        [
            {"target": "a", "source": "x.y.z"},
            {"target": "b", "source": "x[0]"},
            {"target": "c", "source": "x", "transforms": [{"op": "lower"}]},
        ]
    )
    for payload in (None, [], "text", 5, {"x": [1]}, {"x": {"y": "s"}}, {"x": None}):
        result = mapping.apply(payload)
        assert set(result.mapped) | {e.target for e in result.errors} == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            [{"target": "a", "source": "ok"}, {"target": "b", "source": "foo[?"}],
            [("rules.1.source", "not a valid JMESPath expression")],
        ),
        (
            [{"target": "a.b", "source": "x"}, {"target": "a.b", "source": "y"}],
            [("rules.1.target", "duplicate target 'a.b' (rule 0)")],
        ),
        (
            [{"target": "a", "source": "x"}, {"target": "a.b", "source": "y"}],
            [("rules.1.target", "'a' is a value of rule 0, not an object")],
        ),
        (
            [{"target": "a.b.c", "source": "x"}, {"target": "a.b", "source": "y"}],
            [("rules.1.target", "'a.b' is also the parent of rule 0's target")],
        ),
        (
            [
                {"target": "a", "source": "x", "transforms": [{"op": "to_int"}]},
                {"target": "b", "source": "y", "transforms": [{"op": "trim"}, {"op": "bogus"}]},
            ],
            [("rules.1.transforms.1.op", "Invalid value 'bogus'")],
        ),
        (
            [{"target": "9lives", "source": "x"}],
            [("rules.0.target", "Expected `str` matching regex")],
        ),
        (
            [{"target": "a", "source": ""}],
            [("rules.0.source", "Expected `str` of length >= 1")],
        ),
    ],
)
def test_validation_names_the_rule_and_field(
    rules: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    found = errors_of(rules)
    assert [f for f, _ in found] == [f for f, _ in expected]
    for (_, message), (_, wanted) in zip(found, expected, strict=True):
        assert message.startswith(wanted), message


def test_every_problem_is_reported_at_once() -> None:
    found = errors_of(
        [
            {"target": "a", "source": "[["},
            {"target": "b", "source": "x", "transforms": [{"op": "regex_extract", "pattern": "("}]},
            {"target": "a", "source": "y"},
        ]
    )
    assert [f for f, _ in found] == [
        "rules.0.source",
        "rules.1.transforms.0.pattern",
        "rules.2.target",
    ]


def test_hostile_expressions_are_refused_not_crashing() -> None:
    for source in ("(" * 600 + "a" + ")" * 600, "a" + ".b" * 400 + "[", "[" * 500 + "]"):
        (field, _), *_ = errors_of([{"target": "a", "source": source}])
        assert field == "rules.0.source"


def test_time_budget_skips_the_remaining_costly_rules() -> None:
    rules = [
        {"target": f"f{i}", "source": "items[*].name", "transforms": [{"op": "to_string"}]}
        for i in range(50)
    ] + [{"target": "plain", "source": "id"}]
    payload = {"id": 1, "items": [{"name": str(i)} for i in range(2000)]}
    result = compiled(rules).apply(payload, budget=0.0)
    skipped = [e for e in result.errors if e.message == "skipped: time budget spent"]
    assert len(skipped) == 50
    assert result.mapped == {"plain": 1}  # plain paths cost nothing and still map
