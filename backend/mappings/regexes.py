"""Regex transforms on RE2 (google-re2): matching time is linear in the input whatever the
pattern, so no pattern can backtrack catastrophically. Inputs and outputs are still bounded
so a step's cost stays proportional to a small, known size."""

from __future__ import annotations

import re
from typing import Any

import re2

from backend.mappings import schemas
from backend.mappings.steps import (
    MAX_TEXT_OUTPUT,
    FieldFailure,
    Step,
    TransformInvalid,
    require_text,
)

# Longest text a regex step reads.
MAX_REGEX_INPUT = 100_000
# RE2's memory budget per compiled pattern (its default is 8 MiB as well).
REGEX_MAX_MEM = 8 << 20


def compile_pattern(pattern: str) -> Any:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = REGEX_MAX_MEM
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise TransformInvalid("pattern", f"not a valid RE2 pattern: {reason}") from None
    except (TypeError, ValueError) as exc:
        raise TransformInvalid("pattern", f"not a valid RE2 pattern: {exc}") from None


def _regex_input(value: Any, op: str) -> str:
    text = require_text(value, op)
    if len(text) > MAX_REGEX_INPUT:
        raise FieldFailure(f"{op}: text longer than {MAX_REGEX_INPUT} characters")
    return text


def build_regex_extract(spec: schemas.RegexExtractOp) -> Step:
    compiled = compile_pattern(spec.pattern)
    group: int | str = spec.group if spec.group is not None else (1 if compiled.groups else 0)
    if isinstance(group, int) and not 0 <= group <= compiled.groups:
        raise TransformInvalid("group", f"the pattern has {compiled.groups} group(s)")
    if isinstance(group, str) and group not in compiled.groupindex:
        raise TransformInvalid("group", f"the pattern has no group named {group!r}")

    def regex_extract(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        found = compiled.search(_regex_input(value, "regex_extract"))
        return None if found is None else found.group(group)

    return regex_extract


# Backslash escapes a replacement may use: a group by number or name, or a backslash.
_REPLACEMENT_ESCAPE = re.compile(r"\\(?:g<([^>]*)>|([0-9]{1,2})|(\\)|(.?))", re.DOTALL)


def _check_replacement(replacement: str, compiled: Any) -> None:
    for match in _REPLACEMENT_ESCAPE.finditer(replacement):
        name, number, _, other = match.groups()
        if other is not None:
            raise TransformInvalid(
                "replacement", "use \\1 or \\g<name> for groups and \\\\ for a backslash"
            )
        if number is not None and not 1 <= int(number) <= compiled.groups:
            raise TransformInvalid("replacement", f"no group {number} in the pattern")
        if name is not None:
            if name.isdigit():
                if int(name) > compiled.groups:
                    raise TransformInvalid("replacement", f"no group {name} in the pattern")
            elif name not in compiled.groupindex:
                raise TransformInvalid("replacement", f"no group named {name!r} in the pattern")


def build_regex_replace(spec: schemas.RegexReplaceOp) -> Step:
    compiled = compile_pattern(spec.pattern)
    _check_replacement(spec.replacement, compiled)
    replacement = spec.replacement
    references = sum(1 for m in _REPLACEMENT_ESCAPE.finditer(replacement) if m.group(3) is None)

    def regex_replace(value: Any, payload: Any = None) -> Any:
        if value is None:
            return None
        text = _regex_input(value, "regex_replace")
        # Matches do not overlap, so groups copy at most the text once per reference; the
        # literal part is added once per match. Count matches only when that could overflow.
        copied = len(text) * (1 + references)
        if copied + (len(text) + 1) * len(replacement) > MAX_TEXT_OUTPUT:
            matches = sum(1 for _ in compiled.finditer(text))
            if copied + matches * len(replacement) > MAX_TEXT_OUTPUT:
                raise FieldFailure("regex_replace: the result would be too long")
        return compiled.sub(replacement, text)

    return regex_replace
