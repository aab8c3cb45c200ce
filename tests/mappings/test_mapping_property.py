"""Property: no rule set and no payload crashes the engine or runs past its bound.

Rule sets are drawn from the whole grammar (paths, indexes, wildcards, filters, functions,
multi-select, every transform with arbitrary arguments) plus arbitrary text; payloads are
arbitrary JSON. Compiling either succeeds or raises MappingInvalid; applying always returns
a result whose every rule is either mapped or reported, within the time budget plus one
rule's cost.
"""

from __future__ import annotations

import time
from typing import Any

import jmespath
import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.mappings.compile import MappingInvalid, compile_rules, decode_rules
from backend.mappings.engine import TIME_BUDGET_SECONDS
from backend.mappings.paths import compile_source

# One rule's worst case on these small payloads is far below this; the bound the engine
# promises is its budget plus one rule.
SLACK_SECONDS = 0.25

names = st.sampled_from(["a", "b", "items", "user", "name", "n", "x_1", "ü", "0"])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(names, children, max_size=5),
    max_leaves=30,
)
payloads = st.dictionaries(names, json_values, max_size=6) | json_values


def identifier(name: str) -> str:
    """A name as JMESPath writes it: bare when it is an identifier, else quoted."""
    return name if name.isascii() and name.isidentifier() else f'"{name}"'


fields = names.map(identifier)


@st.composite
def expressions(draw: Any, valid: bool = False) -> str:
    path = ".".join(draw(st.lists(fields, min_size=1, max_size=4)))
    shapes = [
        path,
        f"{path}[{draw(st.integers(-3, 3))}]",
        f"{path}[*].{draw(fields)}",
        f"{path}[?{draw(fields)} == `{draw(st.integers(0, 3))}`]",
        f"{path}[{draw(st.integers(-3, 3))}:{draw(st.integers(-3, 3))}]",
        f"length({path})",
        f"sort_by({path}, &{draw(fields)})",
        f"max({path})",
        f"join(',', {path})",
        f"{{k: {path}, j: {draw(fields)}}}",
        f"[{path}, {draw(fields)}]",
        f'{path} || `"d"`',
        f"{path} | [0]",
        f"to_string({path})",
        f"{path}.*",
        f"{path}[]",
    ]
    if not valid:
        shapes.append(draw(st.text(max_size=20)))  # mostly invalid: refused, never a crash
    return str(draw(st.sampled_from(shapes)))


valid_expressions = expressions(valid=True)
patterns = st.sampled_from(
    ["(a+)+$", "(\\d+)", "(?P<w>\\w+)", "^$", "[", "(x", ".*", "(a|aa)*b", "\\p{L}+"]
) | st.text(max_size=10)
transforms = st.one_of(
    st.sampled_from(["trim", "lower", "upper", "to_int", "to_float", "to_bool", "to_string"]).map(
        lambda op: {"op": op}
    ),
    st.fixed_dictionaries(
        {"op": st.just("parse_datetime")},
        optional={
            "format": st.sampled_from(["unix_s", "unix_ms", "iso8601", "%Y-%m-%d", "%H", "x"]),
            "tz": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Nowhere/X"]),
        },
    ),
    st.fixed_dictionaries(
        {"op": st.just("regex_extract"), "pattern": patterns},
        optional={"group": st.integers(-1, 3) | st.sampled_from(["w", "zz"])},
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("regex_replace"),
            "pattern": patterns,
            "replacement": st.sampled_from(["", "-", "\\1", "\\g<w>", "\\\\", "\\n", "x" * 50]),
        }
    ),
    st.fixed_dictionaries({"op": st.sampled_from(["split", "join"]), "sep": st.text(max_size=3)}),
    st.fixed_dictionaries(
        {"op": st.just("lookup"), "table": st.dictionaries(st.text(max_size=5), json_values)},
        optional={"default": json_values},
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("template"),
            "template": st.sampled_from(["{value}", "{a}-{value}", "{{x}}", "{", "{b}"]),
            "values": st.dictionaries(
                st.sampled_from(["a", "value", "b"]), expressions(), max_size=2
            ),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.just("coalesce"), "sources": st.lists(expressions(), min_size=1, max_size=3)}
    ),
    st.fixed_dictionaries({"op": st.just("minor_to_major")}, optional={"currency": expressions()}),
    st.fixed_dictionaries({"op": st.text(max_size=8)}),  # unknown ops
)
targets = st.lists(names, min_size=1, max_size=3).map(".".join) | st.text(max_size=8)
rules = st.lists(
    st.fixed_dictionaries(
        {"target": targets, "source": expressions()},
        optional={
            "transforms": st.lists(transforms, max_size=3),
            "default": json_values,
            "required": st.booleans(),
        },
    ),
    max_size=8,
)


