"""Telegram: a bot token from @BotFather; updates arrive by webhook (setWebhook).

Docs: https://core.telegram.org/bots/api
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
    key="telegram",
    name="Telegram",
    category="messaging",
    description="Connect a Telegram bot to receive messages and updates sent to it.",
    icon="send",
    docs_url="https://core.telegram.org/bots/api",
    auth_type="api_key",
    api_base_url="https://api.telegram.org",
    credential_fields=(
        CredentialField(
            name="bot_token",
            label="Bot token",
            secret=True,
            # <bot id>:<35 characters>, as @BotFather issues them.
            pattern=r"[0-9]{5,16}:[A-Za-z0-9_-]{35}",
            help="The token @BotFather gave you when you created the bot (/newbot, or "
            "/token for an existing bot).",
            example="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
        ),
    ),
    rate_limit=RateLimitPolicy(
        requests=30,
        per_seconds=1.0,
        notes="About 30 messages per second overall, 1 per second per chat, 20 per minute per "
        "group; 429 carries parameters.retry_after "
        "(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).",
        # ResponseParameters.retry_after (https://core.telegram.org/bots/api#responseparameters)
        retry_after_path="parameters.retry_after",
    ),
    # Every answer is {"ok", "error_code", "description", "parameters"}
    # (https://core.telegram.org/bots/api#making-requests). A token that is not a bot's
    # answers 404: the method path names no bot.
    errors=(
        ErrorRule(kind="auth", status=(404,), message="no bot has this token"),
        ErrorRule(kind="rate_limit", body_path="error_code", body_equals=("429",)),
        ErrorRule(kind="permanent", status=(200,), body_path="ok", body_equals=("false",)),
    ),
    error_message_paths=("description",),
    health=HealthCheck(
        path="getMe",
        success_path="ok",
        success_equals="true",
        account_id_path="result.id",
        account_name_path="result.username",
    ),
    webhook=WebhookContract(
        scheme="telegram-secret-token",
        signing_secret_source="generated",
        event_id_source="body:update_id",
        event_type_source="body:<the update's one optional field, e.g. message>",
        docs_url="https://core.telegram.org/bots/api#setwebhook",
        content_types=("application/json",),
        auto_register=True,
        setup_instructions=(
            "Nothing to do: Switchboard calls setWebhook with {webhook_url} and a generated "
            "secret_token (Telegram requires an HTTPS URL). A bot has a single webhook, so "
            "this replaces any webhook set before and stops getUpdates polling for this bot; "
            "set config.register_webhook to false to keep yours and call setWebhook yourself "
            "with the signing secret as secret_token."
        ),
    ),
    streams=(
        StreamSpec(
            name="updates",
            description="Incoming updates as delivered by the webhook (the Bot API keeps no "
            "history to read back).",
            unavailable="Telegram keeps no history a bot can read back: getUpdates, the "
            "only pull API, refuses to run while a webhook is set (this integration's way of "
            "receiving updates) and holds undelivered updates for 24 hours only. Updates "
            "arrive as webhook events instead.",
        ),
    ),
    capabilities=("health", "webhooks", "auto_register_webhook"),
)
