"""GitHub: OAuth App user tokens; repository webhooks registered through the API.

Docs: https://docs.github.com/en/rest
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
    key="github",
    name="GitHub",
    category="dev",
    description="Follow repositories, issues and pull requests on GitHub or GitHub "
    "Enterprise Server, with webhooks registered for you.",
    icon="github",
    docs_url="https://docs.github.com/en/rest",
    auth_type="oauth2",
    api_base_url="https://api.github.com",
    # GitHub Enterprise Server: https://HOST/api/v3 (and https://HOST/login/oauth/... for the
    # operator's SWITCHBOARD_GITHUB_*_URL overrides).
    api_base_overridable=True,
    oauth=OAuthSpec(
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        docs_url="https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
        # Public repositories need no scope; creating and deleting repository webhooks does.
        default_scopes=("admin:repo_hook",),
        optional_scopes={
            "repo": "issues and pull requests of private repositories (GitHub has no "
            "read-only private scope)",
            "public_repo": "open issues and comment in public repositories",
            "read:user": "the user's private profile fields",
            "read:org": "organization and team membership",
        },
        scope_separator=" ",
        # S256, optional; not on GitHub Enterprise Server.
        pkce=True,
        # Expiring user tokens (8 h) come with a refresh token that works once.
        refresh_tokens=True,
        rotating_refresh_tokens=True,
        token_endpoint_auth_method="client_secret_post",
        # Errors come as HTTP 200 with GitHub's own codes (https://docs.github.com/en/apps/
        # oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors).
        error_codes={
            "bad_verification_code": "invalid_grant",
            "bad_refresh_token": "invalid_grant",
        },
    ),
    rate_limit=RateLimitPolicy(
        requests=5000,
        per_seconds=3600.0,
        remaining_header="x-ratelimit-remaining",
        reset_header="x-ratelimit-reset",
        reset_kind="epoch",
        # "If the retry-after response header is not present ... wait for at least one
        # minute before retrying."
        default_retry_after=60.0,
        notes="Primary: 5,000 requests per hour per user; over it, 403 or 429 with "
        "x-ratelimit-remaining 0 until x-ratelimit-reset (epoch seconds). Secondary limits "
        "answer 403/429 with Retry-After "
        "(https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).",
    ),
    # A 403 is a rate limit, not a permission error, when the primary quota is spent, when
    # it carries Retry-After, or when its message names a (secondary) rate limit.
    errors=(
        ErrorRule(
            kind="rate_limit",
            status=(403, 429),
            header="x-ratelimit-remaining",
            header_equals="0",
        ),
        ErrorRule(kind="rate_limit", status=(403,), header="retry-after"),
        ErrorRule(kind="rate_limit", status=(403,), body_contains="rate limit"),
    ),
    # 422: {"message": "Validation Failed", "errors": [{"message"|"code": ...}]}
    error_message_paths=("errors.0.message", "errors.0.code", "message"),
    request_headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
    health=HealthCheck(
        path="/user", success_path="login", account_id_path="id", account_name_path="login"
    ),
    webhook=WebhookContract(
        scheme="github-hmac-sha256",
        signing_secret_source="generated",
        event_id_source="header:X-GitHub-Delivery",
        event_type_source="header:X-GitHub-Event",
        docs_url="https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries",
        content_types=("application/json", "application/x-www-form-urlencoded"),
        handshake="ping",
        auto_register=True,
        setup_instructions=(
            "Set config.repository to owner/name and Switchboard creates that repository's "
            "webhook itself (and moves or removes it on rotation and revocation; "
            "config.register_webhook false turns this off). To add it by hand instead: "
            "Repository > Settings > Webhooks > Add webhook; Payload URL {webhook_url}; "
            "Content type application/json; Secret: the generated secret shown here; choose "
            "the events, keep Active checked and save. GitHub then sends a ping event."
        ),
    ),
    # Lists page by the Link header (https://docs.github.com/rest/using-the-rest-api/using-pagination-in-the-rest-api);
    # a conditional request answered 304 costs no rate limit
    # (https://docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api#use-conditional-requests-if-appropriate).
    streams=(
        StreamSpec(
            name="repositories",
            description="Repositories the user can access (GET /user/repos).",
            list=ListCall(
                path="/user/repos",
                params={"sort": "updated", "direction": "desc"},
                paging=Paging(kind="link"),
                page_size_param="per_page",
                page_size=100,
            ),
            updated_path="updated_at",
            backfill=False,
        ),
        StreamSpec(
            name="issues",
            description="Issues (and pull requests, as GitHub lists them) of "
            "config.repository, updated since the last run; a backfill reads from its "
            "since onwards (GitHub has no upper bound filter).",
            required_scopes=("repo",),
            list=ListCall(
                path="/repos/{config.repository}/issues",
                params={"state": "all", "sort": "updated", "direction": "asc", "since": "{since}"},
                paging=Paging(kind="link"),
                page_size_param="per_page",
                page_size=100,
            ),
            incremental=Incremental(kind="watermark", field="updated_at", etag=True),
            updated_path="updated_at",
            # Deleted issues vanish from the list.
            full_marks_deletions=True,
        ),
        StreamSpec(
            name="pull_requests",
            description="Pull requests of config.repository; incremental runs read those "
            "updated since the last run's newest (the pulls list has no since filter: "
            "streams.py reads it newest update first and stops at the bound).",
            required_scopes=("repo",),
            reader="read_pull_requests",
            incremental=Incremental(kind="watermark", field="updated_at", etag=True),
            updated_path="updated_at",
        ),
    ),
    capabilities=("health", "revoke", "sync", "webhooks", "auto_register_webhook"),
)
