"""Twilio: Account SID and Auth Token (HTTP Basic); the token also signs webhooks.

Docs: https://www.twilio.com/docs/usage/api
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
    key="twilio",
    name="Twilio",
    category="messaging",
    description="Receive SMS and call events from Twilio numbers and read message history.",
    icon="phone",
    docs_url="https://www.twilio.com/docs/usage/api",
    auth_type="api_key",
    api_base_url="https://api.twilio.com",
    credential_fields=(
        CredentialField(
            name="account_sid",
            label="Account SID",
            secret=False,
            pattern=r"AC[0-9a-f]{32}",
            help="Twilio Console > Account info: the Account SID (starts with AC).",
            example="ACf3a1b2c4d5e6f708192a3b4c5d6e7f80",
        ),
        CredentialField(
            name="auth_token",
            label="Auth Token",
            secret=True,
            pattern=r"[0-9a-f]{32}",
            help="Twilio Console > Account info: the Auth Token. Twilio also signs webhooks "
            "with it, so use the account's primary token.",
            example="9c2d4e6f8a0b1c3d5e7f9a1b3c5d7e9f",
        ),
    ),
    rate_limit=RateLimitPolicy(
        requests=100,
        per_seconds=1.0,
        notes="Twilio limits concurrent requests per account (HTTP 429, error 20429) rather "
        "than publishing a rate (https://www.twilio.com/docs/api/errors/20429).",
    ),
    # Errors are {"code", "message", "more_info", "status"} with plain HTTP statuses
    # (https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions).
    error_message_paths=("message",),
    # The account itself, fetched with its own SID (the SID's pattern is checked first).
    health=HealthCheck(
        path="/2010-04-01/Accounts/{credentials.account_sid}.json",
        success_path="sid",
        account_id_path="sid",
        account_name_path="friendly_name",
    ),
    webhook=WebhookContract(
        scheme="twilio-signature",
        signing_secret_source="credentials",
        event_id_source="body:MessageSid|CallSid, header:I-Twilio-Idempotency-Token",
        event_type_source="body:SmsStatus|MessageStatus|CallStatus",
        docs_url="https://www.twilio.com/docs/usage/webhooks/webhooks-security",
        content_types=("application/x-www-form-urlencoded", "application/json"),
        setup_instructions=(
            "In the Twilio Console open Phone Numbers > Manage > Active numbers, pick the "
            "number, and under Messaging (and Voice, if you want call events) set "
            "'A message comes in' to Webhook, {webhook_url}, HTTP POST. Twilio signs each "
            "request with the Auth Token you entered; nothing else to paste."
        ),
    ),
    # Read Messages pages by `next_page_uri` (https://www.twilio.com/docs/usage/twilios-response#pagination);
    # `DateSent>` keeps those sent since the last run's newest. (Calls are not synced: no
    # published description of the Calls list to check our requests against.)
    streams=(
        StreamSpec(
            name="messages",
            description="SMS/MMS messages of the account; incremental runs read those sent "
            "since the newest of the last run (DateSent>).",
            id_path="sid",
            list=ListCall(
                path="/2010-04-01/Accounts/{credentials.account_sid}/Messages.json",
                params={"DateSent>": "{since}", "DateSent<": "{until}"},
                records_path="messages",
                paging=Paging(kind="next_url", next_path="next_page_uri"),
                page_size_param="PageSize",
                page_size=100,
            ),
            incremental=Incremental(kind="watermark", field="date_sent"),
            updated_path="date_updated",
            # Deleted messages vanish from the list.
            full_marks_deletions=True,
        ),
    ),
    capabilities=("health", "sync", "webhooks"),
)
