"""Google Calendar's `events` stream: events.list on the integration's calendar
(config `calendar_id`, default the user's primary: a default data cannot state).

Recurring events are expanded (`singleEvents`), so every record is one occurrence. The last
page of a full or incremental read carries `nextSyncToken`, the next run's cursor; a read
with it returns only what changed, cancelled events included (`status: cancelled`, the
stream's deletions). A token Google no longer accepts answers 410 Gone: a full read follows.
A backfill bounds occurrences by their time (`timeMin`/`timeMax`), which a sync token
cannot be combined with.
Docs: https://developers.google.com/workspace/calendar/api/guides/sync
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backend.connectors.base import Adapter, ProviderError, json_object
from backend.connectors.providers._google import items, rfc3339
from backend.connectors.streams import CursorExpired, Page, PageRequest

if TYPE_CHECKING:
    from backend.connectors.spec import StreamSpec

# events.list answers at most 2500 per page; 250 is its default.
PAGE_SIZE = 250


def events_path(config: dict[str, Any]) -> str:
    calendar = config.get("calendar_id")
    calendar_id = calendar if isinstance(calendar, str) and calendar else "primary"
    return f"calendars/{quote(calendar_id, safe='@')}/events"


async def read_events(adapter: Adapter, stream: StreamSpec, request: PageRequest) -> Page:
    params: dict[str, Any] = {"maxResults": PAGE_SIZE, "singleEvents": "true"}
    syncing = request.mode == "incremental" and request.cursor is not None
    if syncing:
        token = (request.cursor or {}).get("syncToken")
        if not isinstance(token, str) or not token:
            raise CursorExpired("the stored cursor has no syncToken")
        params["syncToken"] = token
    elif request.mode == "backfill":
        if request.since is not None:
            params["timeMin"] = rfc3339(request.since)
        if request.until is not None:
            params["timeMax"] = rfc3339(request.until)
    page_token = (request.position or {}).get("pageToken")
    if isinstance(page_token, str) and page_token:
        params["pageToken"] = page_token
    try:
        answer = await adapter.call("GET", events_path(adapter.ctx.config), params=params)
    except ProviderError as exc:
        if syncing and exc.status_code == 410:
            raise CursorExpired("Google Calendar no longer accepts the sync token") from exc
        raise
    body = json_object(answer)
    records = items(body, "items")
    next_page = body.get("nextPageToken")
    if isinstance(next_page, str) and next_page:
        return Page(records, position={"pageToken": next_page})
    sync_token = body.get("nextSyncToken")
    if request.mode == "backfill" or not isinstance(sync_token, str) or not sync_token:
        return Page(records)
    return Page(records, cursor={"syncToken": sync_token})
