"""Every transform on its own: ordinary values, null and missing values, wrong types,
Unicode, time zones and DST edges, and the checks made when a rule is compiled."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from backend.mappings import schemas
from backend.mappings.compile import MappingInvalid, compile_rules, decode_rules
from backend.mappings.regexes import MAX_REGEX_INPUT
from backend.mappings.steps import MAX_TEXT_OUTPUT


def run(transforms: list[dict[str, Any]], value: Any, payload: Any = None) -> tuple[Any, str]:
    """Map `value` (at `v` of the payload) through `transforms`: (result, error or "")."""
    document = {"v": value, **(payload or {})}
    rules = decode_rules([{"target": "out", "source": "v", "transforms": transforms}])
    result = compile_rules(rules).apply(document)
    if result.errors:
        (error,) = result.errors
        assert error.rule == 0 and error.target == "out"
        assert "out" not in result.mapped  # a failed rule writes nothing
        return None, error.message
    return result.mapped["out"], ""


def ok(transforms: list[dict[str, Any]], value: Any, payload: Any = None) -> Any:
    result, error = run(transforms, value, payload)
    assert error == "", error
    return result


def fails(transforms: list[dict[str, Any]], value: Any, payload: Any = None) -> str:
    _, error = run(transforms, value, payload)
    assert error, "expected a field error"
    return error


def invalid(transform: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(MappingInvalid) as caught:
        compile_rules(decode_rules([{"target": "out", "source": "v", "transforms": [transform]}]))
    return [(e.field, e.message) for e in caught.value.errors]


# Every op passes a missing value (null) through untouched, so default/required decide.
NULL_SAFE = [
    {"op": "trim"},
    {"op": "lower"},
    {"op": "upper"},
    {"op": "to_int"},
    {"op": "to_float"},
    {"op": "to_bool"},
    {"op": "to_string"},
    {"op": "parse_datetime"},
    {"op": "regex_extract", "pattern": "(a)"},
    {"op": "regex_replace", "pattern": "a", "replacement": "b"},
    {"op": "split", "sep": ","},
    {"op": "join", "sep": ","},
    {"op": "lookup", "table": {"a": 1}},
    {"op": "minor_to_major"},
]


def test_the_null_safe_list_covers_every_op_but_the_two_that_fill_nulls() -> None:
    ops = {t.__struct_config__.tag for t in schemas.Transform.__args__}  # type: ignore[attr-defined]
    assert ops - {t["op"] for t in NULL_SAFE} == {"template", "coalesce"}


@pytest.mark.parametrize("transform", NULL_SAFE, ids=lambda t: t["op"])
def test_missing_and_null_pass_through(transform: dict[str, Any]) -> None:
    assert ok([transform], None) is None
    rules = decode_rules([{"target": "out", "source": "absent.path", "transforms": [transform]}])
    assert compile_rules(rules).apply({}).mapped == {"out": None}


@pytest.mark.parametrize(
    "transform",
    [t for t in NULL_SAFE if t["op"] in ("trim", "lower", "upper", "split", "regex_extract")],
    ids=lambda t: t["op"],
)
def test_text_ops_refuse_other_types(transform: dict[str, Any]) -> None:
    for value in (5, 1.5, True, [1], {"a": 1}):
        assert "expected text" in fails([transform], value)


def test_trim_lower_upper_unicode() -> None:
    assert ok([{"op": "trim"}], "\u00a0\u2003 Zürich \t\n") == "Zürich"
    assert ok([{"op": "lower"}], "ÉCOLE ΣΟΦΊΑ") == "école σοφία"
    assert ok([{"op": "upper"}], "straße") == "STRASSE"
    assert ok([{"op": "trim"}, {"op": "upper"}], "  ok 👍 ") == "OK 👍"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(7, 7), (-3, -3), (4.0, 4), ("  42 ", 42), ("-0012", -12), ("1e3", 1000), (True, 1)],
)
def test_to_int(value: Any, expected: int) -> None:
    assert ok([{"op": "to_int"}], value) == expected


@pytest.mark.parametrize("value", [4.5, "4.5", "abc", "", "1_000", "0x10", "nan", [1], {"a": 1}])
def test_to_int_refuses(value: Any) -> None:
    assert "to_int" in fails([{"op": "to_int"}], value)


def test_to_int_bounds_huge_text_and_numbers() -> None:
    assert "to_int" in fails([{"op": "to_int"}], "9" * 5000)  # never int()'s digit limit
    assert ok([{"op": "to_int"}], 10**30) == 10**30


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1.0), ("2.5", 2.5), (" -1e-3 ", -0.001), (False, 0.0)]
)
def test_to_float(value: Any, expected: float) -> None:
    assert ok([{"op": "to_float"}], value) == expected


@pytest.mark.parametrize("value", ["inf", "NaN", "1e400", 10**400, "1,5", [], {}])
def test_to_float_refuses_non_finite_and_non_numbers(value: Any) -> None:
    assert "to_float" in fails([{"op": "to_float"}], value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (0, False), (1.0, True), (" YES ", True), ("off", False), ("t", True)],
)
def test_to_bool(value: Any, expected: bool) -> None:
    assert ok([{"op": "to_bool"}], value) is expected


@pytest.mark.parametrize("value", [2, "maybe", "", [True], {"a": True}])
def test_to_bool_refuses(value: Any) -> None:
    assert "to_bool" in fails([{"op": "to_bool"}], value)


def test_to_string() -> None:
    assert ok([{"op": "to_string"}], 12) == "12"
    assert ok([{"op": "to_string"}], 1.5) == "1.5"
    assert ok([{"op": "to_string"}], False) == "false"
    assert ok([{"op": "to_string"}], "é") == "é"
    assert ok([{"op": "to_string"}], {"a": [1, "ü"]}) == '{"a":[1,"ü"]}'


PARSE = {"op": "parse_datetime"}


@pytest.mark.parametrize(
    ("transform", "value", "expected"),
    [
        (PARSE, "2024-03-10T12:00:00+02:00", "2024-03-10T10:00:00Z"),
        (PARSE, "2024-03-10T12:00:00.250Z", "2024-03-10T12:00:00.250000Z"),
        (PARSE, 1700000000, "2023-11-14T22:13:20Z"),
        ({"op": "parse_datetime", "format": "unix_s"}, "1355517523.000005", None),
        (
            {"op": "parse_datetime", "format": "unix_ms"},
            1700000000123,
            "2023-11-14T22:13:20.123000Z",
        ),
        ({"op": "parse_datetime", "format": "unix_ms"}, "-1", "1969-12-31T23:59:59.999000Z"),
        ({"op": "parse_datetime", "format": "iso8601"}, "2024-06-10T16:00:00.123+0000", None),
        (
            {"op": "parse_datetime", "format": "%d/%m/%Y %H:%M", "tz": "Asia/Kolkata"},
            "31/12/2024 23:30",
            "2024-12-31T18:00:00Z",
        ),
        # An offset in the text wins over `tz`.
        (
            {"op": "parse_datetime", "tz": "America/New_York"},
            "2024-07-01T12:00:00+00:00",
            "2024-07-01T12:00:00Z",
        ),
        (
            {"op": "parse_datetime", "tz": "America/New_York"},
            "2024-07-01T12:00:00",
            "2024-07-01T16:00:00Z",
        ),
        (
            {"op": "parse_datetime", "tz": "America/New_York"},
            "2024-01-01T12:00:00",
            "2024-01-01T17:00:00Z",
        ),
    ],
)
def test_parse_datetime(transform: dict[str, Any], value: Any, expected: str | None) -> None:
    result = ok([transform], value)
    assert result.endswith("Z")
    if expected is not None:
        assert result == expected


def test_parse_datetime_dst_edges() -> None:
    new_york = {"op": "parse_datetime", "tz": "America/New_York"}
    # Clocks go back at 02:00 EDT on 2024-11-03: 01:30 happens twice; the first (EDT) counts.
    assert ok([new_york], "2024-11-03T01:30:00") == "2024-11-03T05:30:00Z"
    assert ok([new_york], "2024-11-03T02:30:00") == "2024-11-03T07:30:00Z"
    # Clocks go forward at 02:00 EST on 2024-03-10: 02:30 never happens; read with the offset
    # from before the change (EST), as PEP 495 fold=0 does.
    assert ok([new_york], "2024-03-10T02:30:00") == "2024-03-10T07:30:00Z"
    assert ok([new_york], "2024-03-10T03:30:00") == "2024-03-10T07:30:00Z"
    berlin = {"op": "parse_datetime", "format": "%Y-%m-%d %H:%M", "tz": "Europe/Berlin"}
    assert ok([berlin], "2024-10-27 02:30") == "2024-10-27T00:30:00Z"
    assert ok([berlin], "2024-03-31 01:59") == "2024-03-31T00:59:00Z"
    assert ok([berlin], "2024-03-31 03:00") == "2024-03-31T01:00:00Z"


@pytest.mark.parametrize(
    ("transform", "value"),
    [
        (PARSE, "yesterday"),
        (PARSE, True),
        (PARSE, [2024]),
        (PARSE, 10**20),
        (PARSE, float("nan")),
        ({"op": "parse_datetime", "format": "unix_s"}, "12abc"),
        ({"op": "parse_datetime", "format": "%Y-%m-%d"}, "2024/01/01"),
        ({"op": "parse_datetime", "format": "iso8601"}, 1700000000),
    ],
)
def test_parse_datetime_refuses(transform: dict[str, Any], value: Any) -> None:
    assert "parse_datetime" in fails([transform], value)


def test_parse_datetime_checks_zone_and_format_when_compiled() -> None:
    assert invalid({"op": "parse_datetime", "tz": "Mars/Olympus"}) == [
        ("rules.0.transforms.0.tz", "unknown time zone 'Mars/Olympus'")
    ]
    assert invalid({"op": "parse_datetime", "tz": "../../etc/passwd"})[0][0].endswith(".tz")
    assert invalid({"op": "parse_datetime", "format": "YYYY-MM-DD"})[0][0].endswith(".format")


def test_regex_extract() -> None:
    order = {"op": "regex_extract", "pattern": r"#(\d+)"}
    assert ok([order], "Order #1234 shipped") == "1234"
    assert ok([order], "no number") is None  # no match is a missing value
    named = {"op": "regex_extract", "pattern": r"(?P<user>\w+)@(?P<host>[\w.]+)", "group": "host"}
    assert ok([named], "mail ada@example.org now") == "example.org"
    whole = {"op": "regex_extract", "pattern": r"\d{3}", "group": 0}
    assert ok([whole], "ab123cd") == "123"
    assert ok([{"op": "regex_extract", "pattern": r"(\p{Greek}+)"}], "abc αβγ") == "αβγ"


def test_regex_replace() -> None:
    swap = {"op": "regex_replace", "pattern": r"(\w+)-(\d+)", "replacement": r"\2:\1"}
    assert ok([swap], "foo-12 bar-3") == "12:foo 3:bar"
    named = {"op": "regex_replace", "pattern": r"(?P<d>\d)", "replacement": r"<\g<d>>"}
    assert ok([named], "a1b2") == "a<1>b<2>"
    assert ok([{"op": "regex_replace", "pattern": r"\s+", "replacement": " "}], "a \n\t b") == "a b"
    assert ok([{"op": "regex_replace", "pattern": "x", "replacement": r"\\"}], "axb") == "a\\b"


@pytest.mark.parametrize(
    ("transform", "field"),
    [
        ({"op": "regex_extract", "pattern": "("}, "pattern"),
        ({"op": "regex_extract", "pattern": r"(?<=a)b"}, "pattern"),  # no lookbehind in RE2
        ({"op": "regex_extract", "pattern": r"(a)\1"}, "pattern"),  # no backreferences
        ({"op": "regex_extract", "pattern": "(a)", "group": 2}, "group"),
        ({"op": "regex_extract", "pattern": "(a)", "group": -1}, "group"),
        ({"op": "regex_extract", "pattern": "(a)", "group": "name"}, "group"),
        ({"op": "regex_replace", "pattern": "(a)", "replacement": r"\2"}, "replacement"),
        ({"op": "regex_replace", "pattern": "(a)", "replacement": r"\g<x>"}, "replacement"),
        ({"op": "regex_replace", "pattern": "a", "replacement": r"\0"}, "replacement"),
        ({"op": "regex_replace", "pattern": "a", "replacement": "trailing\\"}, "replacement"),
    ],
)
def test_bad_regexes_are_refused_when_compiled(transform: dict[str, Any], field: str) -> None:
    ((name, message),) = invalid(transform)
    assert name == f"rules.0.transforms.0.{field}", message


def test_regexes_run_in_linear_time_and_bounded_input() -> None:
    import time

    # The classic catastrophic-backtracking pattern: RE2 answers at once.
    evil = {"op": "regex_extract", "pattern": r"^(a+)+$", "group": 0}
    started = time.perf_counter()
    assert ok([evil], "a" * 50_000 + "!") is None
    assert time.perf_counter() - started < 0.5
    assert "longer than" in fails([evil], "a" * (MAX_REGEX_INPUT + 1))


def test_regex_replace_output_is_bounded() -> None:
    blow_up = {"op": "regex_replace", "pattern": "b*", "replacement": "x" * 1000}
    assert "too long" in fails([blow_up], "a" * 5000)  # 5 MB if it ran
    assert ok([blow_up], "ab") == "x" * 1000 + "a" + "x" * 2000  # "", "b", "" matched
    assert MAX_TEXT_OUTPUT >= 1_000_000


def test_split_and_join() -> None:
    assert ok([{"op": "split", "sep": ","}], "a,b,,ç") == ["a", "b", "", "ç"]
    assert ok([{"op": "join", "sep": " | "}], ["a", 1, None, True, 2.5]) == "a | 1 | true | 2.5"
    assert ok([{"op": "split", "sep": ";"}, {"op": "join", "sep": "+"}], "x;y") == "x+y"
    assert "expected an array" in fails([{"op": "join", "sep": ","}], "text")
    assert "objects or arrays" in fails([{"op": "join", "sep": ","}], [{"a": 1}])


def test_lookup() -> None:
    table = {"op": "lookup", "table": {"open": "Open", "1": "one", "true": "yes"}}
    assert ok([table], "open") == "Open"
    assert ok([table], 1) == "one"
    assert ok([table], True) == "yes"
    assert ok([table], "unknown") is None  # no default: a missing value
    with_default = {"op": "lookup", "table": {"a": 1}, "default": "other"}
    assert ok([with_default], "zzz") == "other"
    assert "lookup" in fails([table], {"a": 1})


def test_template() -> None:
    greeting = {
        "op": "template",
        "template": "{first} {last} <{value}> {{literal}}",
        "values": {"first": "user.first", "last": "user.names[-1]"},
    }
    payload = {"user": {"first": "Zoë", "names": ["x", "Ødegaard"]}}
    assert ok([greeting], "z@example.org", payload) == "Zoë Ødegaard <z@example.org> {literal}"
    # A missing named value or a null value fills in as empty text.
    assert ok([greeting], None, {}) == "  <> {literal}"
    counts = {"op": "template", "template": "{n} items", "values": {"n": "length(items)"}}
    assert ok([counts], None, {"items": [1, 2, 3]}) == "3 items"


@pytest.mark.parametrize(
    ("transform", "field"),
    [
        ({"op": "template", "template": "{who}"}, "template"),
        ({"op": "template", "template": "a } b"}, "template"),
        ({"op": "template", "template": "{0.__class__}", "values": {}}, "template"),
        ({"op": "template", "template": "{x}", "values": {"x": "a["}}, "values.x"),
        ({"op": "template", "template": "{value}", "values": {"value": "a"}}, "values.value"),
        ({"op": "coalesce", "sources": ["ok", "bad["]}, "sources.1"),
        ({"op": "minor_to_major", "currency": "["}, "currency"),
    ],
)
def test_template_coalesce_and_money_checked_when_compiled(
    transform: dict[str, Any], field: str
) -> None:
    ((name, _),) = invalid(transform)
    assert name == f"rules.0.transforms.0.{field}"


def test_coalesce() -> None:
    pick = {"op": "coalesce", "sources": ["nickname", "profile.name"]}
    assert ok([pick], "kept", {"nickname": "n"}) == "kept"
    assert ok([pick], None, {"profile": {"name": "Ada"}}) == "Ada"
    assert ok([pick], None, {"nickname": "nick", "profile": {"name": "Ada"}}) == "nick"
    assert ok([pick], None, {}) is None
    assert ok([pick], False, {"nickname": "n"}) is False  # only null is replaced


def test_minor_to_major() -> None:
    money = {"op": "minor_to_major", "currency": "cur"}
    assert ok([money], 1099, {"cur": "usd"}) == 10.99
    assert ok([money], 500, {"cur": "JPY"}) == 500
    assert ok([money], 1234, {"cur": "kwd"}) == 1.234
    assert ok([money], "250", {"cur": "eur"}) == 2.5
    assert ok([{"op": "minor_to_major"}], -5) == -0.05  # no currency: two decimals
    assert "whole amount" in fails([money], 10.5, {"cur": "usd"})
    assert "minor_to_major" in fails([money], [1], {"cur": "usd"})


def test_unknown_op_and_unknown_fields_name_the_rule_and_field() -> None:
    with pytest.raises(MappingInvalid) as caught:
        decode_rules(
            [
                {"target": "a", "source": "b"},
                {"target": "c", "source": "d", "transforms": [{"op": "explode"}]},
            ]
        )
    assert [e.field for e in caught.value.errors] == ["rules.1.transforms.0.op"]
    with pytest.raises(MappingInvalid) as caught:
        decode_rules(
            [{"target": "a", "source": "b", "transforms": [{"op": "split", "sep": ",", "max": 2}]}]
        )
    assert caught.value.errors[0].field == "rules.0.transforms.0"
    assert "max" in caught.value.errors[0].message


def test_rules_round_trip_through_json_unchanged() -> None:
    raw = [
        {
            "target": "when",
            "source": "created",
            "transforms": [{"op": "parse_datetime", "format": "unix_s", "tz": "UTC"}],
            "default": "never",
            "required": True,
        },
        {"target": "name", "source": "n"},
    ]
    assert msgspec.to_builtins(decode_rules(raw)) == raw
