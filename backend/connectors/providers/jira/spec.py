"""Jira Cloud (OAuth 2.0 3LO through api.atlassian.com), or Jira Data Center by base override.

Docs: https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/
"""

from backend.connectors.spec import (
    ConnectorSpec,
    HealthCheck,
    OAuthSpec,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental, ListCall, Paging

SPEC = ConnectorSpec(
    key="jira",
    name="Jira",
    category="dev",
    description="Read Jira projects and issues and receive issue webhooks from Jira Cloud or "
    "Jira Data Center.",
    icon="trello",
    docs_url="https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/",
    auth_type="oauth2",
    # Cloud calls go to /ex/jira/{cloud_id}/rest/api/3/...; the cloud id comes from
    # GET https://api.atlassian.com/oauth/token/accessible-resources after consent.
    api_base_url="https://api.atlassian.com",
    # Jira Data Center: https://jira.example.com (REST under /rest/api/2).
    api_base_overridable=True,
    oauth=OAuthSpec(
        authorize_url="https://auth.atlassian.com/authorize",
        token_url="https://auth.atlassian.com/oauth/token",
        docs_url="https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/",
        default_scopes=(
            "read:jira-work",
            "read:jira-user",
            "manage:jira-webhook",
            "offline_access",
        ),
        optional_scopes={
            "write:jira-work": "create and edit issues, comments and worklogs",
        },
        pkce=False,
        refresh_tokens=True,
        # Refresh tokens always rotate; reusing an old one revokes the user's tokens.
        rotating_refresh_tokens=True,
        extra_authorize_params={"audience": "api.atlassian.com", "prompt": "consent"},
        token_endpoint_auth_method="client_secret_post",
    ),
    rate_limit=RateLimitPolicy(
        requests=10,
        per_seconds=1.0,
        remaining_header="X-RateLimit-Remaining",
        reset_header="X-RateLimit-Reset",
        reset_kind="iso8601",
        notes="Cost-based limits without a published rate; 429 carries Retry-After, "
        "X-RateLimit-Reset (ISO 8601) and RateLimit-Reason "
        "(https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).",
    ),
    # Errors: {"errorMessages": [...], "errors": {field: message}}; the cloud gateway's own
    # {"code", "message"} (https://developer.atlassian.com/cloud/jira/platform/rest/v3/intro/).
    error_message_paths=("errorMessages.0", "message"),
    request_headers={"Accept": "application/json"},
    # The current user, on the granted site (the adapter picks Data Center's v2 path). The
    # account is the site the consent granted (its cloud id, from accessible-resources).
    health=HealthCheck(
        path="/ex/jira/{config.cloud_id}/rest/api/3/myself",
        account_from="config",
        account_id_path="cloud_id",
        account_name_path="site_name",
    ),
    webhook=WebhookContract(
        scheme="atlassian-hmac-sha256",
        signing_secret_source="generated",
        event_id_source="header:X-Atlassian-Webhook-Identifier",
        event_type_source="body:webhookEvent",
        docs_url="https://developer.atlassian.com/cloud/jira/platform/webhooks/",
        content_types=("application/json",),
        setup_instructions=(
            "As a Jira administrator open Settings > System > WebHooks > Create a WebHook: "
            "URL {webhook_url}; Secret: the generated secret shown here; pick the issue "
            "events (and a JQL filter if you like) and save. Jira signs each delivery with "
            "X-Hub-Signature: sha256=..."
        ),
    ),
    # Enhanced JQL search paged by nextPageToken
    # (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-get).
    # A full read needs a bounded JQL; JQL dates are read in the user's time zone (minute
    # precision), so incremental runs look back 14 h, the widest UTC offset, and upsert the
    # overlap. Jira Cloud only: the path goes through the gateway with config.cloud_id.
    streams=(
        StreamSpec(
            name="issues",
            description="Issues of every project the user can see; incremental runs read "
            "those updated since the last run's newest (JQL updated >=).",
            required_scopes=("read:jira-work",),
            list=ListCall(
                path="/ex/jira/{config.cloud_id}/rest/api/3/search/jql",
                params={"jql": "project IS NOT EMPTY ORDER BY updated ASC", "fields": "*navigable"},
                records_path="issues",
                paging=Paging(kind="token", param="nextPageToken", next_path="nextPageToken"),
                page_size_param="maxResults",
                page_size=100,
            ),
            incremental=Incremental(
                kind="watermark",
                field="fields.updated",
                lookback_seconds=14 * 3600,
                call=ListCall(
                    path="/ex/jira/{config.cloud_id}/rest/api/3/search/jql",
                    params={
                        "jql": 'updated >= "{since}" ORDER BY updated ASC',
                        "fields": "*navigable",
                    },
                    records_path="issues",
                    paging=Paging(kind="token", param="nextPageToken", next_path="nextPageToken"),
                    page_size_param="maxResults",
                    page_size=100,
                    time_format="jql",
                ),
            ),
            updated_path="fields.updated",
        ),
    ),
    capabilities=("health", "sync", "webhooks"),
    # The cloud id every Cloud API path contains comes from a call after consent.
    hooks=("after_consent",),
)
