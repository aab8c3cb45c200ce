"""Generic webhook: there is no provider API, so its spec has no health check to run."""

from backend.connectors.base import Adapter
from backend.connectors.providers.webhook.spec import SPEC


class GenericWebhookAdapter(Adapter):
    spec = SPEC
