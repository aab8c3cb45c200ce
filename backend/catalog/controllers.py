"""The connector catalog API."""

from __future__ import annotations

from litestar import Controller, get

from backend.catalog.schemas import ConnectorDetail, ConnectorList
from backend.catalog.services import to_connector, to_connector_detail
from backend.connectors.registry import get_provider, providers
from backend.lib.errors import not_found
from backend.settings import get_settings


class ConnectorController(Controller):
    path = "/api/connectors"
    tags = ["connectors"]

    @get(
        "/",
        operation_id="list_connectors",
        summary="The connector catalog, with capabilities and whether each is configured",
    )
    async def list_connectors(self) -> ConnectorList:
        disabled = get_settings().disabled_connectors
        return ConnectorList(
            [to_connector(p, True) for key, p in providers().items() if key not in disabled]
        )

    @get(
        "/{connector_id:str}",
        operation_id="get_connector",
        summary="One connector of the catalog, with the webhook event types it can simulate",
    )
    async def get_connector(self, connector_id: str) -> ConnectorDetail:
        if connector_id in get_settings().disabled_connectors:
            raise not_found("connector")
        try:
            provider = get_provider(connector_id)
        except KeyError:
            raise not_found("connector") from None
        return to_connector_detail(provider, True)
