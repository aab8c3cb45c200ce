"""The connector catalog API."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get

from backend.connectors.catalog import catalog_entry
from backend.connectors.config import connector_config
from backend.connectors.registry import get_provider, providers
from backend.lib.errors import not_found
from backend.settings import get_settings


class ConnectorController(Controller):
    path = "/api/connectors"
    tags = ["connectors"]

    @get("/", summary="The connector catalog, with capabilities and whether each is configured")
    async def list_connectors(self) -> dict[str, list[dict[str, Any]]]:
        disabled = get_settings().disabled_connectors
        return {
            "items": [
                catalog_entry(p, connector_config(p.spec), key not in disabled)
                for key, p in providers().items()
                if key not in disabled
            ]
        }

    @get("/{connector_id:str}", summary="One connector of the catalog")
    async def get_connector(self, connector_id: str) -> dict[str, Any]:
        if connector_id in get_settings().disabled_connectors:
            raise not_found("connector")
        try:
            provider = get_provider(connector_id)
        except KeyError:
            raise not_found("connector") from None
        return catalog_entry(provider, connector_config(provider.spec), True)
