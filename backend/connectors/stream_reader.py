"""The generic reader of declared streams: a `StreamSpec.list` (and `incremental`) as calls.

Everything the next page needs travels in `Page.position` (see streams.py), so a page is a
pure function of the adapter and the request: `{"next": <paging state>, "high": <highest
watermark so far>, "etag": <the first page's ETag>}`. Bounds (`{since}`/`{until}`) come
from the request on every page (the stored cursor does not move during a run), so every
page of a run asks the same question.

A next-page URL from the provider (a `Link` header, Twilio's `next_page_uri`) is followed
only on the integration's own API base: a provider answer naming another host would take
the credentials there.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import httpx
import msgspec

from backend.connectors.base import ProviderError
from backend.connectors.paths import dig, dig_str
from backend.connectors.streams import (
    CursorExpired,
    Incremental,
    ListCall,
    Page,
    PageRequest,
    ReadPage,
)
from backend.lib.vocab import FailureKind

if TYPE_CHECKING:
    from backend.connectors.base import Adapter
    from backend.connectors.registry import Provider
    from backend.connectors.spec import StreamSpec

_PLACEHOLDER = re.compile(r"\{(?:credentials|config)\.[A-Za-z0-9_]+\}")
_BOUND = re.compile(r"\{(since|until)\}")
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*?\brel="?next"?', re.IGNORECASE)


def reader_for(provider: Provider, stream: StreamSpec) -> ReadPage:
    """The function that reads `stream`: its folder's named reader, else the generic one."""
    if stream.unavailable:
        raise ValueError(f"stream {stream.name!r} cannot be read: {stream.unavailable}")
    if stream.reader:
        return provider.readers[stream.reader]
    return read_declared_page


# -- bounds -------------------------------------------------------------------------------


def parse_time(value: Any) -> dt.datetime | None:
    """A record's date as an aware datetime: epoch seconds or milliseconds (numbers or
    numeric text, Slack's "1512085950.000216"), ISO 8601 or RFC 2822; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                try:  # RFC 2822 (Twilio's "Thu, 30 Jul 2015 20:12:31 +0000")
                    parsed = email.utils.parsedate_to_datetime(text)
                except (TypeError, ValueError):
                    return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def format_time(moment: dt.datetime, time_format: str) -> str:
    """`moment` as the list call's `time_format` writes it (see ListCall)."""
    moment = moment.astimezone(dt.UTC)
    if time_format == "epoch":
        return str(int(moment.timestamp()))
    if time_format == "epoch_ms":
        return str(int(moment.timestamp() * 1000))
    if time_format == "date":
        return moment.strftime("%Y-%m-%d")
    if time_format == "jql":
        return moment.strftime("%Y/%m/%d %H:%M")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _bounds(stream: StreamSpec, request: PageRequest) -> tuple[dt.datetime | None, ...]:
    """The run's (since, until): the backfill window, or the stored watermark less the
    look-back on an incremental run."""
    if request.mode == "backfill":
        return request.since, request.until
    inc = stream.incremental
    if request.mode == "incremental" and inc is not None and inc.kind == "watermark":
        since = parse_time((request.cursor or {}).get("since"))
        if since is not None:
            return since - dt.timedelta(seconds=inc.lookback_seconds), None
    return None, None


def _call(stream: StreamSpec, request: PageRequest, bounded: bool) -> ListCall:
    """The incremental call (HubSpot's search) when the run is bounded, else the list."""
    inc = stream.incremental
    if inc is not None and inc.call is not None and bounded:
        return inc.call
    assert stream.list is not None  # the registry checks a declared stream has one
    return stream.list


# -- filling templates --------------------------------------------------------------------


class _Missing(Exception):
    """A template names a bound the run does not have: the param is left out."""


def _fill_text(adapter: Adapter, text: str, bounds: dict[str, str | None]) -> str:
    def bound(match: re.Match[str]) -> str:
        value = bounds[match.group(1)]
        if value is None:
            raise _Missing
        return value

    text = _BOUND.sub(bound, text)
    # Values go into the query or a JSON body, where httpx encodes them: fill as the
    # adapter does (with its checks), then undo its path encoding.
    return _PLACEHOLDER.sub(lambda m: unquote(adapter.fill_path(m.group(0))), text)


