"""Gmail: read mail and history, receive push notifications through Cloud Pub/Sub.

Docs: https://developers.google.com/workspace/gmail/api/reference/rest
"""

from backend.connectors.providers._google import ERRORS, SCOPE_PREFIX, google_oauth
from backend.connectors.spec import (
    ConnectorSpec,
    HealthCheck,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental, ListCall

READONLY = SCOPE_PREFIX + "gmail.readonly"

SPEC = ConnectorSpec(
    key="gmail",
    name="Gmail",
    category="email",
    description="Read messages and labels from a Gmail mailbox and react to new mail "
    "through Gmail push notifications.",
    icon="mail",
    docs_url="https://developers.google.com/workspace/gmail/api/reference/rest",
    auth_type="oauth2",
    api_base_url="https://gmail.googleapis.com",
    oauth=google_oauth(
        default_scopes=(READONLY,),
        optional_scopes={
            SCOPE_PREFIX + "gmail.metadata": "headers and labels only, instead of full messages",
            SCOPE_PREFIX + "gmail.send": "send messages on the user's behalf",
        },
    ),
    rate_limit=RateLimitPolicy(
        requests=250,
        per_seconds=1.0,
        notes="250 quota units per user per second; a method costs 1-100 units "
        "(https://developers.google.com/workspace/gmail/api/reference/quota).",
    ),
    errors=ERRORS,
    health=HealthCheck(
        path="/gmail/v1/users/me/profile",
        success_path="emailAddress",
        account_id_path="emailAddress",
        account_name_path="emailAddress",
    ),
    webhook=WebhookContract(
        scheme="google-pubsub-oidc",
        # The audience the Pub/Sub push subscription puts into its OIDC token.
        signing_secret_source="user",
        event_id_source="body:message.messageId",
        event_type_source="constant:gmail.history",
        docs_url="https://developers.google.com/workspace/gmail/api/guides/push",
        content_types=("application/json",),
        # One push subscription for the operator's Pub/Sub topic serves every mailbox; the
        # mailbox is `emailAddress` in the base64 `message.data` (webhook.py's split). The
        # operator sets the audience (SWITCHBOARD_GMAIL_WEBHOOK_SECRET) and the push
        # service account (SWITCHBOARD_GMAIL_PUSH_SERVICE_ACCOUNT).
        app_level=True,
        auto_register=True,
        account_id_source="body:emailAddress",
        app_secret_env="WEBHOOK_SECRET",
        app_config_env={"service_account_email": "PUSH_SERVICE_ACCOUNT"},
        setup_instructions=(
            "1. In Google Cloud, create a Pub/Sub topic and grant "
            "gmail-api-push@system.gserviceaccount.com the Pub/Sub Publisher role on it.\n"
            "2. Create a push subscription on the topic with endpoint {webhook_url}, enable "
            "authentication with a service account of your project, and set an audience "
            "(for example {webhook_url}).\n"
            "3. Enter that audience here, and set the integration's config "
            "service_account_email to that service account's email (required: any Google "
            "account can mint a token for an audience, so pushes are accepted only from "
            "this account, with a verified email).\n"
            "4. Set the integration's config pubsub_topic to the topic's full name "
            "(projects/<project>/topics/<topic>): Switchboard calls users.watch on it and "
            "renews the watch a day before Gmail drops it (after 7 days)."
        ),
    ),
    streams=(
        StreamSpec(
            name="messages",
            description="Messages (metadata: headers, labels, snippet): in full by "
            "users.messages.list, then incrementally through users.history from the "
            "historyId the last run ended at; an expired historyId means a full read.",
            required_scopes=(READONLY,),
            reader="read_messages",
            incremental=Incremental(
                kind="token",
                token_path="historyId",
                token_param="startHistoryId",
                reset_statuses=(404,),
            ),
            # A full read lists the whole mailbox (spam and trash aside): a message it does
            # not see was deleted or trashed. Backfills search `after:`/`before:`.
            triggered_by=("gmail.history",),
        ),
        StreamSpec(
            name="labels",
            description="The mailbox's labels (one page: Gmail lists them all at once).",
            required_scopes=(READONLY,),
            list=ListCall(path="/gmail/v1/users/me/labels", records_path="labels"),
            backfill=False,
        ),
    ),
    capabilities=("health", "revoke", "sync", "webhooks", "auto_register_webhook"),
)
