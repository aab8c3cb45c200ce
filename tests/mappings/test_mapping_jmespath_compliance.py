"""The official JMESPath compliance cases (vendored, see jmespath_compliance/README.md), run
through the mapping's own source compiler: plain dotted paths take the direct getter, the
rest the general evaluator, and both must give the specification's answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jmespath
import pytest
from jmespath.exceptions import JMESPathError

from backend.mappings.paths import SourceError, compile_source, is_plain

CASES_DIR = Path(__file__).parent / "jmespath_compliance"


def _cases() -> list[Any]:
    found = []
    for path in sorted(CASES_DIR.glob("*.json")):
        for suite_index, suite in enumerate(json.loads(path.read_text())):
            for case_index, case in enumerate(suite["cases"]):
                found.append(
                    pytest.param(suite["given"], case, id=f"{path.stem}-{suite_index}-{case_index}")
                )
    return found


CASES = _cases()


def test_the_vendored_suite_is_whole() -> None:
    # 12 files of the suite: a truncated copy would quietly test less.
    assert len(list(CASES_DIR.glob("*.json"))) == 12
    assert len(CASES) == 694


@pytest.mark.parametrize(("given", "case"), CASES)
def test_compliance_case(given: Any, case: dict[str, Any]) -> None:
    expression = case["expression"]
    if "error" in case:
        # Parse errors at compile time; runtime errors (a zero slice step is a ValueError
        # in the reference implementation) become the rule's field error in the engine.
        with pytest.raises((SourceError, JMESPathError, ValueError)):
            compile_source(expression)(given)
        return
    assert compile_source(expression)(given) == case["result"]


def test_plain_paths_take_the_direct_getter_and_agree_with_jmespath() -> None:
    plain = [(g, c) for g, c in (p.values for p in CASES) if is_plain(c["expression"])]
    assert len(plain) >= 60  # basic, identifiers, escape... exercise the fast path
    for given, case in plain:
        getter = compile_source(case["expression"])
        assert getter.__module__ == "backend.mappings.paths"  # not jmespath's evaluator
        assert getter(given) == jmespath.search(case["expression"], given)
