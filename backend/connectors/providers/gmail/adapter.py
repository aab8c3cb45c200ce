"""Gmail: its spec and the Google family's shared module, plus the mailbox watch.

Push needs users.watch on the operator's Pub/Sub topic (config `pubsub_topic`); Gmail drops
a watch after 7 days, so the renewal cron calls it again before `expiration`.
Docs: https://developers.google.com/workspace/gmail/api/guides/push#watch_request
"""

from backend.connectors.base import ProviderError, WebhookRegistration, json_object
from backend.connectors.providers._google import GoogleAdapter, expiration_at
from backend.connectors.providers.gmail.spec import SPEC
from backend.lib.vocab import FailureKind

TOPIC_KEY = "pubsub_topic"


class GmailAdapter(GoogleAdapter):
    spec = SPEC

    async def register_webhook(
        self, url: str, signing_secret: str | None, existing_id: str | None
    ) -> WebhookRegistration:
        """users.watch: (re)start the mailbox's watch; calling it again renews it in place.
        `url` is not sent: Pub/Sub's push subscription holds it."""
        topic = self.ctx.config.get(TOPIC_KEY)
        if not isinstance(topic, str) or not topic.startswith("projects/"):
            raise ProviderError(
                FailureKind.MISCONFIGURED,
                "set config.pubsub_topic to the Pub/Sub topic "
                "(projects/<project>/topics/<topic>) to start the Gmail watch",
            )
        answer = await self.call("POST", "gmail/v1/users/me/watch", json={"topicName": topic})
        body = json_object(answer)
        return WebhookRegistration(
            provider_id=topic,
            description=f"Gmail watch on {topic}",
            expires_at=expiration_at(body),
        )

    async def unregister_webhook(self, provider_id: str) -> None:
        """users.stop: no more notifications for this mailbox."""
        await self.call_if_exists("POST", "gmail/v1/users/me/stop")
