"""Google Drive push notifications (`changes.watch` / `files.watch` channels).

No signature exists: the channel token set at watch time is the shared secret (see
`verify_google_channel`). Notifications say only that something changed; the body is empty.
"""

from __future__ import annotations

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
)
from backend.connectors.webhook_normalize import google_channel_event
from backend.connectors.webhook_schemes import GOOGLE_CHANNEL_HEADERS, verify_google_channel


class GoogleDriveWebhook(WebhookHandler):
    stored_headers = GOOGLE_CHANNEL_HEADERS

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        return verify_google_channel(request, secrets)

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        return google_channel_event(headers)


HANDLER = GoogleDriveWebhook()
