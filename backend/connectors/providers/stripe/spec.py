"""Stripe: a secret or restricted API key; webhook endpoints registered through the API.

Docs: https://docs.stripe.com/api
"""

from backend.connectors.spec import (
    ConnectorSpec,
    CredentialField,
    HealthCheck,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental, ListCall, Paging

SPEC = ConnectorSpec(
    key="stripe",
    name="Stripe",
    category="payments",
    description="Sync customers, charges and invoices from a Stripe account and receive its "
    "events.",
    icon="credit-card",
    docs_url="https://docs.stripe.com/api",
    auth_type="api_key",
    api_base_url="https://api.stripe.com",
    credential_fields=(
        CredentialField(
            name="secret_key",
            label="Secret or restricted key",
            secret=True,
            pattern=r"(sk|rk)_(test|live)_[0-9A-Za-z]{10,247}",
            help="Developers > API keys: a secret key (sk_live_/sk_test_) or, better, a "
            "restricted key (rk_live_/rk_test_) with read access to Accounts (to name the "
            "account) and the objects you sync, and write access to Webhook Endpoints for "
            "automatic registration.",
            example="sk_test_51MzQ2aLkdIwHu7ixSimulatedKey000000000000",
        ),
    ),
    rate_limit=RateLimitPolicy(
        requests=100,
        per_seconds=1.0,
        notes="100 operations per second in live mode, 25 in test mode; 429 with "
        "Stripe-Rate-Limited-Reason (https://docs.stripe.com/rate-limits).",
    ),
    # Errors are {"error": {"type", "code", "message", "param"}} with plain HTTP statuses
    # (https://docs.stripe.com/api/errors): the default table and `error.message` suffice.
    error_message_paths=("error.message",),
    # The key's own account (https://docs.stripe.com/api/accounts/retrieve): readable by any
    # secret key and by restricted keys granted connected_account_read
    # (https://docs.stripe.com/keys/permissions-reference); it names the account.
    health=HealthCheck(
        path="/v1/account",
        success_path="object",
        success_equals="account",
        account_id_path="id",
        account_name_path="business_profile.name",
    ),
    webhook=WebhookContract(
        scheme="stripe-v1",
        signing_secret_source="user",
        event_id_source="body:id",
        event_type_source="body:type",
        docs_url="https://docs.stripe.com/webhooks#verify-events",
        content_types=("application/json",),
        auto_register=True,
        setup_instructions=(
            "Leave the signing secret empty and, with a key allowed to write webhook "
            "endpoints, Switchboard creates the endpoint (all events) and keeps its signing "
            "secret. To add it by hand: Developers > Webhooks > Add "
            "endpoint; Endpoint URL {webhook_url}; select the events; then reveal the "
            "endpoint's Signing secret (whsec_...) and paste it here."
        ),
    ),
    # Lists page by `starting_after` while `has_more` (https://docs.stripe.com/api/pagination),
    # newest first; `created` never changes, so an incremental run reads what was created
    # since the newest object of the last run (`created[gte]`, the overlap upserted again).
    streams=tuple(
        StreamSpec(
            name=name,
            description=description,
            list=ListCall(
                path=f"/v1/{name}",
                params={"created[gte]": "{since}", "created[lte]": "{until}"},
                records_path="data",
                paging=Paging(kind="last_id", param="starting_after", has_more_path="has_more"),
                page_size_param="limit",
                page_size=100,
                time_format="epoch",
            ),
            incremental=Incremental(kind="watermark", field="created"),
            updated_path="created",
            # Deleted customers and draft invoices vanish from the lists; charges stay.
            full_marks_deletions=name != "charges",
        )
        for name, description in (
            ("customers", "Customers; incremental runs read those created since the last run."),
            ("charges", "Charges; incremental runs read those created since the last run."),
            ("invoices", "Invoices; incremental runs read those created since the last run."),
        )
    ),
    capabilities=("health", "sync", "webhooks", "auto_register_webhook"),
)