def _fill(adapter: Adapter, value: Any, bounds: dict[str, str | None]) -> Any:
    """`value` with its placeholders filled. A string naming a bound the run does not have
    raises _Missing, which leaves out the innermost list element or top-level key holding
    it (a HubSpot `LTE {until}` filter, Stripe's `created[gte]` param)."""
    if isinstance(value, str):
        return _fill_text(adapter, value, bounds)
    if isinstance(value, list):
        kept = []
        for item in value:
            try:
                kept.append(_fill(adapter, item, bounds))
            except _Missing:
                continue
        return kept
    if isinstance(value, dict):
        return {key: _fill(adapter, item, bounds) for key, item in value.items()}
    return value


def _fill_top(
    adapter: Adapter, values: dict[str, Any], bounds: dict[str, str | None]
) -> dict[str, Any]:
    """Fill params or a body's top level: a key naming a missing bound is left out."""
    filled: dict[str, Any] = {}
    for key, value in values.items():
        try:
            filled[key] = _fill(adapter, value, bounds)
        except _Missing:
            continue
    return filled


def _fill_path(adapter: Adapter, template: str) -> str:
    """The list call's path, filled as the adapter fills health paths except that a `/` in
    a value stays a separator (GitHub's `owner/name`); an empty, `.` or `..` segment is
    refused, so a tenant's config cannot climb out of the declared path."""

    def value(match: re.Match[str]) -> str:
        filled = adapter.fill_path(match.group(0))
        segments = filled.split("%2F")
        if any(segment in ("", ".", "..", "%2E", "%2E%2E") for segment in segments):
            raise ProviderError(
                FailureKind.MISCONFIGURED, f"{match.group(0)[1:-1]} is not a valid path value"
            )
        return "/".join(segments)

    return _PLACEHOLDER.sub(value, template)


# -- one page ----------------------------------------------------------------------------


def _same_base(adapter: Adapter, target: str) -> str:
    """The path (with query) of a provider-supplied next-page URL, relative to the API
    base; a URL on another host or outside the base path is refused."""
    base = adapter.ctx.api_base_url.rstrip("/") + "/"
    absolute = urljoin(base, target)
    want, got = urlsplit(base), urlsplit(absolute)
    same_host = (want.scheme, want.hostname, want.port) == (got.scheme, got.hostname, got.port)
    if not same_host or not (got.path + "/").startswith(want.path):
        raise ProviderError(
            FailureKind.BAD_REQUEST,
            "the provider's next-page link leaves its API base; not followed",
        )
    relative = got.path[len(want.path.rstrip("/")) :] or "/"
    return relative + (f"?{got.query}" if got.query else "")


def _next_link(response: httpx.Response) -> str:
    match = _LINK_NEXT.search(response.headers.get("link", ""))
    return match.group(1) if match else ""


async def read_declared_page(adapter: Adapter, stream: StreamSpec, request: PageRequest) -> Page:
    """One page of a stream declared by `StreamSpec.list` (see the module docstring)."""
    if stream.list is None:
        raise ValueError(f"stream {stream.name!r} has no declared list call")
    inc = stream.incremental
    position = request.position or {}
    since, until = _bounds(stream, request)
    call = _call(stream, request, since is not None or until is not None)
    bounds = {
        "since": format_time(since, call.time_format) if since else None,
        "until": format_time(until, call.time_format) if until else None,
    }
    state: dict[str, Any] = position.get("next") or {}
    token_run = (
        request.mode == "incremental"
        and inc is not None
        and inc.kind == "token"
        and bool((request.cursor or {}).get("token"))
    )

    params: dict[str, Any] = {}
    body: dict[str, Any] | None = None
    if "url" in state:
        # Link / next_url paging: the provider's URL already carries every parameter.
        path = _same_base(adapter, state["url"])
    else:
        path = _fill_path(adapter, call.path)
        params = _fill_top(adapter, call.params, bounds)
        body = _fill_top(adapter, call.body, bounds) if call.body is not None else None
        paged = body if call.paging.in_body and body is not None else params
        if call.page_size_param:
            paged[call.page_size_param] = call.page_size
        if token_run and inc is not None:
            params[inc.token_param] = (request.cursor or {})["token"]
        paging_value = state.get("token") or state.get("last_id") or state.get("page")
        if paging_value is not None and call.paging.param:
            paged[call.paging.param] = paging_value

    headers: dict[str, str] = {}
    first = request.position is None
    etag_run = inc is not None and inc.etag and request.mode == "incremental"
    stored_etag = (request.cursor or {}).get("etag")
    if first and etag_run and isinstance(stored_etag, str) and stored_etag:
        headers["If-None-Match"] = stored_etag

    try:
        response = await adapter.call(
            call.method, path, params=params or None, json=body, headers=headers
        )
    except ProviderError as exc:
        if token_run and inc is not None and exc.status_code in inc.reset_statuses:
            raise CursorExpired(exc.message) from exc
        raise
    if response.status_code == 304:
        # Nothing changed since the stored ETag's answer: keep the cursor as it is.
        return Page(records=[])

    answer = _decoded(response)
    found = dig(answer, call.records_path) if call.records_path else answer
    if found is not None and not isinstance(found, list):
        # A wrong shape is a broken answer, never an empty page (a full run would then
        # mark every record deleted); an absent array is how Google says "none".
        raise ProviderError(
            FailureKind.PROVIDER_DOWN,
            f"the provider's answer has no records list at {call.records_path or 'its top'}",
            status_code=response.status_code,
        )
    records: list[Any] = found or []

    high = position.get("high")
    if inc is not None and inc.kind == "watermark" and inc.field:
        high = _highest(high, records, inc.field)
    etag = response.headers.get("etag") if first and etag_run else position.get("etag")

    following = _following(adapter, call, response, answer, records, stream, state)
    if following is not None:
        return Page(
            records=records,
            position={"next": following, "high": high, "etag": etag},
        )
    return Page(records=records, cursor=_cursor(inc, request, answer, high, etag))


