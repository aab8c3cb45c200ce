"""PayPal's `transactions` stream: the Transaction Search API walked in 31-day windows.

GET /v1/reporting/transactions needs `start_date` and `end_date` at most 31 days apart and
serves the last three years only, so a run walks windows from its start (the incremental
watermark, the backfill's `since`, or three years back) to its end (the backfill's `until`,
or now, fixed when the run starts so a resumed run does not chase the clock), paging each
window by `page` up to `total_pages`. The position carries the window and the page.

A transaction appears in search results up to three hours after it happens; the answer's
`last_refreshed_datetime` says how far the data reaches, so the next run's watermark is the
end of the last window but never past that moment. A window holding more transactions than
one search may answer (RESULTSET_TOO_LARGE) is halved, and the windows after it grow back.
Docs: https://developer.paypal.com/docs/api/transaction-search/v1/
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from backend.connectors.base import Adapter, ProviderError, json_object
from backend.connectors.streams import Page, PageRequest

if TYPE_CHECKING:
    from backend.connectors.spec import StreamSpec

PATH = "/v1/reporting/transactions"
WINDOW = dt.timedelta(days=31)
# PayPal keeps three years; a day less leaves room for a run that starts at midnight.
HISTORY = dt.timedelta(days=3 * 365 - 1)
PAGE_SIZE = 500  # the maximum
# A search holds at most 10,000 transactions: a busier window is halved down to this.
MIN_WINDOW = dt.timedelta(hours=1)


async def read_transactions(adapter: Adapter, stream: StreamSpec, request: PageRequest) -> Page:
    position = request.position or _first_position(request)
    start, until = _parse(position["start"]), _parse(position["until"])
    page = int(position.get("page", 1))
    span = dt.timedelta(seconds=int(position.get("span", WINDOW.total_seconds())))
    refreshed = position.get("refreshed")
    if start >= until:
        return _last_page([], request, until, refreshed)
    while True:
        end = min(start + span, until)
        try:
            answer = await _search(adapter, start, end, page)
            break
        except ProviderError as exc:
            # More transactions than one search may hold: the same start, half the window.
            if page != 1 or not _too_large(exc) or span <= MIN_WINDOW:
                raise
            span = max(span / 2, MIN_WINDOW)
    details = answer.get("transaction_details")
    records = [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    refreshed = _earliest(refreshed, answer.get("last_refreshed_datetime"))
    here = {**position, "span": int(span.total_seconds()), "refreshed": refreshed}
    total_pages = answer.get("total_pages")
    if isinstance(total_pages, int) and page < total_pages:
        return Page(records, position={**here, "page": page + 1})
    if end < until:
        # The next window grows back towards PayPal's 31 days.
        grown = int(min(span * 2, WINDOW).total_seconds())
        return Page(records, position={**here, "start": _format(end), "page": 1, "span": grown})
    return _last_page(records, request, until, refreshed)


async def _search(
    adapter: Adapter, start: dt.datetime, end: dt.datetime, page: int
) -> dict[str, Any]:
    params = {
        "start_date": _format(start),
        "end_date": _format(end),
        "fields": "all",
        "page_size": PAGE_SIZE,
        "page": page,
    }
    return json_object(await adapter.call("GET", PATH, params=params))


def _too_large(error: ProviderError) -> bool:
    """PayPal's RESULTSET_TOO_LARGE: "Result set size is greater than the maximum limit"
    (https://developer.paypal.com/api/transaction-search/v1/errors/resultset_too_large)."""
    return error.status_code == 400 and (
        "RESULTSET_TOO_LARGE" in error.message or "greater than the maximum limit" in error.message
    )


def _first_position(request: PageRequest) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    oldest = now - HISTORY
    until = min(_utc(request.until), now) if request.until is not None else now
    since: dt.datetime | None = None
    if request.mode == "backfill":
        since = request.since
    elif request.mode == "incremental" and request.cursor:
        watermark = request.cursor.get("since")
        since = _parse(watermark) if isinstance(watermark, str) else None
    start = max(_utc(since), oldest) if since is not None else oldest
    return {"start": _format(start), "until": _format(until), "page": 1, "refreshed": None}


def _last_page(
    records: list[Any], request: PageRequest, until: dt.datetime, refreshed: str | None
) -> Page:
    if request.mode == "backfill":
        return Page(records)
    # Transactions newer than the data's last refresh are not searchable yet: read them again.
    watermark = until if refreshed is None else min(until, _parse(refreshed))
    return Page(records, cursor={"since": _format(watermark)})


def _earliest(known: str | None, seen: Any) -> str | None:
    if not isinstance(seen, str):
        return known
    try:
        moment = _parse(seen)
    except ValueError:
        return known
    if known is None or moment < _parse(known):
        return _format(moment)
    return known


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _parse(text: str) -> dt.datetime:
    return _utc(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))


def _format(moment: dt.datetime) -> str:
    """PayPal's date-time: RFC 3339 with seconds (its pattern wants them)."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
