"""HubSpot CRM: contacts, companies and deals through a public app (OAuth 2.0 with refresh).

Docs: https://developers.hubspot.com/docs/api/usage-details

HubSpot publishes no API description we vendor in ../shared/provider-apis, so the simulator
answers with the example bodies of HubSpot's own reference pages, and the webhook fixtures
under tests/fixtures/hubspot/ follow the documented payload; every source is the URL given
beside the fact it backs (here, in simulator.py and in tests/fixtures/hubspot/SOURCES.md).

Webhooks belong to the app, not to a portal: HubSpot sends every installed portal's events
to the app's one target URL, in batches of up to 100, signed with the app's client secret
(https://developers.hubspot.com/docs/api/webhooks).
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
    key="hubspot",
    name="HubSpot",
    category="crm",
    description="Read the contacts, companies and deals of a HubSpot portal and receive "
    "their change events.",
    icon="handshake",
    docs_url="https://developers.hubspot.com/docs/api/usage-details",
    auth_type="oauth2",
    api_base_url="https://api.hubapi.com",
    oauth=OAuthSpec(
        authorize_url="https://app.hubspot.com/oauth/authorize",
        token_url="https://api.hubapi.com/oauth/v1/token",
        docs_url="https://developers.hubspot.com/docs/api/working-with-oauth",
        # `oauth` is what the account call (health) needs; webhooks need contacts read.
        default_scopes=(
            "oauth",
            "crm.objects.contacts.read",
            "crm.objects.companies.read",
            "crm.objects.deals.read",
        ),
        optional_scopes={
            "crm.objects.contacts.write": "create and update contacts",
            "crm.objects.companies.write": "create and update companies",
            "crm.objects.deals.write": "create and update deals",
        },
        scope_separator=" ",
        # The token endpoint takes a code_verifier
        # (https://developers.hubspot.com/beta-docs/reference/api/app-management/oauth).
        pkce=True,
        # Access tokens live 30 minutes; the refresh token stays the same across refreshes.
        refresh_tokens=True,
        rotating_refresh_tokens=False,
        token_endpoint_auth_method="client_secret_post",
    ),
    rate_limit=RateLimitPolicy(
        requests=100,
        per_seconds=10.0,
        remaining_header="X-HubSpot-RateLimit-Remaining",
        notes="OAuth apps: 100 requests per 10 seconds per app per portal, no daily limit "
        "(https://developers.hubspot.com/changelog/heads-up-new-and-improved-hubspot-api-limits); "
        "every answer carries X-HubSpot-RateLimit-Max, -Remaining and -Interval-Milliseconds; "
        "a 429 names its policy (TEN_SECONDLY_ROLLING) and carries Retry-After "
        "(https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines).",
    ),
    # HubSpot's errors ({"status": "error", "message", "correlationId", "category"}; a 429
    # adds errorType RATE_LIMIT and policyName, https://developers.hubspot.com/docs/api-reference/error-handling)
    # use the statuses of the default table (401/403 auth, 429 with Retry-After, 5xx) and put
    # their text at `message`, the default message path: no rules of its own.
    # The account call names the portal the token belongs to (the token-info call would
    # too, but it carries the token in its URL path, where logs and traces see it).
    health=HealthCheck(
        path="/account-info/v3/details",
        success_path="portalId",
        account_id_path="portalId",
    ),
    webhook=WebhookContract(
        scheme="hubspot-v3",
        # The operator's app: every portal's events come to POST /api/webhooks/hubspot,
        # signed with the app's client secret (SWITCHBOARD_HUBSPOT_CLIENT_SECRET), and go to
        # the integrations connected to the event's portal.
        app_level=True,
        account_id_source="body:portalId",
        app_secret_env="CLIENT_SECRET",
        # An integration's own URL serves a tenant's own HubSpot app: its client secret.
        signing_secret_source="user",
        # The dedupe key is `{subscriptionId}:{eventId}` (webhook.py says why).
        event_id_source="body:eventId",
        event_type_source="body:subscriptionType",
        docs_url="https://developers.hubspot.com/docs/api/webhooks",
        content_types=("application/json",),
        setup_instructions=(
            "Nothing to do when you connect through the operator's HubSpot app: its webhook "
            "subscriptions cover every portal that installs it, and your portal's events "
            "reach this integration.\n"
            "Only with a HubSpot app of your own: in its Webhooks settings set the Target URL "
            "to {webhook_url}, subscribe to the events you need (for example "
            "contact.creation, contact.propertyChange, company.creation, deal.creation) and "
            "paste the app's Client secret (Auth page) here: HubSpot signs every request with "
            "it (X-HubSpot-Signature-v3)."
        ),
    ),
    # Lists page by `after` (paging.next.after); incremental runs use the CRM search API on
    # the last-modified date (contacts name it `lastmodifieddate`), ascending, whose
    # answers reach at most 10,000 results per query
    # (https://developers.hubspot.com/docs/api-reference/search/guide).
    streams=tuple(
        StreamSpec(
            name=kind,
            description=f"{kind.title()} (crm/v3/objects/{kind}); incremental runs search "
            f"on {modified} since the last run's newest.",
            required_scopes=(f"crm.objects.{kind}.read",),
            list=ListCall(
                path=f"/crm/v3/objects/{kind}",
                params={"archived": "false"},
                records_path="results",
                paging=Paging(kind="token", param="after", next_path="paging.next.after"),
                page_size_param="limit",
                page_size=100,
            ),
            incremental=Incremental(
                kind="watermark",
                field="updatedAt",
                call=ListCall(
                    path=f"/crm/v3/objects/{kind}/search",
                    method="POST",
                    body={
                        "filterGroups": [
                            {
                                "filters": [
                                    {
                                        "propertyName": modified,
                                        "operator": "GTE",
                                        "value": "{since}",
                                    },
                                    {
                                        "propertyName": modified,
                                        "operator": "LTE",
                                        "value": "{until}",
                                    },
                                ]
                            }
                        ],
                        "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                    },
                    records_path="results",
                    paging=Paging(
                        kind="token", param="after", next_path="paging.next.after", in_body=True
                    ),
                    page_size_param="limit",
                    page_size=200,
                    time_format="epoch_ms",
                ),
            ),
            updated_path="updatedAt",
        )
        for kind, modified in (
            ("contacts", "lastmodifieddate"),
            ("companies", "hs_lastmodifieddate"),
            ("deals", "hs_lastmodifieddate"),
        )
    ),
    capabilities=("health", "sync", "webhooks"),
)
