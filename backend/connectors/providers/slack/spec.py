"""Slack: a bot installed in a workspace (OAuth v2), reading channels and receiving events.

Docs: https://docs.slack.dev/reference/methods
"""

from backend.connectors.spec import (
    ConnectorSpec,
    ErrorRule,
    HealthCheck,
    OAuthSpec,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental, ListCall, Paging

SPEC = ConnectorSpec(
    key="slack",
    name="Slack",
    category="chat",
    description="Install a bot in a Slack workspace to read public channels and receive "
    "Events API deliveries.",
    icon="message-square",
    docs_url="https://docs.slack.dev/reference/methods",
    auth_type="oauth2",
    api_base_url="https://slack.com/api",
    oauth=OAuthSpec(
        authorize_url="https://slack.com/oauth/v2/authorize",
        token_url="https://slack.com/api/oauth.v2.access",
        revoke_url="https://slack.com/api/auth.revoke",
        docs_url="https://docs.slack.dev/authentication/installing-with-oauth",
        # Bot scopes (`scope`); user scopes would go in `user_scope`.
        default_scopes=("channels:read", "channels:history"),
        optional_scopes={
            "users:read": "the users stream",
            "groups:read": "private channels the bot was added to",
            "groups:history": "messages of private channels the bot was added to",
            "chat:write": "post messages as the bot",
        },
        scope_separator=",",
        scope_param="scope",
        # Enabling PKCE on a Slack app is one-way and shortens refresh tokens to 30 days.
        pkce=False,
        # Only for apps that opt into token rotation (12 h tokens; each refresh invalidates
        # the old refresh token); without rotation tokens never expire.
        refresh_tokens=True,
        rotating_refresh_tokens=True,
        token_endpoint_auth_method="client_secret_basic",
        # oauth.v2.access names the workspace, the bot user and the installing user
        # (https://docs.slack.dev/reference/methods/oauth.v2.access).
        token_response_metadata={
            "team_id": "team.id",
            "team_name": "team.name",
            "enterprise_id": "enterprise.id",
            "bot_user_id": "bot_user_id",
            "app_id": "app_id",
            "authed_user_id": "authed_user.id",
        },
        # The bot token is top level (xoxb-); a user token (xoxp-) comes under authed_user.
        user_token_path="authed_user",
        # Failures come as HTTP 200 with ok: false; these mean the grant is gone.
        error_codes={
            "invalid_refresh_token": "invalid_grant",
            "token_revoked": "invalid_grant",
            "token_expired": "invalid_grant",
        },
    ),
    rate_limit=RateLimitPolicy(
        requests=50,
        per_seconds=60.0,
        notes="Per method, per workspace, per app tiers (Tier 3: 50+/min); a limited call "
        "answers 429 with Retry-After and error ratelimited "
        "(https://docs.slack.dev/apis/web-api/rate-limits).",
    ),
    # Slack answers most failures with HTTP 200 and {"ok": false, "error": "<code>"}; the
    # codes are listed per method (https://docs.slack.dev/reference/methods/auth.test#errors).
    errors=(
        ErrorRule(
            kind="auth",
            body_path="error",
            body_equals=(
                "invalid_auth",
                "not_authed",
                "token_revoked",
                "token_expired",
                "account_inactive",
            ),
        ),
        ErrorRule(kind="rate_limit", body_path="error", body_equals=("ratelimited",)),
        ErrorRule(kind="permanent", status=(200,), body_path="ok", body_equals=("false",)),
    ),
    error_message_paths=("error",),
    health=HealthCheck(
        method="POST",
        path="auth.test",
        success_path="ok",
        success_equals="true",
        account_id_path="team_id",
        account_name_path="team",
    ),
    webhook=WebhookContract(
        scheme="slack-v0",
        signing_secret_source="user",
        event_id_source="body:event_id",
        event_type_source="body:event.type",
        docs_url="https://docs.slack.dev/authentication/verifying-requests-from-slack",
        content_types=("application/json", "application/x-www-form-urlencoded"),
        handshake="url_verification",
        # One Request URL per Slack app: every workspace's events carry `team_id`. The
        # operator's app signs with SWITCHBOARD_SLACK_WEBHOOK_SECRET (its signing secret).
        app_level=True,
        account_id_source="body:team_id",
        app_secret_env="WEBHOOK_SECRET",
        setup_instructions=(
            "1. In your Slack app's settings (api.slack.com/apps), open Event Subscriptions, "
            "turn Enable Events on and set the Request URL to {webhook_url} (Slack sends a "
            "url_verification challenge, which Switchboard answers).\n"
            "2. Under Subscribe to bot events add the events you need, for example "
            "message.channels, then save and reinstall the app if Slack asks.\n"
            "3. Copy the Signing Secret from Basic Information > App Credentials and paste "
            "it here."
        ),
    ),
    # Cursor pagination: `response_metadata.next_cursor` sent back as `cursor`
    # (https://docs.slack.dev/apis/web-api/pagination).
    streams=(
        StreamSpec(
            name="channels",
            description="Public channels (conversations.list).",
            required_scopes=("channels:read",),
            list=ListCall(
                path="/conversations.list",
                params={"types": "public_channel", "exclude_archived": "false"},
                records_path="channels",
                paging=Paging(
                    kind="token", param="cursor", next_path="response_metadata.next_cursor"
                ),
                page_size_param="limit",
                page_size=200,
            ),
            backfill=False,
        ),
        StreamSpec(
            name="messages",
            description="History of the channel in config.channel (conversations.history); "
            "incremental runs read messages newer than the last run's newest (oldest).",
            required_scopes=("channels:history",),
            id_path="ts",
            list=ListCall(
                path="/conversations.history",
                params={"channel": "{config.channel}", "oldest": "{since}", "latest": "{until}"},
                records_path="messages",
                paging=Paging(
                    kind="token", param="cursor", next_path="response_metadata.next_cursor"
                ),
                page_size_param="limit",
                page_size=200,
                time_format="epoch",
            ),
            incremental=Incremental(kind="watermark", field="ts"),
            updated_path="ts",
        ),
        StreamSpec(
            name="users",
            description="Workspace members (users.list); deactivated ones stay, with deleted.",
            required_scopes=("users:read",),
            list=ListCall(
                path="/users.list",
                records_path="members",
                paging=Paging(
                    kind="token", param="cursor", next_path="response_metadata.next_cursor"
                ),
                page_size_param="limit",
                page_size=200,
            ),
            updated_path="updated",
            backfill=False,
        ),
    ),
    capabilities=("health", "revoke", "sync", "webhooks"),
)
