"""WhatsApp: a system-user token as a bearer token; health and Graph's error codes are data
in its spec."""

from backend.connectors.base import Adapter
from backend.connectors.providers.whatsapp.spec import SPEC


class WhatsAppAdapter(Adapter):
    spec = SPEC
