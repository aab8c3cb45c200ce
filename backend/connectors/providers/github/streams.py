"""GitHub's pull requests: the pulls list has no `since` filter, so a bounded read asks for
the most recently updated first and stops at the first one older than the bound (the
list is ordered, so nothing older can follow). Everything else is the declared list call,
read by the generic reader: Link paging, the watermark, the ETag."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from backend.connectors.spec import StreamSpec
from backend.connectors.stream_reader import parse_time, read_declared_page
from backend.connectors.streams import Incremental, ListCall, Page, PageRequest, Paging

if TYPE_CHECKING:
    from backend.connectors.base import Adapter

PULLS = StreamSpec(
    name="pull_requests",
    description="the declared call behind read_pull_requests",
    list=ListCall(
        path="/repos/{config.repository}/pulls",
        params={"state": "all", "sort": "updated", "direction": "desc"},
        paging=Paging(kind="link"),
        page_size_param="per_page",
        page_size=100,
    ),
    incremental=Incremental(kind="watermark", field="updated_at", etag=True),
)


def _window(request: PageRequest) -> tuple[dt.datetime | None, dt.datetime | None]:
    if request.mode == "backfill":
        return request.since, request.until
    if request.mode == "incremental":
        return parse_time((request.cursor or {}).get("since")), None
    return None, None


async def read_pull_requests(adapter: Adapter, stream: StreamSpec, request: PageRequest) -> Page:
    """One page of pull requests, newest update first, cut at the run's lower bound."""
    page = await read_declared_page(adapter, PULLS, request)
    since, until = _window(request)
    if since is None and until is None:
        return page
    kept: list[Any] = []
    older = False
    for record in page.records:
        updated = parse_time(record.get("updated_at") if isinstance(record, dict) else None)
        if updated is None:
            continue
        if since is not None and updated < since:
            older = True
            continue
        if until is None or updated <= until:
            kept.append(record)
    if not older:
        return Page(records=kept, position=page.position, cursor=page.cursor)
    # The rest of the list is older still: this is the last page of the run.
    high = (page.position or {}).get("high")
    etag = (page.position or {}).get("etag")
    cursor = page.cursor
    if page.position is not None and request.mode != "backfill" and high:
        cursor = {"since": high, **({"etag": etag} if etag else {})}
    return Page(records=kept, cursor=cursor)
