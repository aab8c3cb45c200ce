"""Google Drive push notifications (`changes.watch` / `files.watch` channels).

Shared with the other Google push channel: see `_google.GoogleChannelWebhook`.
"""

from backend.connectors.providers._google import GoogleChannelWebhook

HANDLER = GoogleChannelWebhook()
