"""Google Calendar push notifications (`events.watch` channels).

Shared with the other Google push channel: see `_google.GoogleChannelWebhook`.
"""

from backend.connectors.providers._google import GoogleChannelWebhook

HANDLER = GoogleChannelWebhook()
