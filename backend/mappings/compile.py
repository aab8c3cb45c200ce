"""Rules → a `CompiledMapping`, checked whole: every expression parsed, every regex compiled,
every target placed, once per mapping version rather than once per payload.

The same check serves saving (422 naming the rule and field), import, preview and the
connectors' defaults (a test compiles every shipped default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from backend.lib.errors import FieldError
from backend.mappings import schemas
from backend.mappings.engine import CompiledMapping, CompiledRule
from backend.mappings.paths import SourceError, compile_source, is_plain
from backend.mappings.steps import Step, TransformInvalid
from backend.mappings.transforms import build_step


class MappingInvalid(ValueError):
    """Rules that cannot be saved; `errors` name each rule and field (`rules.2.source`)."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


def decode_rules(raw: Any, field: str = "rules") -> list[schemas.Rule]:
    """Rules from stored or imported JSON, as strictly as the API decodes them."""
    try:
        return msgspec.convert(raw, schemas.Rules, strict=True)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        path = where.rstrip("`").replace("[", ".").replace("]", "")
        raise MappingInvalid([FieldError(f"{field}{path}", message)]) from None


def compile_rules(rules: Sequence[schemas.Rule], version: int = 0) -> CompiledMapping:
    """Compile and check `rules`; raises MappingInvalid listing every problem found."""
    errors: list[FieldError] = []
    compiled: list[CompiledRule] = []
    for index, rule in enumerate(rules):
        where = f"rules.{index}"
        try:
            get = compile_source(rule.source)
        except SourceError as exc:
            errors.append(FieldError(f"{where}.source", str(exc)))
            continue
        steps: list[Step] = []
        for position, transform in enumerate(rule.transforms):
            try:
                steps.append(build_step(transform))
            except TransformInvalid as exc:
                errors.append(FieldError(f"{where}.transforms.{position}.{exc.field}", exc.message))
        compiled.append(
            CompiledRule(
                index=index,
                target=rule.target,
                path=tuple(rule.target.split(".")),
                get=get,
                steps=tuple(steps),
                default=rule.default,
                required=rule.required,
                costly=bool(rule.transforms) or not is_plain(rule.source),
            )
        )
    errors += _target_conflicts(rules)
    if errors:
        raise MappingInvalid(errors)
    return CompiledMapping(tuple(compiled), version)


def _target_conflicts(rules: Sequence[schemas.Rule]) -> list[FieldError]:
    """Duplicate targets, and a target that is both a value and a parent (`a` and `a.b`)."""
    errors: list[FieldError] = []
    leaves: dict[str, int] = {}
    parents: dict[str, int] = {}
    for index, rule in enumerate(rules):
        field = f"rules.{index}.target"
        target = rule.target
        if target in leaves:
            errors.append(FieldError(field, f"duplicate target {target!r} (rule {leaves[target]})"))
            continue
        if target in parents:
            other = parents[target]
            errors.append(
                FieldError(field, f"{target!r} is also the parent of rule {other}'s target")
            )
            continue
        segments = target.split(".")
        prefixes = [".".join(segments[:n]) for n in range(1, len(segments))]
        clash = next((p for p in prefixes if p in leaves), None)
        if clash is not None:
            errors.append(
                FieldError(field, f"{clash!r} is a value of rule {leaves[clash]}, not an object")
            )
            continue
        leaves[target] = index
        for prefix in prefixes:
            parents.setdefault(prefix, index)
    return errors
