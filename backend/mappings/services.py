"""Saving, listing, restoring, previewing and moving mappings; every query through the
caller's `TenantScope`.

A save never edits a version: it inserts the next one and makes it current, under a
transaction-scoped advisory lock per integration, so concurrent saves and imports get
distinct, gap-free version numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.integrations import services as integrations
from backend.integrations.services import RequestMeta
from backend.lib.errors import FieldError, Problem, not_found
from backend.lib.pagination import paginate
from backend.lib.tenancy import TenantScope
from backend.mappings import schemas
from backend.mappings.compile import MappingInvalid, compile_rules, decode_rules
from backend.mappings.defaults import default_rules
from backend.mappings.tables import IntegrationMapping
from backend.observability.services import write_audit

_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended({}, 0))"


def invalid(errors: list[FieldError], prefix: str = "") -> Problem:
    """422 naming every rule and field at fault."""
    named = [FieldError(f"{prefix}{e.field}", e.message) for e in errors]
    detail = "; ".join(f"{e.field}: {e.message}" for e in named)
    return Problem(422, detail[:2000], errors=named)


def check(rules: Sequence[schemas.Rule], prefix: str = "") -> None:
    try:
        compile_rules(rules)
    except MappingInvalid as exc:
        raise invalid(exc.errors, prefix) from None


def _stored_rules(row: dict[str, Any]) -> list[schemas.Rule]:
    raw = row["rules"]
    return decode_rules(msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw)


def to_mapping(row: dict[str, Any]) -> schemas.Mapping:
    return schemas.Mapping(
        row["source_type"], _stored_rules(row), row["version"], row["created_at"]
    )


def to_version(row: dict[str, Any]) -> schemas.MappingVersion:
    return schemas.MappingVersion(
        row["version"], _stored_rules(row), row["created_at"], row["active"], row["restored_from"]
    )


async def _current_rows(scope: TenantScope, integration: dict[str, Any]) -> list[dict[str, Any]]:
    return await (
        scope.select(IntegrationMapping)
        .where(
            (IntegrationMapping.integration == integration["id"])
            & (IntegrationMapping.active == True)  # noqa: E712 - a SQL comparison
        )
        .order_by(IntegrationMapping.source_type)
    )


async def list_mappings(scope: TenantScope, integration_id: str) -> list[schemas.Mapping]:
    """Saved mappings, then the connector's defaults of sources the tenant has not saved."""
    integration = await integrations.get(scope, integration_id)
    saved = [to_mapping(r) for r in await _current_rows(scope, integration)]
    taken = {m.source for m in saved}
    defaults = [
        schemas.Mapping(source, rules, 0, None)
        for source, rules in sorted(default_rules(integration["connector"]).items())
        if source not in taken
    ]
    return saved + defaults


@dataclass(frozen=True, slots=True)
class _NewVersion:
    source: str
    rules: list[schemas.Rule]
    restored_from: int | None = None


async def _insert_versions(
    scope: TenantScope, integration: dict[str, Any], new: Sequence[_NewVersion]
) -> list[schemas.Mapping]:
    """Make each a new current version, all in one transaction (all or nothing)."""
    saved: list[schemas.Mapping] = []
    async with IntegrationMapping._meta.db.transaction():
        await IntegrationMapping.raw(_LOCK, f"mapping:{integration['id']}")
        for item in new:
            where = (IntegrationMapping.integration == integration["id"]) & (
                IntegrationMapping.source_type == item.source
            )
            latest = (
                await scope.select(IntegrationMapping, IntegrationMapping.version)
                .where(where)
                .order_by(IntegrationMapping.version, ascending=False)
                .first()
            )
            await scope.update(IntegrationMapping, {IntegrationMapping.active: False}).where(
                where & (IntegrationMapping.active == True)  # noqa: E712 - a SQL comparison
            )
            row = scope.new(
                IntegrationMapping,
                integration=integration["id"],
                source_type=item.source,
                version=(latest["version"] if latest else 0) + 1,
                rules=msgspec.json.encode(item.rules).decode(),
                active=True,
                restored_from=item.restored_from,
                created_at=dt.datetime.now(dt.UTC),
            )
            await row.save()
            saved.append(
                schemas.Mapping(item.source, list(item.rules), row.version, row.created_at)
            )
    return saved


