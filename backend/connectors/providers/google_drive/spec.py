"""Google Drive: read file metadata and content, follow changes, watch for changes.

Docs: https://developers.google.com/workspace/drive/api/reference/rest/v3
"""

from backend.connectors.providers._google import ERRORS, SCOPE_PREFIX, google_oauth
from backend.connectors.spec import (
    ConnectorSpec,
    HealthCheck,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental

READONLY = SCOPE_PREFIX + "drive.readonly"

SPEC = ConnectorSpec(
    key="google_drive",
    name="Google Drive",
    category="files",
    description="Read files and folders from Google Drive and follow changes as they happen.",
    icon="hard-drive",
    docs_url="https://developers.google.com/workspace/drive/api/reference/rest/v3",
    auth_type="oauth2",
    api_base_url="https://www.googleapis.com/drive/v3",
    oauth=google_oauth(
        default_scopes=(READONLY,),
        optional_scopes={
            SCOPE_PREFIX + "drive.metadata.readonly": "file metadata only, no content "
            "(narrower alternative to drive.readonly)",
            SCOPE_PREFIX + "drive.file": "only files the user opened or created with this app",
        },
    ),
    rate_limit=RateLimitPolicy(
        requests=12000,
        per_seconds=60.0,
        notes="Quota units per minute per user per project (325,000) and per project "
        "(1,000,000), methods costing different units (since 2026-05-01; older projects keep "
        "12,000 queries per minute). Over quota: 403 userRateLimitExceeded or 429, back off "
        "exponentially (https://developers.google.com/workspace/drive/api/guides/limits).",
    ),
    errors=ERRORS,
    health=HealthCheck(
        path="about",
        params={"fields": "user"},
        success_path="user",
        account_id_path="user.emailAddress",
        account_name_path="user.displayName",
    ),
    webhook=WebhookContract(
        scheme="google-channel-token",
        signing_secret_source="generated",
        event_id_source="header:X-Goog-Channel-ID+X-Goog-Message-Number",
        event_type_source="header:X-Goog-Resource-State",
        docs_url="https://developers.google.com/workspace/drive/api/guides/push",
        content_types=(),
        handshake="sync",
        auto_register=True,
        setup_instructions=(
            "No step in Google's console: when the integration connects, Switchboard opens a "
            "watch channel on changes (changes.watch) to {webhook_url} with the generated "
            "channel token and renews it a day before it expires. The first message of a channel "
            "has X-Goog-Resource-State: sync and is only acknowledged."
        ),
    ),
    streams=(
        StreamSpec(
            name="files",
            description="Metadata of the files and folders the user can see (untrashed): in "
            "full by files.list, then incrementally through the changes feed, removed or "
            "trashed files being deletions; backfills bound files by modifiedTime.",
            required_scopes=(READONLY,),
            reader="read_files",
            incremental=Incremental(
                kind="token", token_path="newStartPageToken", token_param="pageToken"
            ),
            updated_path="modifiedTime",
            triggered_by=("change",),
        ),
    ),
    capabilities=("health", "revoke", "sync", "webhooks", "auto_register_webhook"),
)
