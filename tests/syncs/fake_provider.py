"""A provider's list API at the network boundary, for the sync engine's tests.

`StripeCustomers` answers `GET /v1/customers` as Stripe documents it
(https://docs.stripe.com/api/customers/list, https://docs.stripe.com/api/pagination):
newest first, `limit` 1-100, `starting_after` an id of the list, `has_more`, `created[gte]`
/ `created[lte]` bounds, errors as `{"error": {"type", "message"}}`. `GithubIssues` answers
`GET /repos/{owner}/{repo}/issues` with `Link: <...>; rel="next"` paging and `since`.

`FakeProvider` serves one of them on a loopback port, with scripted faults (429 with
Retry-After, 500, 401) and a delay per page; every request it receives is also sent to
Prism serving the provider's published description, and what Prism refused is kept in
`violations`, so the requests our engine sends are checked against the provider's own
document, not against this file's reading of it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from backend.connectors.providers.stripe.simulator import customer_object
from tests.contract.prism import PrismServer, rejection


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def customer(index: int, created: int) -> dict[str, Any]:
    """A Customer object (https://docs.stripe.com/api/customers/object), as the simulator
    builds it."""
    return customer_object(
        f"cus_{index:014d}", f"Customer {index}", f"customer{index}@example.com", created
    )


class StripeCustomers:
    """The account's customers and Stripe's list call over them."""

    path = "/v1/customers"

    def __init__(self, count: int = 0, *, start: int = 1_700_000_000) -> None:
        self.lock = threading.Lock()
        self.records: dict[str, dict[str, Any]] = {}
        self.start = start
        self.next_index = 0
        self.add(count)

    def add(self, count: int) -> list[dict[str, Any]]:
        """Create `count` customers, each a second newer than the last."""
        made = []
        with self.lock:
            for _ in range(count):
                self.next_index += 1
                record = customer(self.next_index, self.start + self.next_index)
                self.records[record["id"]] = record
                made.append(record)
        return made

    def delete(self, *ids: str) -> None:
        with self.lock:
            for record_id in ids:
                del self.records[record_id]

    def ids(self) -> set[str]:
        with self.lock:
            return set(self.records)

    def answer(self, request: Request) -> Answer:
        query = request.args
        limit = query.get("limit", "10")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            return _stripe_error(400, "invalid_request_error", "Invalid integer: limit")
        with self.lock:
            listed = sorted(self.records.values(), key=lambda r: -int(r["created"]))
        for key, test in (
            ("created[gte]", lambda c, v: c >= v),
            ("created[lte]", lambda c, v: c <= v),
        ):
            if key in query:
                bound = int(query[key])
                listed = [r for r in listed if test(int(r["created"]), bound)]
        after = query.get("starting_after")
        if after is not None:
            ids = [r["id"] for r in listed]
            if after not in ids:
                return _stripe_error(400, "invalid_request_error", f"No such customer: '{after}'")
            listed = listed[ids.index(after) + 1 :]
        page = listed[: int(limit)]
        body = {
            "object": "list",
            "url": self.path,
            "has_more": len(listed) > len(page),
            "data": page,
        }
        return Answer(200, body)


def _stripe_error(status: int, kind: str, message: str) -> Answer:
    return Answer(status, {"error": {"type": kind, "message": message}})


def stripe_rate_limited(retry_after: int = 1) -> Answer:
    return Answer(
        429,
        {"error": {"type": "rate_limit_error", "message": "Too many requests hit the API."}},
        {"Retry-After": str(retry_after), "Stripe-Rate-Limited-Reason": "global-rate"},
    )


def stripe_server_error() -> Answer:
    return _stripe_error(500, "api_error", "Something went wrong on Stripe's end.")


def stripe_unauthorized() -> Answer:
    return _stripe_error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****")


class FakeProvider:
    """One provider list API on `server`, its requests recorded and checked by Prism."""

    def __init__(self, server: HTTPServer, api: Any, prism: PrismServer | None) -> None:
        self.server = server
        self.api = api
        self.prism = prism
        self.delay = 0.0
        self.faults: deque[Answer] = deque()
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self.extra: dict[str, Callable[[Request], Answer]] = {}
        self._lock = threading.Lock()
        self._prism_client = httpx.Client(timeout=30)
        server.expect_request(__import__("re").compile(".*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def fail_next(self, *answers: Answer) -> None:
        self.faults.extend(answers)

    def list_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == self.api.path]

    def handle(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.args),
                    "authorization": request.headers.get("Authorization", ""),
                }
            )
        extra = self.extra.get(request.path)
        if extra is not None:
            answer = extra(request)
        else:
            self._check(request)
            if self.delay:
                time.sleep(self.delay)
            answer = self.faults.popleft() if self.faults else self.api.answer(request)
        headers = {"Content-Type": "application/json", **answer.headers}
        return Response(json.dumps(answer.body), status=answer.status, headers=headers)

    def _check(self, request: Request) -> None:
        """Send the same request to Prism; keep what the description refuses."""
        if self.prism is None:
            return
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "accept-encoding")
        }
        query = urlencode(list(request.args.items(multi=True)))
        url = f"{self.prism.url}{request.path}" + (f"?{query}" if query else "")
        answer = self._prism_client.request(
            request.method, url, headers=headers, content=request.get_data()
        )
        reason = rejection(answer)
        if reason:
            with self._lock:
                self.violations.append(f"{request.method} {request.path}?{query}: {reason}")

    def close(self) -> None:
        self._prism_client.close()


def github_issue(number: int, updated: str, base: str) -> dict[str, Any]:
    """An Issue as GitHub lists it (https://docs.github.com/en/rest/issues/issues)."""
    user = {"login": "octocat", "id": 1, "type": "User", "site_admin": False}
    return {
        "id": 1_000_000 + number,
        "node_id": f"I_kwDOA{number:08d}",
        "url": f"{base}/repos/octocat/Hello-World/issues/{number}",
        "html_url": f"https://github.com/octocat/Hello-World/issues/{number}",
        "number": number,
        "state": "open",
        "title": f"Issue {number}",
        "body": None,
        "user": user,
        "labels": [],
        "assignees": [],
        "locked": False,
        "comments": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": updated,
        "closed_at": None,
        "author_association": "OWNER",
    }


class GithubIssues:
    """A repository's issues and GitHub's list call: `per_page`, `page` in the `Link`
    header's rel="next" URL, `since` on updated_at, oldest update first (`direction=asc`)."""

    path = "/repos/octocat/Hello-World/issues"

    def __init__(self, count: int, base: str) -> None:
        self.base = base
        self.records = [
            github_issue(n, f"2026-02-01T00:{n // 60:02d}:{n % 60:02d}Z", base)
            for n in range(1, count + 1)
        ]

    def ids(self) -> set[str]:
        return {str(r["id"]) for r in self.records}

    def answer(self, request: Request) -> Answer:
        query = request.args
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        listed = sorted(self.records, key=lambda r: r["updated_at"])
        if "since" in query:
            listed = [r for r in listed if r["updated_at"] >= query["since"]]
        chunk = listed[(page - 1) * per_page : page * per_page]
        headers = {}
        if page * per_page < len(listed):
            following = dict(query.items())
            following["page"] = str(page + 1)
            headers["Link"] = f'<{self.base}{self.path}?{urlencode(following)}>; rel="next"'
        return Answer(200, chunk, headers)


def github_unauthorized() -> Answer:
    return Answer(
        401,
        {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        },
    )


def calendar_event(number: int, status: str = "confirmed") -> dict[str, Any]:
    """An Event resource (https://developers.google.com/workspace/calendar/api/v3/reference/events)."""
    return {
        "kind": "calendar#event",
        "etag": f'"{3_000_000 + number}"',
        "id": f"evt{number:06d}",
        "status": status,
        "htmlLink": f"https://www.google.com/calendar/event?eid=evt{number:06d}",
        "created": "2026-01-01T00:00:00.000Z",
        "updated": f"2026-02-01T00:00:{number % 60:02d}.000Z",
        "summary": f"Meeting {number}",
        "start": {"dateTime": "2026-03-01T10:00:00Z"},
        "end": {"dateTime": "2026-03-01T11:00:00Z"},
        "iCalUID": f"evt{number:06d}@google.com",
        "sequence": 0,
    }


class CalendarEvents:
    """A calendar's events and events.list: `maxResults`, `pageToken`/`nextPageToken`, the
    last page's `nextSyncToken`; with `syncToken`, only what changed since that token (a
    token in `expired` answers 410 Gone, as Google does once it drops a token)."""

    path = "/calendar/v3/calendars/primary/events"

    def __init__(self, count: int) -> None:
        self.events = {e["id"]: e for e in (calendar_event(n) for n in range(1, count + 1))}
        self.changes: dict[str, list[str]] = {}  # sync token -> ids changed since
        self.expired: set[str] = set()
        self.generation = 0

    def ids(self) -> set[str]:
        return set(self.events)

    def change(self, event: dict[str, Any]) -> None:
        self.events[event["id"]] = event
        for changed in self.changes.values():
            changed.append(event["id"])

    def answer(self, request: Request) -> Answer:
        query = request.args
        size = int(query.get("maxResults", "250"))
        token = query.get("syncToken")
        if token is not None and (token in self.expired or token not in self.changes):
            return Answer(
                410,
                {
                    "error": {
                        "code": 410,
                        "message": "Sync token is no longer valid, a full sync is required.",
                        "errors": [
                            {
                                "domain": "calendar",
                                "reason": "fullSyncRequired",
                                "message": "Sync token is no longer valid, a full sync is "
                                "required.",
                            }
                        ],
                    }
                },
            )
        if token is not None:
            listed = [self.events[i] for i in dict.fromkeys(self.changes[token])]
        else:
            listed = [e for e in self.events.values() if e["status"] != "cancelled"]
        start = int(query.get("pageToken", "0") or 0)
        chunk = listed[start : start + size]
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": '"p33c9"',
            "summary": "primary",
            "updated": "2026-02-01T00:00:00.000Z",
            "timeZone": "UTC",
            "accessRole": "owner",
            "items": chunk,
        }
        if start + size < len(listed):
            body["nextPageToken"] = str(start + size)
        else:
            self.generation += 1
            new_token = f"sync-{self.generation}"
            self.changes[new_token] = []
            body["nextSyncToken"] = new_token
        return Answer(200, body)
