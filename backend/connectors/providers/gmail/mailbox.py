"""The simulated mailbox test mode syncs: generated messages, their recent history and the
labels, answered the way Gmail documents messages.list, messages.get, history.list and
labels.list.

Everything derives from a message's index, so every process answers alike. The mailbox's
history is kept from OLDEST_HISTORY_ID on: an older startHistoryId answers 404, as Gmail
does once a historyId is too old (about a week), which sends the sync back to a full read.
The last CHANGES history records add, relabel and delete messages.
Docs: https://developers.google.com/workspace/gmail/api/reference/rest/v1/users.history/list
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import unquote

from backend.connectors.providers import _google
from backend.connectors.simulator import SimRequest, SimResponse, json_response

SIZE = 230
THREADS = (SIZE + 1) // 2
HISTORY_ID = 4815162342
OLDEST_HISTORY_ID = HISTORY_ID - 5000
CHANGES = 9
MAX_RESULTS = 500
_BASE_ID = 0x18F3A2B4C5D60000
_NEWEST_MS = int(dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC).timestamp() * 1000)
_HOUR_MS = 3_600_000
_ME = "test.user@example.com"
_SENDERS = ("ada@example.org", "grace@example.net", "linus@example.com", "billing@example.com")
_SUBJECTS = ("Quarterly report", "Lunch on Friday?", "Your invoice", "Release notes")
# The message the history moves to the trash, and those it stars (see `_history`).
TRASHED = 7
_STARRED = {k for k in range(1, CHANGES + 1) if k % 3 == 1 and k != TRASHED}


def message_id(index: int) -> str:
    return f"{_BASE_ID + index * 0x1F3:x}"


def _index(message: str) -> int | None:
    try:
        offset = int(message, 16) - _BASE_ID
    except ValueError:
        return None
    index, rest = divmod(offset, 0x1F3)
    return index if rest == 0 and 0 <= index < SIZE else None


def listed() -> list[int]:
    """The messages messages.list shows, newest first (spam and trash left out)."""
    return [i for i in range(SIZE) if i != TRASHED]


def _labels(index: int) -> list[str]:
    if index == TRASHED:
        return ["TRASH", "CATEGORY_PERSONAL"]
    labels = ["INBOX", "CATEGORY_PERSONAL"]
    if index % 3 == 0:
        labels.append("UNREAD")
    if index in _STARRED:
        labels.append("STARRED")
    return labels


def message(index: int) -> dict[str, Any]:
    """Message `index` (0 the newest) as users.messages.get format=metadata answers it."""
    sender, subject = _SENDERS[index % len(_SENDERS)], _SUBJECTS[index % len(_SUBJECTS)]
    internal = _NEWEST_MS - index * _HOUR_MS
    date = dt.datetime.fromtimestamp(internal / 1000, dt.UTC).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    return {
        "id": message_id(index),
        "threadId": message_id(index - index % 2),
        "labelIds": _labels(index),
        "snippet": f"{subject} #{SIZE - index}: simulated message body",
        "historyId": str(HISTORY_ID - CHANGES - 1 - index),
        "internalDate": str(internal),
        "sizeEstimate": 2048 + index,
        "payload": {
            "partId": "",
            "mimeType": "text/plain",
            "filename": "",
            "headers": [
                {"name": "From", "value": sender},
                {"name": "To", "value": _ME},
                {"name": "Subject", "value": f"{subject} #{SIZE - index}"},
                {"name": "Date", "value": date},
            ],
            "body": {"size": 64},
        },
    }


def _history() -> list[dict[str, Any]]:
    """The last CHANGES records, oldest first: messages added, starred (one trashed) and
    deleted."""
    records = []
    for k in range(CHANGES, 0, -1):
        history_id = str(HISTORY_ID - k + 1)
        if k % 3 == 0:
            stub = {"id": message_id(k), "threadId": message_id(k - k % 2), "labelIds": ["INBOX"]}
            records.append(
                {"id": history_id, "messages": [stub], "messagesAdded": [{"message": stub}]}
            )
        elif k % 3 == 1:
            stub = {"id": message_id(k), "threadId": message_id(k - k % 2)}
            change = {"message": stub, "labelIds": ["TRASH" if k == TRASHED else "STARRED"]}
            records.append({"id": history_id, "messages": [stub], "labelsAdded": [change]})
        else:
            # A message deleted since: no longer in the mailbox (ids below the first).
            stub = {"id": f"{_BASE_ID - k:x}", "threadId": f"{_BASE_ID - k:x}"}
            records.append(
                {"id": history_id, "messages": [stub], "messagesDeleted": [{"message": stub}]}
            )
    return records


_SEARCH = re.compile(r"(after|before):(\d+)")


def _page(request: SimRequest, default: int) -> tuple[int, int] | SimResponse:
    """(offset, size) from pageToken and maxResults, or Google's 400."""
    size_text = request.query.get("maxResults", str(default))
    token = request.query.get("pageToken", "0")
    if not size_text.isdigit() or not token.isdigit():
        return _google.invalid_argument("Invalid pageToken or maxResults")
    return int(token), max(1, min(int(size_text), MAX_RESULTS))


