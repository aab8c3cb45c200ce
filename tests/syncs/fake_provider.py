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

from tests.contract.prism import PrismServer, rejection


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def customer(index: int, created: int) -> dict[str, Any]:
    """A Customer object (https://docs.stripe.com/api/customers/object)."""
    return {
        "id": f"cus_{index:014d}",
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": "usd",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": f"customer{index}@example.com",
        "invoice_prefix": f"INV{index:05d}",
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": f"Customer {index}",
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


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
