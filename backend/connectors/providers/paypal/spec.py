"""PayPal: the merchant's own REST app credentials through the client_credentials grant.

"Log in with PayPal" yields identity only, never a merchant's payments, so a tenant connects
with the client id and secret of a REST app in its own PayPal developer account.
Docs: https://developer.paypal.com/api/rest/
"""

from backend.connectors.spec import (
    ConnectorSpec,
    CredentialField,
    HealthCheck,
    OAuthSpec,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental

SPEC = ConnectorSpec(
    key="paypal",
    name="PayPal",
    category="payments",
    description="Receive PayPal payment, dispute and subscription events and read "
    "transactions with your PayPal REST app.",
    icon="wallet",
    docs_url="https://developer.paypal.com/api/rest/",
    auth_type="oauth2",
    # Sandbox: https://api-m.sandbox.paypal.com (SWITCHBOARD_PAYPAL_API_BASE_URL).
    api_base_url="https://api-m.paypal.com",
    oauth=OAuthSpec(
        # Only used by "Log in with PayPal"; the client_credentials grant needs no consent.
        authorize_url="https://www.paypal.com/signin/authorize",
        token_url="https://api-m.paypal.com/v1/oauth2/token",
        docs_url="https://developer.paypal.com/api/rest/authentication/",
        pkce=False,
        # A token lives about 9 hours; fetch a new one, there is no refresh token.
        refresh_tokens=False,
        token_endpoint_auth_method="client_secret_basic",
        grant_type="client_credentials",
    ),
    credential_fields=(
        CredentialField(
            name="client_id",
            label="Client ID",
            secret=False,
            pattern=r"[A-Za-z0-9_-]{20,128}",
            help="developer.paypal.com > Apps & Credentials > your REST app (Live or "
            "Sandbox): Client ID.",
            example="AeJ7Cq1ZsimulatedPayPalClientId0000000000000000000000000000000000000000000000",
        ),
        CredentialField(
            name="client_secret",
            label="Secret",
            secret=True,
            pattern=r"[A-Za-z0-9_-]{20,128}",
            help="The same app's Secret key (Show, then copy).",
            example="EL2k9JsimulatedPayPalSecret000000000000000000000000000000000000000000000000000",
        ),
    ),
    rate_limit=RateLimitPolicy(
        requests=50,
        per_seconds=1.0,
        notes="PayPal publishes no fixed rate; over the limit it answers 429 "
        "RATE_LIMIT_REACHED (https://developer.paypal.com/api/rest/reference/rate-limiting/).",
    ),
    # REST errors: {"name", "message", "details": [{"issue", "description"}]}; the token
    # endpoint's: {"error", "error_description"} (https://developer.paypal.com/api/rest/responses/).
    error_message_paths=("details.0.description", "message", "error_description", "error"),
    # The app's webhooks: any app token may list them.
    health=HealthCheck(path="/v1/notifications/webhooks"),
    webhook=WebhookContract(
        scheme="paypal-rsa-sha256",
        # The webhook id PayPal assigns; it is part of the signed string.
        signing_secret_source="user",
        event_id_source="body:id",
        event_type_source="body:event_type",
        docs_url="https://developer.paypal.com/api/rest/webhooks/rest/",
        content_types=("application/json",),
        setup_instructions=(
            "On developer.paypal.com open Apps & Credentials, pick the same REST app, and "
            "under Webhooks click Add Webhook: Webhook URL {webhook_url}, select the event "
            "types and save. Copy the Webhook ID shown in the list and paste it here: PayPal "
            "signs deliveries with a certificate, and the signed string includes that ID."
        ),
    ),
    streams=(
        StreamSpec(
            name="transactions",
            description="Transactions from the Transaction Search API, walked in 31-day "
            "windows over the last three years (PayPal's limits); searchable about 3 hours "
            "after they happen, so incremental runs resume from the data's last refresh.",
            reader="read_transactions",
            # The watermark is the end of the last window read, capped at the data's last
            # refresh: streams.py keeps it (no record field says it).
            incremental=Incremental(kind="watermark"),
            id_path="transaction_info.transaction_id",
            updated_path="transaction_info.transaction_updated_date",
            # A full run reads three years back; older transactions still exist.
            full_marks_deletions=False,
        ),
    ),
    capabilities=("health", "sync", "webhooks"),
)
