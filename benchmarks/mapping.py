"""Field-mapping micro-benchmark: mapped payloads per second on one core.

`make bench` runs `.venv/bin/python -m benchmarks.mapping` (never the test suite). It maps
the recorded GitHub `issues.opened` delivery (tests/fixtures/github) with two 20-rule
mappings compiled once, as the worker does:

- plain: 20 dotted paths (the common case; the engine's direct getter);
- mixed: 8 dotted paths, 4 general JMESPath sources (wildcard, filter, function,
  multi-select) and 8 rules with transforms (parse_datetime, lower, trim, to_int,
  regex_extract, lookup, template, to_string).

Beside them, in the same run: a bare baseline (the same 20 paths read by hand-written dict
lookups) and the 20 plain paths through jmespath's own compiled expressions (the issue's
reference of ~6,200/s). Goals (issue 13): plain >= 50,000/s, mixed >= 10,000/s.

The process is pinned to one CPU; each figure is the best of `--repeats` timed runs of
`--seconds` each. Prints a table and writes benchmarks/results/mapping-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jmespath
import msgspec

from backend.mappings.compile import compile_rules, decode_rules
from backend.mappings.engine import CompiledMapping

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
FIXTURE = ROOT / "tests" / "fixtures" / "github" / "issues__opened.json"
GOALS = {"plain": 50_000.0, "mixed": 10_000.0}

PLAIN_PATHS = [
    "action",
    "issue.id",
    "issue.number",
    "issue.title",
    "issue.state",
    "issue.locked",
    "issue.comments",
    "issue.created_at",
    "issue.updated_at",
    "issue.body",
    "issue.html_url",
    "issue.author_association",
    "issue.user.login",
    "issue.user.id",
    "issue.assignee.login",
    "issue.milestone.title",
    "repository.full_name",
    "repository.owner.login",
    "repository.default_branch",
    "sender.login",
]
PLAIN = [{"target": f"f{i}", "source": path} for i, path in enumerate(PLAIN_PATHS)]
_WHEN = [{"op": "parse_datetime", "format": "iso8601"}]
MIXED = [
    *({"target": f"p{i}", "source": path} for i, path in enumerate(PLAIN_PATHS[:8])),
    {"target": "labels", "source": "issue.labels[*].name"},
    {"target": "bugs", "source": "issue.labels[?name == 'bug'].name"},
    {"target": "assignees", "source": "length(issue.assignees)"},
    {"target": "who", "source": "{login: issue.user.login, id: issue.user.id}"},
    {"target": "created", "source": "issue.created_at", "transforms": _WHEN},
    {"target": "updated", "source": "issue.updated_at", "transforms": _WHEN},
    {"target": "state", "source": "issue.state", "transforms": [{"op": "upper"}]},
    {"target": "title", "source": "issue.title", "transforms": [{"op": "trim"}, {"op": "lower"}]},
    {"target": "number", "source": "issue.number", "transforms": [{"op": "to_int"}]},
    {
        "target": "issue_path",
        "source": "issue.html_url",
        "transforms": [{"op": "regex_extract", "pattern": "github\\.com/(.+)$"}],
    },
    {
        "target": "role",
        "source": "issue.author_association",
        "transforms": [{"op": "lookup", "table": {"OWNER": "owner"}, "default": "other"}],
    },
    {
        "target": "summary",
        "source": "issue.number",
        "transforms": [
            {"op": "template", "template": "#{value} {t}", "values": {"t": "issue.title"}}
        ],
    },
]


def pin_to_one_core() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"cpu {cpu}"
    except (AttributeError, OSError):
        return "unpinned"


def rate(work: Callable[[], Any], seconds: float, repeats: int) -> float:
    """Best calls/s over `repeats` runs of about `seconds` each (batches of 1,000)."""
    best = 0.0
    for _ in range(repeats):
        calls, started = 0, time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            for _ in range(1000):
                work()
            calls += 1000
        best = max(best, calls / (time.perf_counter() - started))
    return best


def hand_written(payload: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """The bare baseline: the 20 plain paths by direct dict lookups, nothing else."""
    splits = [p.split(".") for p in PLAIN_PATHS]

    def run() -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, keys in enumerate(splits):
            value: Any = payload
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            out[f"f{i}"] = value
        return out

    return run


def jmespath_only(payload: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    compiled = [(f"f{i}", jmespath.compile(p)) for i, p in enumerate(PLAIN_PATHS)]
    return lambda: {target: expression.search(payload) for target, expression in compiled}


def mapping(rules: list[dict[str, Any]]) -> CompiledMapping:
    return compile_rules(decode_rules(rules), version=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pinned = pin_to_one_core()
    body = FIXTURE.read_bytes()
    payload = msgspec.json.decode(body)
    plain, mixed = mapping(PLAIN), mapping(MIXED)
    for compiled in (plain, mixed):
        result = compiled.apply(payload)
        assert not result.errors and len(result.mapped) == 20, result.errors
    cases: dict[str, Callable[[], Any]] = {
        "baseline: hand-written dict lookups (20 paths)": hand_written(payload),
        "jmespath compiled expressions (20 paths)": jmespath_only(payload),
        "plain": lambda: plain.apply(payload),
        "mixed": lambda: mixed.apply(payload),
        "plain, decoding the delivery first": lambda: plain.apply(msgspec.json.decode(body)),
    }
    rates = {name: rate(work, args.seconds, args.repeats) for name, work in cases.items()}
    print(f"mapped payloads per second ({pinned}, best of {args.repeats} x {args.seconds}s)")
    for name, per_second in rates.items():
        goal = GOALS.get(name)
        verdict = "" if goal is None else ("  goal met" if per_second >= goal else "  BELOW goal")
        print(f"  {name:50s} {per_second:>12,.0f}/s{verdict}")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out = RESULTS_DIR / f"mapping-{now.date().isoformat()}.json"
    out.write_text(
        json.dumps(
            {
                "date": now.isoformat(),
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "settings": {"seconds": args.seconds, "repeats": args.repeats, "cpu": pinned},
                "goals_per_s": GOALS,
                "per_s": {name: round(value) for name, value in rates.items()},
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
