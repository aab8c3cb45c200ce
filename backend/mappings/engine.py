"""Apply a compiled mapping to one payload: every rule's value or its error, never a raise.

A rule that fails (a cast error, a required value missing, a runtime JMESPath error) becomes
one `FieldError`, and the rest of the mapping still applies: the event or record is stored
and processed with what succeeded. Rules run against a time budget, checked before each
rule that can be costly (general JMESPath or transforms), so a mapping's run is bounded by
the budget plus one rule, and a rule's cost by the (bounded) size of its input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from jmespath.exceptions import JMESPathError

from backend.mappings.paths import Getter
from backend.mappings.steps import FieldFailure, Step

# Seconds one payload's mapping may take before the remaining costly rules are skipped.
TIME_BUDGET_SECONDS = 0.05
_MESSAGE_LIMIT = 300


@dataclass(frozen=True, slots=True)
class FieldError:
    rule: int
    target: str
    message: str


@dataclass(frozen=True, slots=True)
class MappingResult:
    """What a mapping produced: the output object, the version applied (0 for a connector
    default) and the rules that produced nothing."""

    mapped: dict[str, Any]
    version: int
    errors: list[FieldError] = field(default_factory=list)

    def errors_as_json(self) -> list[dict[str, Any]]:
        return [{"rule": e.rule, "target": e.target, "message": e.message} for e in self.errors]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    target: str
    path: tuple[str, ...]  # the target split at dots
    get: Getter
    steps: tuple[Step, ...]
    default: Any
    required: bool
    costly: bool  # general JMESPath or any transform: checked against the budget


@dataclass(frozen=True, slots=True)
class CompiledMapping:
    rules: tuple[CompiledRule, ...]
    version: int = 0

    def apply(self, payload: Any, budget: float = TIME_BUDGET_SECONDS) -> MappingResult:
        """Map `payload` (an event's `data`, a synced record): never raises."""
        mapped: dict[str, Any] = {}
        errors: list[FieldError] = []
        deadline = time.perf_counter() + budget
        for rule in self.rules:
            if rule.costly and time.perf_counter() > deadline:
                errors.append(FieldError(rule.index, rule.target, "skipped: time budget spent"))
                continue
            try:
                value = rule.get(payload)
                for step in rule.steps:
                    value = step(value, payload)
            except FieldFailure as exc:
                errors.append(FieldError(rule.index, rule.target, _message(str(exc))))
                continue
            except JMESPathError as exc:
                errors.append(FieldError(rule.index, rule.target, _message(f"source: {exc}")))
                continue
            except Exception as exc:  # one rule's failure never stops the rest
                errors.append(FieldError(rule.index, rule.target, _unexpected(exc)))
                continue
            if value is None:
                if rule.default is not None:
                    value = rule.default
                elif rule.required:
                    errors.append(FieldError(rule.index, rule.target, "required value is missing"))
                    continue
            path = rule.path
            if len(path) == 1:
                mapped[path[0]] = value
            else:
                _place(mapped, path, value)
        return MappingResult(mapped, self.version, errors)


def _place(mapped: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    """Set a dotted target; compilation refused targets that are both leaf and parent."""
    node = mapped
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value


def _message(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _unexpected(exc: BaseException) -> str:
    # Only the kind: an unexpected error's text may quote internals.
    if isinstance(exc, RecursionError):
        return "the value is nested too deeply"
    if isinstance(exc, MemoryError):
        return "the value is too large"
    return f"could not map the value ({type(exc).__name__})"