valid_patterns = st.sampled_from(["(a+)+$", "(\\d+)", "(\\w+)", "(.*)", "(a|aa)*(b)", "(\\p{L}+)"])
valid_transforms = st.one_of(
    st.sampled_from(["trim", "lower", "upper", "to_int", "to_float", "to_bool", "to_string"]).map(
        lambda op: {"op": op}
    ),
    st.fixed_dictionaries(
        {"op": st.just("parse_datetime")},
        optional={
            "format": st.sampled_from(["unix_s", "unix_ms", "iso8601", "%Y-%m-%d"]),
            "tz": st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"]),
        },
    ),
    st.fixed_dictionaries(
        {"op": st.just("regex_extract"), "pattern": valid_patterns},
        optional={"group": st.integers(0, 1)},
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("regex_replace"),
            "pattern": valid_patterns,
            "replacement": st.sampled_from(["", "-", "\\1", "\\\\", "x" * 50]),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.sampled_from(["split", "join"]), "sep": st.text(min_size=1, max_size=3)}
    ),
    st.fixed_dictionaries(
        {"op": st.just("lookup"), "table": st.dictionaries(st.text(max_size=5), json_values)},
        optional={"default": json_values},
    ),
    st.fixed_dictionaries(
        {
            "op": st.just("template"),
            "template": st.sampled_from(["{value}", "{a}-{value}", "{{x}}", "{a}{a}"]),
            "values": st.fixed_dictionaries({"a": valid_expressions}),
        }
    ),
    st.fixed_dictionaries(
        {"op": st.just("coalesce"), "sources": st.lists(valid_expressions, min_size=1, max_size=3)}
    ),
    st.fixed_dictionaries(
        {"op": st.just("minor_to_major")}, optional={"currency": valid_expressions}
    ),
)


@st.composite
def valid_rules(draw: Any) -> list[dict[str, Any]]:
    """Rule sets that compile: distinct flat targets, expressions from the grammar."""
    count = draw(st.integers(1, 12))
    return [
        {
            "target": f"t{index}",
            "source": draw(valid_expressions),
            "transforms": draw(st.lists(valid_transforms, max_size=3)),
            "default": draw(st.none() | json_values),
            "required": draw(st.booleans()),
        }
        for index in range(count)
    ]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_rules=valid_rules(), payload=payloads)
def test_valid_rule_sets_apply_to_any_payload_within_the_bound(
    raw_rules: Any, payload: Any
) -> None:
    mapping = compile_rules(decode_rules(raw_rules))
    started = time.perf_counter()
    result = mapping.apply(payload)
    assert time.perf_counter() - started < TIME_BUDGET_SECONDS + SLACK_SECONDS
    failed = {e.target for e in result.errors}
    assert set(result.mapped) | failed == {r["target"] for r in raw_rules}
    assert not set(result.mapped) & failed
    msgspec.json.encode(result.mapped)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(raw_rules=rules, payload=payloads)
def test_no_rule_set_and_no_payload_crashes_or_overruns(raw_rules: Any, payload: Any) -> None:
    try:
        mapping = compile_rules(decode_rules(raw_rules))
    except MappingInvalid as exc:
        assert exc.errors and all(e.field.startswith("rules") for e in exc.errors)
        return
    started = time.perf_counter()
    result = mapping.apply(payload)
    assert time.perf_counter() - started < TIME_BUDGET_SECONDS + SLACK_SECONDS
    # Every rule is accounted for: its target written, or an error naming it.
    written = {tuple(r.target.split(".")) for r in mapping.rules} - {
        tuple(e.target.split(".")) for e in result.errors
    }
    for path in written:
        node: Any = result.mapped
        for key in path:
            assert isinstance(node, dict) and key in node
            node = node[key]
    assert all(0 <= e.rule < len(raw_rules) and e.message for e in result.errors)
    msgspec.json.encode(result.mapped)  # always storable as the event's JSON


def _outcome(evaluate: Any, payload: Any) -> Any:
    try:
        return ("value", evaluate(payload))
    except Exception as exc:  # the same failure is part of agreeing
        return ("error", type(exc).__name__)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expression=valid_expressions, payload=payloads)
def test_compiled_expressions_agree_with_the_reference_interpreter(
    expression: str, payload: Any
) -> None:
    """The closures of backend/mappings/jmes.py against jmespath's TreeInterpreter."""
    reference = jmespath.compile(expression)
    assert _outcome(compile_source(expression), payload) == _outcome(reference.search, payload)