def list_messages(request: SimRequest) -> SimResponse:
    """GET users/me/messages: newest first, `q` honouring after:/before: (epoch seconds)."""
    paging = _page(request, 100)
    if isinstance(paging, SimResponse):
        return paging
    offset, size = paging
    bounds = dict(_SEARCH.findall(request.query.get("q", "")))
    after = int(bounds.get("after", 0)) * 1000
    before = int(bounds["before"]) * 1000 if "before" in bounds else None
    found = [
        i
        for i in listed()
        if _NEWEST_MS - i * _HOUR_MS >= after
        and (before is None or _NEWEST_MS - i * _HOUR_MS < before)
    ]
    chunk = found[offset : offset + size]
    body: dict[str, Any] = {"resultSizeEstimate": len(found)}
    if chunk:
        body["messages"] = [{"id": message_id(i), "threadId": message_id(i - i % 2)} for i in chunk]
    if offset + size < len(found):
        body["nextPageToken"] = str(offset + size)
    return json_response(200, body)


def get_message(request: SimRequest) -> SimResponse:
    """GET users/me/messages/{id}: the message, or 404 for one that is not (or no longer)
    in the mailbox."""
    index = _index(unquote(request.path.rsplit("/", 1)[-1]))
    if index is None:
        return _google.api_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
    return json_response(200, message(index))


def list_history(request: SimRequest) -> SimResponse:
    """GET users/me/history?startHistoryId=…: the records after it and the mailbox's
    current historyId; 404 once the id is older than kept. The records are all of the four
    historyTypes, so a filter by them changes nothing."""
    start = request.query.get("startHistoryId", "")
    if not start.isdigit():
        return _google.invalid_argument("Invalid startHistoryId")
    if int(start) < OLDEST_HISTORY_ID:
        return _google.api_error(404, "Requested entity was not found.", "notFound", "NOT_FOUND")
    paging = _page(request, 100)
    if isinstance(paging, SimResponse):
        return paging
    offset, size = paging
    records = [r for r in _history() if int(r["id"]) > int(start)]
    chunk = records[offset : offset + size]
    body: dict[str, Any] = {"historyId": str(HISTORY_ID)}
    if chunk:
        body["history"] = chunk
    if offset + size < len(records):
        body["nextPageToken"] = str(offset + size)
    return json_response(200, body)


_SYSTEM_LABELS = ("INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "UNREAD", "STARRED", "IMPORTANT")


def list_labels(request: SimRequest) -> SimResponse:
    """GET users/me/labels: every label in one answer (Gmail does not page labels)."""
    labels: list[dict[str, Any]] = [
        {
            "id": name,
            "name": name,
            "type": "system",
            "messageListVisibility": "hide" if name in ("SPAM", "TRASH") else "show",
            "labelListVisibility": "labelShow",
        }
        for name in _SYSTEM_LABELS
    ]
    labels.append(
        {
            "id": "Label_1",
            "name": "Receipts",
            "type": "user",
            "messageListVisibility": "show",
            "labelListVisibility": "labelShow",
        }
    )
    return json_response(200, {"labels": labels})
