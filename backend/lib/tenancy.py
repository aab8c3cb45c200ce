"""The one place tenant-owned queries are scoped.

Handlers and services never write `where(Table.tenant == ...)` themselves: they ask a
`TenantScope` for a query, and the scope adds the tenant filter (reads, updates,
deletes) or the tenant value (inserts). A row of another tenant is therefore invisible,
and answers 404 exactly like a missing one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from piccolo.columns import Column
from piccolo.query import Delete, Objects, Select, Update
from piccolo.table import Table

from backend.lib.errors import not_found

T = TypeVar("T", bound=Table)


@dataclass(frozen=True, slots=True)
class TenantScope:
    tenant_id: uuid.UUID
    actor: str = "system"

    def _tenant_col(self, table: type[Table]) -> Column:
        column = getattr(table, "tenant", None)
        if column is None:
            raise TypeError(f"{table.__name__} is not tenant-owned")
        return column

    def select(self, table: type[T], *columns: Any) -> Select:
        """Rows of this tenant only, JSON columns decoded."""
        return (
            table.select(*columns)
            .where(self._tenant_col(table) == self.tenant_id)
            .output(load_json=True)
        )

    def objects(self, table: type[T]) -> Objects[T]:
        return table.objects().where(self._tenant_col(table) == self.tenant_id)

    def update(self, table: type[T], values: dict[Any, Any]) -> Update:
        return table.update(values).where(self._tenant_col(table) == self.tenant_id)

    def delete(self, table: type[T]) -> Delete:
        return table.delete().where(self._tenant_col(table) == self.tenant_id)

    def new(self, table: type[T], **values: Any) -> T:
        """A row stamped with this tenant, ready to insert."""
        return table(tenant=self.tenant_id, **values)

    async def get(self, table: type[T], row_id: uuid.UUID | str, what: str = "") -> dict[str, Any]:
        try:
            key = uuid.UUID(str(row_id))
        except ValueError:
            raise not_found(what or table._meta.tablename.replace("_", " ")) from None
        row = await self.select(table).where(table._meta.primary_key == key).first()
        if row is None:
            raise not_found(what or table._meta.tablename.replace("_", " "))
        return row
