"""Google Calendar: read calendars and events, receive change notifications by watch channel.

Docs: https://developers.google.com/workspace/calendar/api/v3/reference
"""

from backend.connectors.providers._google import ERRORS, SCOPE_PREFIX, google_oauth
from backend.connectors.spec import (
    ConnectorSpec,
    HealthCheck,
    RateLimitPolicy,
    StreamSpec,
    WebhookContract,
)
from backend.connectors.streams import Incremental, ListCall, Paging

CALENDAR_LIST = SCOPE_PREFIX + "calendar.calendarlist.readonly"
EVENTS_READ = SCOPE_PREFIX + "calendar.events.readonly"
# The last page's nextSyncToken, sent back as syncToken; 410 Gone: the token expired.
_SYNC_TOKEN = Incremental(
    kind="token", token_path="nextSyncToken", token_param="syncToken", reset_statuses=(410,)
)

SPEC = ConnectorSpec(
    key="google_calendar",
    name="Google Calendar",
    category="calendar",
    description="Read a user's calendars and events and get notified when events change.",
    icon="calendar",
    docs_url="https://developers.google.com/workspace/calendar/api/v3/reference",
    auth_type="oauth2",
    api_base_url="https://www.googleapis.com/calendar/v3",
    oauth=google_oauth(
        # calendarList.list (the health check, the calendars stream) needs the calendar-list
        # scope; events.list and events.watch accept calendar.events.readonly.
        default_scopes=(CALENDAR_LIST, EVENTS_READ),
        optional_scopes={
            SCOPE_PREFIX + "calendar.events": "create, change and delete events",
        },
    ),
    rate_limit=RateLimitPolicy(
        requests=600,
        per_seconds=60.0,
        notes="Per-user and per-project per-minute quotas; 403 usageLimits reasons "
        "(rateLimitExceeded, userRateLimitExceeded) or 429 mean back off exponentially "
        "(https://developers.google.com/workspace/calendar/api/guides/quota).",
    ),
    errors=ERRORS,
    health=HealthCheck(
        path="/users/me/calendarList",
        params={"maxResults": "1"},
    ),
    webhook=WebhookContract(
        scheme="google-channel-token",
        signing_secret_source="generated",
        event_id_source="header:X-Goog-Channel-ID+X-Goog-Message-Number",
        event_type_source="header:X-Goog-Resource-State",
        docs_url="https://developers.google.com/workspace/calendar/api/guides/push",
        # Notifications carry no body: everything is in the X-Goog-* headers.
        content_types=(),
        handshake="sync",
        auto_register=True,
        setup_instructions=(
            "No step in Google's console: when the integration connects, Switchboard opens a "
            "watch channel (events.watch on config.calendar_id, default primary) to "
            "{webhook_url} with the generated channel token "
            "and renews it a day before it expires (7 days). The first message of a "
            "channel has X-Goog-Resource-State: sync and is only acknowledged."
        ),
    ),
    streams=(
        StreamSpec(
            name="calendars",
            description="The calendars in the user's calendar list, incrementally with a "
            "syncToken (removed calendars come back with deleted: true).",
            required_scopes=(CALENDAR_LIST,),
            list=ListCall(
                path="/users/me/calendarList",
                records_path="items",
                paging=Paging(kind="token", param="pageToken", next_path="nextPageToken"),
                page_size_param="maxResults",
                page_size=250,
            ),
            incremental=_SYNC_TOKEN,
            deleted_path="deleted",
            deleted_value=True,
            # calendarList.list cannot be bounded in time.
            backfill=False,
        ),
        StreamSpec(
            name="events",
            description="Events (recurring ones expanded) of config.calendar_id, default "
            "primary; incrementally with a syncToken, cancelled events being deletions; "
            "backfills bound occurrences by their time.",
            required_scopes=(EVENTS_READ,),
            reader="read_events",
            incremental=_SYNC_TOKEN,
            updated_path="updated",
            deleted_path="status",
            deleted_value="cancelled",
            triggered_by=("exists",),
        ),
    ),
    capabilities=("health", "revoke", "sync", "webhooks", "auto_register_webhook"),
)
