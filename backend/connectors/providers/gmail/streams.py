"""Gmail's `messages` stream: a full read by users.messages.list, incremental reads by
users.history.list from the historyId the previous run ended at.

A full run first notes the mailbox's historyId (users.getProfile) and hands it on as the
cursor once the listing is done, so whatever changes while it lists is read again by the
next incremental run (upserts make the overlap harmless). A historyId Gmail no longer keeps
(about a week) answers 404: the engine then reads the mailbox in full.

messages.list and history name messages by id only, so each page fetches the messages it
names with users.messages.get `format=metadata` (headers, labels, snippet: what the
narrower gmail.metadata scope also allows). A message gone by then, or one the history
shows moved to the trash or spam (which a full read does not list), is reported deleted.
Docs: https://developers.google.com/workspace/gmail/api/guides/sync
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from backend.connectors.base import Adapter, ProviderError, json_object
from backend.connectors.providers._google import items, required_str
from backend.connectors.streams import CursorExpired, Page, PageRequest

if TYPE_CHECKING:
    from backend.connectors.spec import StreamSpec

USER = "gmail/v1/users/me"
PAGE_SIZE = 100
# messages.get costs 5 quota units of the 250 a user may spend per second.
FETCH_CONCURRENCY = 10
# What changes a message: its arrival, its removal, its labels (read, starred, archived).
HISTORY_TYPES = ("messageAdded", "messageDeleted", "labelAdded", "labelRemoved")
_CHANGED = ("messagesAdded", "labelsAdded", "labelsRemoved")
# messages.list leaves these out (includeSpamTrash defaults to false).
_HIDDEN = {"TRASH", "SPAM"}


async def read_messages(adapter: Adapter, stream: StreamSpec, request: PageRequest) -> Page:
    position = request.position or {}
    phase = position.get("phase")
    if phase == "history" or (phase is None and request.mode == "incremental" and request.cursor):
        return await _history_page(adapter, request.cursor or {}, position)
    return await _list_page(adapter, request, position)


async def _list_page(adapter: Adapter, request: PageRequest, position: dict[str, Any]) -> Page:
    backfill = request.mode == "backfill"
    history_id = position.get("historyId")
    if history_id is None and not backfill:
        profile = json_object(await adapter.call("GET", f"{USER}/profile"))
        history_id = required_str(profile, "historyId")
    params: dict[str, Any] = {"maxResults": PAGE_SIZE}
    if backfill and (query := _window_query(request.since, request.until)):
        params["q"] = query
    if isinstance(token := position.get("pageToken"), str):
        params["pageToken"] = token
    body = json_object(await adapter.call("GET", f"{USER}/messages", params=params))
    ids = [m["id"] for m in items(body, "messages") if isinstance(m.get("id"), str)]
    records, gone = await _fetch(adapter, ids)
    next_token = body.get("nextPageToken")
    if isinstance(next_token, str) and next_token:
        return Page(
            records,
            position={"phase": "list", "historyId": history_id, "pageToken": next_token},
            deleted=gone,
        )
    return Page(records, cursor=None if backfill else {"historyId": history_id}, deleted=gone)


async def _history_page(adapter: Adapter, cursor: dict[str, Any], position: dict[str, Any]) -> Page:
    start = cursor.get("historyId")
    if not isinstance(start, str | int) or not str(start).isdigit():
        raise CursorExpired("the stored cursor has no historyId")
    params: dict[str, Any] = {
        "startHistoryId": str(start),
        "maxResults": PAGE_SIZE,
        "historyTypes": list(HISTORY_TYPES),
    }
    if isinstance(token := position.get("pageToken"), str):
        params["pageToken"] = token
    try:
        answer = await adapter.call("GET", f"{USER}/history", params=params)
    except ProviderError as exc:
        if exc.status_code == 404:
            raise CursorExpired(f"Gmail no longer keeps history from {start}") from exc
        raise
    body = json_object(answer)
    # The first page's historyId ends the run: later pages may reach past it, never short.
    history_id = position.get("historyId") or body.get("historyId") or str(start)
    deleted: dict[str, bool] = {}
    for entry in items(body, "history"):
        for kind in (*_CHANGED, "messagesDeleted"):
            for item in items(entry, kind):
                message_id = (item.get("message") or {}).get("id")
                if isinstance(message_id, str):
                    # A later deletion wins; a deleted id never comes back.
                    deleted[message_id] = kind == "messagesDeleted" or deleted.get(
                        message_id, False
                    )
    fetched, gone = await _fetch(adapter, [i for i, d in deleted.items() if not d])
    gone += [i for i, d in deleted.items() if d]
    # Moved to the trash or spam: gone from the mailbox a full read lists.
    records = [m for m in fetched if not _HIDDEN.intersection(m.get("labelIds") or ())]
    gone += [m["id"] for m in fetched if m not in records and isinstance(m.get("id"), str)]
    next_token = body.get("nextPageToken")
    if isinstance(next_token, str) and next_token:
        return Page(
            records,
            position={"phase": "history", "historyId": history_id, "pageToken": next_token},
            deleted=gone,
        )
    return Page(records, cursor={"historyId": str(history_id)}, deleted=gone)


async def _fetch(adapter: Adapter, ids: list[str]) -> tuple[list[Any], list[str]]:
    """The messages `ids` name, in order; those already gone are returned apart (deleted)."""
    gate = asyncio.Semaphore(FETCH_CONCURRENCY)

    async def one(message_id: str) -> dict[str, Any] | None:
        async with gate:
            answer = await adapter.call_if_exists(
                "GET",
                f"{USER}/messages/{quote(message_id, safe='')}",
                params={"format": "metadata"},
            )
        return None if answer is None else json_object(answer)

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(message_id)) for message_id in dict.fromkeys(ids)]
    except* ProviderError as failed:
        # The page fails as its first failed call did (a 429 retried, a 401 refreshed).
        raise failed.exceptions[0] from None
    records, gone = [], []
    for message_id, task in zip(dict.fromkeys(ids), tasks, strict=True):
        message = task.result()
        if message is None:
            gone.append(message_id)
        else:
            records.append(message)
    return records, gone


def _window_query(since: dt.datetime | None, until: dt.datetime | None) -> str:
    """Gmail's search operators take epoch seconds: `after:` and `before:`."""
    terms = []
    if since is not None:
        terms.append(f"after:{int(since.timestamp())}")
    if until is not None:
        terms.append(f"before:{int(until.timestamp())}")
    return " ".join(terms)