def _decoded(response: httpx.Response) -> Any:
    """The page's JSON (pages may be large, unlike the error bodies `json_body` reads); a
    body that is not JSON is the provider failing, never an empty page."""
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        raise ProviderError(
            FailureKind.PROVIDER_DOWN,
            f"the provider answered {response.status_code} with a body that is not JSON",
            status_code=response.status_code,
        ) from None


def _highest(high: Any, records: list[Any], path: str) -> str | None:
    """The highest date among `records` at `path` and the one carried so far (ISO text)."""
    best = parse_time(high)
    for record in records:
        moment = parse_time(dig(record, path))
        if moment is not None and (best is None or moment > best):
            best = moment
    return best.isoformat() if best else None


def _following(
    adapter: Adapter,
    call: ListCall,
    response: httpx.Response,
    answer: Any,
    records: list[Any],
    stream: StreamSpec,
    state: dict[str, Any],
) -> dict[str, Any] | None:
    """The paging state of the next page; None when this one was the last."""
    paging = call.paging
    if paging.kind == "token":
        token = dig_str(answer, paging.next_path)
        return {"token": token} if token else None
    if paging.kind == "last_id":
        if dig(answer, paging.has_more_path) is not True or not records:
            return None
        last = dig_str(records[-1], stream.id_path)
        return {"last_id": last} if last else None
    if paging.kind == "link":
        link = _next_link(response)
        return {"url": _checked(adapter, link)} if link else None
    if paging.kind == "next_url":
        target = dig_str(answer, paging.next_path)
        return {"url": _checked(adapter, target)} if target else None
    if paging.kind == "page_number":
        page = int(state.get("page") or 1)
        total = dig(answer, paging.total_pages_path)
        if not records or not isinstance(total, int) or page >= total:
            return None
        return {"page": page + 1}
    return None


def _checked(adapter: Adapter, target: str) -> str:
    """A next-page URL, refused now (on the page that named it) if it leaves the base."""
    _same_base(adapter, target)
    return target


def _cursor(
    inc: Incremental | None,
    request: PageRequest,
    answer: Any,
    high: str | None,
    etag: str | None,
) -> dict[str, Any] | None:
    """What the next incremental run starts from (None keeps the stored cursor)."""
    if inc is None or request.mode == "backfill":
        return None
    if inc.kind == "token":
        token = dig_str(answer, inc.token_path)
        return {"token": token} if token else None
    if high is None:
        # Nothing read: the stored watermark still holds; a fresh ETag may be kept with it.
        stored = request.cursor or {}
        if etag and stored.get("since"):
            return {**stored, "etag": etag}
        return None
    cursor: dict[str, Any] = {"since": high}
    if etag:
        cursor["etag"] = etag
    return cursor
