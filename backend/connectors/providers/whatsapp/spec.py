"""WhatsApp Business Platform (Cloud API): a system-user access token and a phone number id.

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api
"""

from backend.connectors.spec import (
    ConnectorSpec,
    CredentialField,
    ErrorRule,
    HealthCheck,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)

SPEC = ConnectorSpec(
    key="whatsapp",
    name="WhatsApp Business",
    category="messaging",
    description="Receive and send WhatsApp messages through the WhatsApp Cloud API.",
    icon="message-circle",
    docs_url="https://developers.facebook.com/docs/whatsapp/cloud-api",
    auth_type="api_key",
    api_base_url="https://graph.facebook.com/v21.0",
    credential_fields=(
        CredentialField(
            name="access_token",
            label="Access token",
            secret=True,
            pattern=r"[A-Za-z0-9]{32,2048}",
            help="A permanent System User access token with the whatsapp_business_messaging "
            "and whatsapp_business_management permissions (Business Settings > System users); "
            "it starts with EAA.",
            example="EAAGm0PX4ZCpsBO7ZBsimulatedSystemUserAccessToken0ZD",
        ),
        CredentialField(
            name="phone_number_id",
            label="Phone number ID",
            secret=False,
            pattern=r"[0-9]{6,20}",
            help="WhatsApp Manager or App Dashboard > WhatsApp > API Setup: the Phone number "
            "ID (not the phone number itself).",
            example="106540352242922",
        ),
    ),
    rate_limit=RateLimitPolicy(
        requests=80,
        per_seconds=1.0,
        notes="80 messages per second per phone number by default; Graph throttling errors "
        "(codes 4, 80007, 130429) ask to back off "
        "(https://developers.facebook.com/docs/whatsapp/cloud-api/overview#throughput). "
        "X-Business-Use-Case-Usage is JSON (call_count, estimated_time_to_regain_access "
        "in minutes), not a remaining count.",
    ),
    # Graph reports throttling and bad tokens by `error.code`, often under HTTP 400, so the
    # code decides before the status
    # (https://developers.facebook.com/docs/graph-api/guides/error-handling,
    # https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes).
    errors=(
        ErrorRule(kind="auth", body_path="error.code", body_equals=("102", "190")),
        ErrorRule(
            kind="rate_limit",
            body_path="error.code",
            body_equals=("4", "17", "32", "613", "80007", "130429", "131056"),
        ),
    ),
    error_message_paths=("error.error_user_msg", "error.message"),
    health=HealthCheck(
        path="{credentials.phone_number_id}",
        params={"fields": "display_phone_number,verified_name"},
        success_path="id",
        account_id_path="id",
        account_name_path="display_phone_number",
    ),
    webhook=WebhookContract(
        scheme="meta-x-hub-signature-256",
        # The app secret of the Meta app that receives the webhooks.
        signing_secret_source="user",
        event_id_source="body:entry[].changes[].value.messages[].id",
        event_type_source="body:entry[].changes[].field",
        docs_url="https://developers.facebook.com/docs/graph-api/webhooks/getting-started",
        content_types=("application/json",),
        handshake="hub.challenge",
        # Whoever knows it passes Meta's subscription check for this URL from any Meta app.
        secret_config=("verify_token",),
        # Meta sends every number's events to the app's one callback URL; each change names
        # its number (webhook.py's split keeps one change per stored event). The operator's
        # app secret is SWITCHBOARD_WHATSAPP_WEBHOOK_SECRET, its verify token
        # SWITCHBOARD_WHATSAPP_VERIFY_TOKEN.
        app_level=True,
        account_id_source="body:entry.0.changes.0.value.metadata.phone_number_id",
        app_secret_env="WEBHOOK_SECRET",
        app_config_env={"verify_token": "VERIFY_TOKEN"},
        setup_instructions=(
            "1. In the Meta App Dashboard open WhatsApp > Configuration and, under Webhook, "
            "click Edit: Callback URL {webhook_url}, Verify token the verify_token you set in "
            "this integration's config (kept sealed; shown here only as set); Meta checks it "
            "with a GET request that Switchboard answers.\n"
            "2. Under Webhook fields subscribe to messages.\n"
            "3. Copy the App secret (App settings > Basic) and paste it here: Meta signs "
            "every delivery with it."
        ),
    ),
    streams=(
        StreamSpec(
            name="messages",
            description="Inbound messages and delivery statuses as delivered by webhook (the "
            "Cloud API keeps no message history to read back).",
            unavailable="The WhatsApp Cloud API keeps no message history to read back: "
            "messages and delivery statuses exist only as the webhook events Meta sends "
            "when they happen.",
        ),
    ),
    capabilities=("health", "webhooks"),
)
