"""HubSpot's adapter: everything it does is in the spec (bearer token, the account call as
health check, the error table); the class exists because the registry loads one per folder."""

from __future__ import annotations

from backend.connectors.base import Adapter
from backend.connectors.providers.hubspot.spec import SPEC


class HubSpotAdapter(Adapter):
    spec = SPEC
