"""How a sync reads one stream: the page contract between the sync engine and a provider.

The engine (`backend/syncs/`) never knows a provider's list API. It asks a stream's reader
for one page at a time, handing back the `position` the previous page returned, and stores
each page's records together with that position in one transaction. A worker killed at any
instant therefore resumes from the last committed page: the position is the only state a
run has, so readers are pure functions of (adapter, PageRequest).

Most streams are data (`StreamSpec.list`, read by `backend/connectors/stream_reader.py`);
a provider whose list API data cannot describe (Gmail's history, Drive's changes, PayPal's
31-day windows) names a reader function in its folder's `streams.py` (`StreamSpec.reader`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from backend.connectors.base import Adapter
    from backend.connectors.spec import StreamSpec

SyncMode = Literal["full", "incremental", "backfill"]
SYNC_MODES: tuple[SyncMode, ...] = ("full", "incremental", "backfill")


# -- the declarative list call ----------------------------------------------------------------


class Paging(msgspec.Struct, frozen=True, kw_only=True):
    """How the list call pages.

    kind:
    - `token`: the answer holds the next page's token at `next_path`, sent back as `param`
      (Slack `response_metadata.next_cursor` -> `cursor`; Google `nextPageToken` ->
      `pageToken`; HubSpot `paging.next.after` -> `after`; Jira `nextPageToken`).
    - `last_id`: while `has_more_path` is true, send the last record's id as `param`
      (Stripe `starting_after`).
    - `link`: the `Link` header's rel="next" URL (GitHub).
    - `next_url`: the answer holds the next page's URL or path at `next_path` (Twilio
      `next_page_uri`).
    - `page_number`: `param` counts pages from 1 until `total_pages_path` (PayPal).
    - `none`: one page.
    `in_body`: the token goes into the JSON body (POST searches), not the query.
    """

    kind: Literal["token", "last_id", "link", "next_url", "page_number", "none"]
    param: str = ""
    next_path: str = ""
    has_more_path: str = ""
    total_pages_path: str = ""
    in_body: bool = False


class ListCall(msgspec.Struct, frozen=True, kw_only=True):
    """One list request and where its answer keeps the records.

    `path`, `params` and `body` may hold `{config.NAME}` / `{credentials.NAME}` (filled as
    in health checks) and `{since}` / `{until}`: the run's lower and upper bounds (the
    incremental watermark or the backfill window), formatted by `time_format`. A param or
    body key whose value names a bound the run does not have is left out.
    """

    path: str
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, str] = {}
    body: dict[str, Any] | None = None
    # Dotted path to the records array in the answer; "" when the answer is the array.
    records_path: str = ""
    paging: Paging = Paging(kind="none")
    page_size_param: str = ""
    page_size: int = 100
    # iso8601 | epoch (seconds) | epoch_ms | date (YYYY-MM-DD) | jql ("yyyy/MM/dd HH:mm")
    time_format: Literal["iso8601", "epoch", "epoch_ms", "date", "jql"] = "iso8601"


class Incremental(msgspec.Struct, frozen=True, kw_only=True):
    """How a stream reads only what changed since the last finished run.

    kind:
    - `watermark`: the highest `field` among the records read becomes the next run's
      `{since}` (less `lookback_seconds`, so same-second updates are read again: upserts
      make the overlap harmless). GitHub `since`, Stripe `created[gte]`, Slack `oldest`.
    - `token`: the last page carries the next run's token at `token_path`, sent as
      `token_param` (Calendar `nextSyncToken` -> `syncToken`). A status in
      `reset_statuses` (Calendar's 410 Gone) means the token expired: a full read follows.
    `call`: a different list call for incremental runs (HubSpot's search API); None: the
    stream's own call with `{since}` filled in.
    `etag`: send the first page's ETag back as If-None-Match; a 304 means nothing changed
    and costs no rate limit (GitHub).
    """

    kind: Literal["watermark", "token"]
    field: str = ""
    lookback_seconds: int = 0
    token_path: str = ""
    token_param: str = ""
    reset_statuses: tuple[int, ...] = ()
    call: ListCall | None = None
    etag: bool = False


# -- the page contract ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What a reader needs to fetch one page.

    `cursor`: the stream's stored cursor from its last finished run (None: never finished);
    `position`: what the previous page of this run returned (None: the first page);
    `since`/`until`: the backfill window (None outside backfills).
    """

    mode: SyncMode
    cursor: dict[str, Any] | None = None
    position: dict[str, Any] | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a stream.

    `records`: provider objects as they came; the engine reads their id at the stream's
    `id_path`. `deleted`: external ids the provider reported deleted on this page.
    `position`: JSON-able state from which the next page is read (None: this was the
    last page); it may carry what the run accumulates (the highest watermark so far).
    `cursor`: on the last page of a full or incremental run, the cursor the next
    incremental run starts from (None keeps the stored one).
    """

    records: list[Any]
    position: dict[str, Any] | None = None
    cursor: dict[str, Any] | None = None
    deleted: list[str] = field(default_factory=list)


class CursorExpired(Exception):
    """The provider no longer accepts the stored cursor (Calendar 410, Gmail 404 on an old
    historyId): the engine forgets it and reads the stream in full."""


# A reader: one page per call, a pure function of the adapter, the stream and the request.
ReadPage = Callable[["Adapter", "StreamSpec", PageRequest], Awaitable[Page]]
