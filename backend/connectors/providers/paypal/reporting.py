"""The simulated Transaction Search test mode syncs: GET /v1/reporting/transactions with
PayPal's limits (a window of at most 31 days, the last three years, pages of at most 500).

A transaction happens every SPACING from ORIGIN on, each derived from its number (the same
in every process); a search holding more than MAX_ITEMS answers RESULTSET_TOO_LARGE.
Search results reach only as far as `last_refreshed_datetime`, three hours back, as
PayPal's do.
Docs: https://developer.paypal.com/docs/api/transaction-search/v1/
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from typing import Any

from backend.connectors.simulator import SimRequest, SimResponse, json_response

ORIGIN = dt.datetime(2020, 1, 1, 7, 0, tzinfo=dt.UTC)
SPACING = dt.timedelta(hours=36)
MAX_WINDOW = dt.timedelta(days=31)
KEPT = dt.timedelta(days=3 * 365)
LAG = dt.timedelta(hours=3)
MAX_PAGE_SIZE = 500
# The most transactions one search may hold (else RESULTSET_TOO_LARGE).
MAX_ITEMS = 10_000
_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXY"


def transaction_id(number: int) -> str:
    """17 characters, like PayPal's: a fixed prefix and the number in base 32."""
    digits = ""
    for _ in range(9):
        number, rest = divmod(number, len(_ALPHABET))
        digits = _ALPHABET[rest] + digits
    return "5SIM0000" + digits


def transaction(number: int) -> dict[str, Any]:
    when = _format(ORIGIN + number * SPACING)
    gross = f"{10 + number % 90}.{number % 100:02d}"
    fee = f"-{(number % 90 + 10) * 0.034 + 0.35:.2f}"
    return {
        "transaction_info": {
            "paypal_account_id": "SIMPAYER" + f"{number % 97:05d}",
            "transaction_id": transaction_id(number),
            "transaction_event_code": "T0006",
            "transaction_initiation_date": when,
            "transaction_updated_date": when,
            "transaction_amount": {"currency_code": "USD", "value": gross},
            "fee_amount": {"currency_code": "USD", "value": fee},
            "transaction_status": "S",
            "transaction_subject": f"Order {1000 + number}",
            "protection_eligibility": "01",
        },
        "payer_info": {
            "account_id": f"SIMPAYER{number % 97:05d}",
            "email_address": f"buyer{number % 97}@example.com",
            "address_status": "Y",
            "payer_status": "Y",
            "payer_name": {"given_name": "Sim", "surname": f"Buyer{number % 97}"},
            "country_code": "US",
        },
    }


def _error(issue: str, field: str, description: str) -> SimResponse:
    return json_response(
        400,
        {
            "name": "INVALID_REQUEST",
            "message": "Request is not well-formed, syntactically incorrect, or violates schema.",
            "debug_id": secrets.token_hex(6),
            "details": [
                {"field": field, "location": "query", "issue": issue, "description": description}
            ],
        },
    )


def _date(request: SimRequest, name: str) -> dt.datetime | SimResponse:
    text = request.query.get(name)
    if not text:
        return _error("MISSING_REQUIRED_PARAMETER", name, f"{name} is required.")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return _error("INVALID_PARAMETER_SYNTAX", name, f"{name} is not a date-time.")
    if moment.tzinfo is None:
        return _error("INVALID_PARAMETER_SYNTAX", name, f"{name} needs a time zone.")
    return moment


def _positive(request: SimRequest, name: str, default: int, most: int) -> int | None:
    text = request.query.get(name, str(default))
    return int(text) if text.isdigit() and 1 <= int(text) <= most else None


def search(request: SimRequest) -> SimResponse:
    start, end = _date(request, "start_date"), _date(request, "end_date")
    if isinstance(start, SimResponse):
        return start
    if isinstance(end, SimResponse):
        return end
    now = dt.datetime.now(dt.UTC)
    if end < start:
        return _error("INVALID_DATE_RANGE", "end_date", "End date must be after start date.")
    if end - start > MAX_WINDOW:
        return _error("INVALID_DATE_RANGE", "end_date", "Date range is greater than 31 days")
    if start < now - KEPT:
        return _error(
            "INVALID_DATE_RANGE", "start_date", "Data for the given start date is not available."
        )
    size = _positive(request, "page_size", 100, MAX_PAGE_SIZE)
    page = _positive(request, "page", 1, 2147483647)
    if size is None or page is None:
        return _error("INVALID_PARAMETER_VALUE", "page_size", "Invalid page or page_size.")
    refreshed = (now - LAG).replace(minute=0, second=0, microsecond=0)
    numbers = _numbers(start, min(end, refreshed))
    if len(numbers) > MAX_ITEMS:
        return json_response(
            400,
            {
                "name": "RESULTSET_TOO_LARGE",
                "message": "Result set size is greater than the maximum limit. Change the "
                "filter criteria and try again.",
                "debug_id": secrets.token_hex(6),
                "total_items": len(numbers),
                "maximum_items": MAX_ITEMS,
            },
        )
    total_pages = math.ceil(len(numbers) / size)
    body: dict[str, Any] = {
        "account_number": "SIMMERCHANT01",
        "start_date": _format(start),
        "end_date": _format(end),
        "last_refreshed_datetime": _format(refreshed),
        "page": page,
        "total_items": len(numbers),
        "total_pages": total_pages,
    }
    chosen = numbers[(page - 1) * size : page * size]
    # The description holds the array to at least one item: an empty result leaves it out.
    if chosen:
        body["transaction_details"] = [transaction(n) for n in chosen]
    return json_response(200, body, {"Paypal-Debug-Id": secrets.token_hex(6)})


def _numbers(start: dt.datetime, end: dt.datetime) -> list[int]:
    """The transactions with start <= time < end."""
    first = max(0, math.ceil((start - ORIGIN) / SPACING))
    last = math.ceil((end - ORIGIN) / SPACING)
    return list(range(first, max(first, last)))


def _format(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
