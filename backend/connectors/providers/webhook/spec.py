"""Generic webhook: any sender that signs per the Standard Webhooks specification.

Docs: https://www.standardwebhooks.com/
"""

from backend.connectors.spec import ConnectorSpec, RateLimitPolicy, WebhookContract

SPEC = ConnectorSpec(
    key="webhook",
    name="Generic webhook",
    category="generic",
    description="Receive signed JSON webhooks from any service that follows the Standard "
    "Webhooks specification.",
    icon="webhook",
    docs_url="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
    auth_type="none",
    # No provider API to call.
    api_base_url="",
    rate_limit=RateLimitPolicy(requests=1, per_seconds=1.0, notes="No provider API is called."),
    webhook=WebhookContract(
        scheme="standard-webhooks",
        signing_secret_source="generated",
        event_id_source="header:webhook-id",
        event_type_source="body:type",
        docs_url="https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md",
        content_types=("application/json",),
        setup_instructions=(
            "Configure the sending service to POST JSON to {webhook_url} and to sign each "
            "request per Standard Webhooks (webhook-id, webhook-timestamp and "
            "webhook-signature headers, HMAC-SHA256) with the generated secret shown here "
            "(whsec_...). Deliveries older than 5 minutes are rejected."
        ),
    ),
    capabilities=("webhooks",),
)