async def _audit(
    scope: TenantScope, meta: RequestMeta, action: str, integration_id: str, **details: Any
) -> None:
    await write_audit(
        scope.tenant_id,
        meta.actor,
        action,
        "integration",
        integration_id,
        ip=meta.ip,
        user_agent=meta.user_agent,
        details=details,
    )


async def save(
    scope: TenantScope, integration_id: str, data: schemas.MappingSave, meta: RequestMeta
) -> schemas.Mapping:
    integration = await integrations.get(scope, integration_id)
    check(data.rules)
    (mapping,) = await _insert_versions(scope, integration, [_NewVersion(data.source, data.rules)])
    await _audit(
        scope, meta, "mapping.save", integration_id, source=data.source, version=mapping.version
    )
    return mapping


async def versions(
    scope: TenantScope, integration_id: str, source: str, *, limit: int, cursor: str | None
) -> tuple[list[schemas.MappingVersion], str | None]:
    integration = await integrations.get(scope, integration_id)
    query = scope.select(IntegrationMapping).where(
        (IntegrationMapping.integration == integration["id"])
        & (IntegrationMapping.source_type == source)
    )
    rows, next_cursor = await paginate(query, time_column="created_at", cursor=cursor, limit=limit)
    return [to_version(r) for r in rows], next_cursor


async def restore(
    scope: TenantScope, integration_id: str, version: int, source: str, meta: RequestMeta
) -> schemas.Mapping:
    """A new current version with the rules of `version` (history is never rewritten)."""
    integration = await integrations.get(scope, integration_id)
    row = (
        await scope.select(IntegrationMapping)
        .where(
            (IntegrationMapping.integration == integration["id"])
            & (IntegrationMapping.source_type == source)
            & (IntegrationMapping.version == version)
        )
        .first()
    )
    if row is None:
        raise not_found("mapping version")
    rules = _stored_rules(row)
    check(rules)
    (mapping,) = await _insert_versions(
        scope, integration, [_NewVersion(source, rules, restored_from=version)]
    )
    await _audit(
        scope,
        meta,
        "mapping.restore",
        integration_id,
        source=source,
        version=mapping.version,
        restored_from=version,
    )
    return mapping


async def export(scope: TenantScope, integration_id: str) -> schemas.MappingExport:
    """Every source the tenant saved (connector defaults ship with the code)."""
    integration = await integrations.get(scope, integration_id)
    rows = await _current_rows(scope, integration)
    return schemas.MappingExport(
        mappings=[schemas.MappingEntry(r["source_type"], _stored_rules(r)) for r in rows],
        connector=integration["connector"],
        exported_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )


async def import_mappings(
    scope: TenantScope, integration_id: str, document: schemas.MappingExport, meta: RequestMeta
) -> list[schemas.Mapping]:
    """Every entry becomes a new current version, or none does (422 naming the entry)."""
    integration = await integrations.get(scope, integration_id)
    if document.connector is not None and document.connector != integration["connector"]:
        raise invalid(
            [
                FieldError(
                    "connector",
                    f"the document holds {document.connector} mappings; this integration "
                    f"is {integration['connector']}",
                )
            ]
        )
    errors: list[FieldError] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(document.mappings):
        if entry.source in seen:
            errors.append(
                FieldError(
                    f"mappings.{index}.source",
                    f"duplicate source {entry.source!r} (entry {seen[entry.source]})",
                )
            )
            continue
        seen[entry.source] = index
        try:
            compile_rules(entry.rules)
        except MappingInvalid as exc:
            errors += [FieldError(f"mappings.{index}.{e.field}", e.message) for e in exc.errors]
    if errors:
        raise invalid(errors)
    imported = await _insert_versions(
        scope, integration, [_NewVersion(e.source, e.rules) for e in document.mappings]
    )
    await _audit(
        scope,
        meta,
        "mapping.import",
        integration_id,
        sources=[m.source for m in imported],
        versions=[m.version for m in imported],
    )
    return imported


def preview(rules: Sequence[schemas.Rule], document: Any) -> schemas.PreviewResult:
    try:
        mapping = compile_rules(rules)
    except MappingInvalid as exc:
        raise invalid(exc.errors) from None
    result = mapping.apply(document)
    return schemas.PreviewResult(
        result.mapped,
        [schemas.MappingFieldError(e.rule, e.target, e.message) for e in result.errors],
    )
