"""Stripe's API as documented: GET /v1/account, GET /v1/balance, webhook endpoints (create,
update, delete), customers and refunds created (kept in CREATED_CUSTOMERS and REFUNDS, what
test mode would have sent), Stripe's {"error": {...}} objects, and idempotent requests: a
repeated `Idempotency-Key` replays the first answer (`Idempotent-Replayed: true`), and the
same key with other parameters is an `idempotency_error`
(https://docs.stripe.com/api/idempotent_requests).
"""

import random
import re
import secrets
import string
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from backend.connectors.providers._listing import bounded_limit, generated, page_after, seed_of
from backend.connectors.providers.stripe.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
)

_PATTERN = SPEC.credential_fields[0].pattern


def _headers() -> dict[str, str]:
    return {"Request-Id": "req_" + secrets.token_hex(7), "Stripe-Version": "2024-06-20"}


def _masked(key: str) -> str:
    # Stripe echoes a masked key in the message: prefix, stars, last four.
    prefix, _, rest = key.rpartition("_")
    return f"{prefix}_{'*' * max(0, len(rest) - 4)}{rest[-4:]}" if prefix else "****"


def balance(request: SimRequest) -> SimResponse:
    livemode = (request.bearer() or "").startswith(("sk_live_", "rk_live_"))
    money = [{"amount": 0, "currency": "usd", "source_types": {"card": 0}}]
    return json_response(
        200,
        {
            "object": "balance",
            "available": money,
            "connect_reserved": [{"amount": 0, "currency": "usd"}],
            "livemode": livemode,
            "pending": money,
        },
        _headers(),
    )


def account(request: SimRequest) -> SimResponse:
    """The key's own account, shaped like the documented Account object
    (https://docs.stripe.com/api/accounts/object)."""
    return json_response(
        200,
        {
            "id": "acct_1Nv0FGQ9RKHgCVdK",
            "object": "account",
            "business_profile": {
                "mcc": None,
                "name": "Switchboard Test Shop",
                "product_description": None,
                "support_email": None,
                "support_phone": None,
                "support_url": None,
                "url": None,
            },
            "business_type": "company",
            "charges_enabled": True,
            "country": "US",
            "created": 1695830751,
            "default_currency": "usd",
            "details_submitted": True,
            "email": "jenny.rosen@example.com",
            "metadata": {},
            "payouts_enabled": True,
            "type": "standard",
        },
        _headers(),
    )


def customer_object(customer_id: str, name: str, email: str, created: int) -> dict[str, object]:
    """A documented Customer object (https://docs.stripe.com/api/customers/object)."""
    return {
        "id": customer_id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": created,
        "currency": "usd",
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": customer_id[4:12].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": {},
        "name": name,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


#: The customers every simulated account holds: generated events (events.py) name them, so a
#: simulated charge's customer is one the API can retrieve.
CUSTOMERS: dict[str, dict[str, object]] = {
    str(c["id"]): c
    for c in (
        customer_object("cus_NffrFeUfNV2Hib", "Jenny Rosen", "jennyrosen@example.com", 1680893993),
        customer_object("cus_O2DFYLf1sUuYqM", "Jane Doe", "jane.doe@example.com", 1686089969),
        customer_object("cus_PzYk7p2wEXAMPL", "Ada Lovelace", "ada@example.com", 1700000000),
    )
}


#: Customers and refunds created through the simulator, by id.
CREATED_CUSTOMERS: dict[str, dict[str, object]] = {}
REFUNDS: dict[str, dict[str, object]] = {}
#: First answers by API key, path and Idempotency-Key: the request body and the response.
IDEMPOTENT: dict[str, tuple[bytes, SimResponse]] = {}


def _metadata(pairs: list[tuple[str, str]]) -> dict[str, str]:
    found = (re.fullmatch(r"metadata\[([^\[\]]+)\]", key) for key, _ in pairs)
    return {m.group(1): value for m, (_, value) in zip(found, pairs, strict=True) if m}


def idempotent(create: Callable[[SimRequest], SimResponse]) -> Callable[[SimRequest], SimResponse]:
    """Stripe's idempotency: a repeated key replays the first answer; the same key with
    other parameters is refused; keys are per account (here: per API key)."""

    def handler(request: SimRequest) -> SimResponse:
        key = request.headers.get("idempotency-key")
        if not key:
            return create(request)
        slot = "\n".join((request.bearer() or "", request.path, key))
        if slot in IDEMPOTENT:
            body, first = IDEMPOTENT[slot]
            if body != request.body:
                return _invalid(
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    "",
                    error_type="idempotency_error",
                )
            return SimResponse(first.status, first.body, {**first.headers, **_replayed()})
        response = create(request)
        if response.status < 500:
            remember(IDEMPOTENT, slot, (request.body, response))
        return response

    return handler


def _replayed() -> dict[str, str]:
    return {**_headers(), "Idempotent-Replayed": "true"}


@idempotent
def create_customer(request: SimRequest) -> SimResponse:
    pairs = parse_qsl(request.body.decode("utf-8", "replace"))
    form = dict(pairs)
    created = customer_object(
        "cus_" + secrets.token_hex(7), form.get("name", ""), form.get("email", ""), int(time.time())
    )
    created.update(
        description=form.get("description"),
        phone=form.get("phone"),
        metadata=_metadata(pairs),
        currency=None,
        name=form.get("name"),
        email=form.get("email"),
    )
    remember(CREATED_CUSTOMERS, str(created["id"]), created)
    return json_response(200, created, _headers())


@idempotent
def create_refund(request: SimRequest) -> SimResponse:
    pairs = parse_qsl(request.body.decode("utf-8", "replace"))
    form = dict(pairs)
    if not form.get("charge") and not form.get("payment_intent"):
        return _invalid("One of `charge` or `payment_intent` is required.", "charge")
    amount = form.get("amount", "2000")
    if not amount.isdigit() or int(amount) < 1:
        return _invalid("Invalid positive integer", "amount")
    refund_id = "re_" + secrets.token_hex(12)
    refund = {
        "id": refund_id,
        "object": "refund",
        "amount": int(amount),
        "balance_transaction": "txn_" + secrets.token_hex(12),
        "charge": form.get("charge") or "ch_" + secrets.token_hex(12),
        "created": int(time.time()),
        "currency": "usd",
        "destination_details": None,
        "metadata": _metadata(pairs),
        "payment_intent": form.get("payment_intent"),
        "reason": form.get("reason"),
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    remember(REFUNDS, refund_id, refund)
    return json_response(200, refund, _headers())


def customer(request: SimRequest) -> SimResponse:
    customer_id = request.path.rsplit("/", 1)[-1]
    found = CUSTOMERS.get(customer_id) or CREATED_CUSTOMERS.get(customer_id)
    if found is None:
        return _invalid(f"No such customer: '{customer_id}'", "id", "resource_missing", status=404)
    return json_response(200, found, _headers())


# -- lists (https://docs.stripe.com/api/pagination) -------------------------------------------

#: How many objects each simulated account lists, besides the fixed CUSTOMERS.
LIST_SIZES = {"customers": 147, "charges": 130, "invoices": 120}
# The newest generated object's creation time; older ones follow an hour or so apart.
_NEWEST = 1_764_000_000
_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken")
_LAST = ("Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Ritchie")


def _created(rng: random.Random, index: int) -> int:
    return _NEWEST - index * 3600 - rng.randrange(0, 1800)


def _generated_customer(rng: random.Random, index: int) -> dict[str, object]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    customer_id = "cus_" + "".join(rng.choices(string.ascii_letters + string.digits, k=14))
    email = f"{first}.{last}{index}@example.com".lower()
    return customer_object(customer_id, f"{first} {last}", email, _created(rng, index))


def _charge(rng: random.Random, index: int) -> dict[str, object]:
    """A documented Charge object (https://docs.stripe.com/api/charges/object)."""
    amount = rng.randrange(500, 50_000, 25)
    status = rng.choice(("succeeded", "succeeded", "succeeded", "pending", "failed"))
    refunded = status == "succeeded" and rng.random() < 0.1
    suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    return {
        "id": "ch_" + suffix,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount if status == "succeeded" else 0,
        "amount_refunded": amount if refunded else 0,
        "balance_transaction": "txn_" + suffix if status == "succeeded" else None,
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "captured": status == "succeeded",
        "created": _created(rng, index),
        "currency": "usd",
        "customer": rng.choice(list(CUSTOMERS)),
        "description": None,
        "disputed": False,
        "failure_code": "card_declined" if status == "failed" else None,
        "failure_message": "Your card was declined." if status == "failed" else None,
        "livemode": False,
        "metadata": {},
        "paid": status == "succeeded",
        "payment_intent": "pi_" + suffix,
        "receipt_email": None,
        "refunded": refunded,
        "status": status,
    }


def _invoice(rng: random.Random, index: int) -> dict[str, object]:
    """A documented Invoice object (https://docs.stripe.com/api/invoices/object)."""
    created = _created(rng, index)
    total = rng.randrange(1_000, 100_000, 100)
    status = rng.choice(("paid", "paid", "open", "draft", "void"))
    paid = status == "paid"
    suffix = "".join(rng.choices(string.ascii_letters + string.digits, k=24))
    return {
        "id": "in_" + suffix,
        "object": "invoice",
        "amount_due": total,
        "amount_paid": total if paid else 0,
        "amount_remaining": 0 if paid else total,
        "amount_shipping": 0,
        "attempt_count": 1 if paid else 0,
        "attempted": paid,
        "automatic_tax": {"enabled": False, "status": None},
        "collection_method": "charge_automatically",
        "created": created,
        "currency": "usd",
        "customer": rng.choice(list(CUSTOMERS)),
        "default_tax_rates": [],
        "lines": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/invoices/in_{suffix}/lines",
        },
        "livemode": False,
        "number": None if status == "draft" else f"SWB-{index:05d}",
        "paid": paid,
        "paid_out_of_band": False,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": created,
        "period_start": created - 30 * 86400,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "starting_balance": 0,
        "status": status,
        "status_transitions": {
            "finalized_at": None if status == "draft" else created,
            "marked_uncollectible_at": None,
            "paid_at": created + 60 if paid else None,
            "voided_at": created + 120 if status == "void" else None,
        },
        "subtotal": total,
        "total": total,
        "total_tax_amounts": [],
    }


_BUILDERS = {"customers": _generated_customer, "charges": _charge, "invoices": _invoice}


def _all(name: str, request: SimRequest) -> list[dict[str, object]]:
    """The account's objects of list `name`, newest first (Stripe's order)."""
    records: list[dict[str, object]] = generated(
        seed_of(request.bearer() or ""), name, LIST_SIZES[name], _BUILDERS[name]
    )
    if name == "customers":
        records = [*records, *(dict(c) for c in CUSTOMERS.values())]
    return sorted(records, key=lambda r: -int(str(r["created"])))


def _created_filter(query: dict[str, str]) -> Callable[[int], bool] | None:
    """`created` or `created[gt|gte|lt|lte]` as a predicate; None when a value is no integer."""
    tests: list[Callable[[int], bool]] = []
    for key, value in query.items():
        match = re.fullmatch(r"created(?:\[(gt|gte|lt|lte)\])?", key)
        if not match:
            continue
        if not value.lstrip("-").isdigit():
            return None
        bound, op = int(value), match.group(1)
        tests.append(
            {
                None: lambda c, b=bound: c == b,
                "gt": lambda c, b=bound: c > b,
                "gte": lambda c, b=bound: c >= b,
                "lt": lambda c, b=bound: c < b,
                "lte": lambda c, b=bound: c <= b,
            }[op]
        )
    return lambda created: all(test(created) for test in tests)


def lister(name: str) -> Callable[[SimRequest], SimResponse]:
    """GET /v1/<name>: `limit` (1-100, default 10), `starting_after`, `created` filters."""

    def handler(request: SimRequest) -> SimResponse:
        query = request.query
        limit = query.get("limit")
        if limit is not None and not (limit.isdigit() and 1 <= int(limit) <= 100):
            return _invalid(
                "This value must be greater than or equal to 1 and less than or equal to 100.",
                "limit",
            )
        keep = _created_filter(query)
        if keep is None:
            return _invalid("Invalid integer", "created")
        records = [r for r in _all(name, request) if keep(int(str(r["created"])))]
        after = query.get("starting_after")
        if after and after not in {r["id"] for r in records}:
            return _invalid(
                f"No such {name[:-1]}: '{after}'", "starting_after", "resource_missing", 404
            )
        page, more = page_after(records, after, bounded_limit(limit, 10, 100))
        return json_response(
            200,
            {"object": "list", "data": page, "has_more": more, "url": f"/v1/{name}"},
            _headers(),
        )

    return handler


#: Webhook endpoints created through the simulator, by endpoint id.
ENDPOINTS: dict[str, dict[str, object]] = {}
_ENDPOINT_PATH = re.compile(r"/v1/webhook_endpoints/(we_\w+)")


def _endpoint_view(endpoint_id: str, endpoint: dict[str, object], *, secret: bool) -> dict:
    view = {
        "id": endpoint_id,
        "object": "webhook_endpoint",
        "api_version": None,
        "application": None,
        "created": endpoint["created"],
        "description": endpoint["description"],
        "enabled_events": endpoint["enabled_events"],
        "livemode": False,
        "metadata": {},
        "status": "enabled",
        "url": endpoint["url"],
    }
    if secret:  # Only the creation answer carries the signing secret.
        view["secret"] = endpoint["secret"]
    return view


def _invalid(
    message: str,
    param: str,
    code: str | None = None,
    status: int = 400,
    error_type: str = "invalid_request_error",
) -> SimResponse:
    error: dict[str, object] = {"message": message, "type": error_type}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
        error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
    return json_response(status, {"error": error}, _headers())


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"Invalid URL: {url}"
    if parts.hostname in ("localhost", "127.0.0.1", "::1"):
        return (
            "Invalid URL: URL must be publicly accessible. Consider using a tool like the "
            "Stripe CLI to test webhooks locally: https://github.com/stripe/stripe-cli"
        )
    return None


def create_endpoint(request: SimRequest) -> SimResponse:
    pairs = parse_qsl(request.body.decode("utf-8", "replace"))
    form = dict(pairs)
    url = form.get("url", "")
    if not url:
        return _invalid("Missing required param: url.", "url", "parameter_missing")
    problem = _url_problem(url)
    if problem:
        return _invalid(problem, "url", "url_invalid")
    events = [value for key, value in pairs if key.startswith("enabled_events[")]
    if not events:
        return _invalid("Missing required param: enabled_events.", "enabled_events")
    endpoint_id = "we_" + secrets.token_hex(12)
    remember(
        ENDPOINTS,
        endpoint_id,
        {
            "url": url,
            "enabled_events": events,
            "description": form.get("description"),
            "created": int(time.time()),
            "secret": "whsec_" + secrets.token_urlsafe(24),
        },
    )
    return json_response(200, _endpoint_view(endpoint_id, ENDPOINTS[endpoint_id], secret=True))


def _endpoint_or_404(request: SimRequest) -> tuple[str, dict[str, object] | None]:
    match = _ENDPOINT_PATH.fullmatch(request.path)
    endpoint_id = match.group(1) if match else ""
    return endpoint_id, ENDPOINTS.get(endpoint_id)


def _no_such_endpoint(endpoint_id: str) -> SimResponse:
    return _invalid(
        f"No such webhook endpoint: '{endpoint_id}'", "id", "resource_missing", status=404
    )


def update_endpoint(request: SimRequest) -> SimResponse:
    endpoint_id, endpoint = _endpoint_or_404(request)
    if endpoint is None:
        return _no_such_endpoint(endpoint_id)
    url = request.form().get("url")
    if url is not None:
        problem = _url_problem(url)
        if problem:
            return _invalid(problem, "url", "url_invalid")
        endpoint["url"] = url
    return json_response(200, _endpoint_view(endpoint_id, endpoint, secret=False))


def delete_endpoint(request: SimRequest) -> SimResponse:
    endpoint_id, endpoint = _endpoint_or_404(request)
    if endpoint is None:
        return _no_such_endpoint(endpoint_id)
    del ENDPOINTS[endpoint_id]
    return json_response(
        200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}, _headers()
    )


def unauthorized(request: SimRequest) -> SimResponse:
    key = request.bearer()
    if not key:
        message = (
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/."
        )
    else:
        message = f"Invalid API Key provided: {_masked(key)}"
    return json_response(
        401,
        {"error": {"message": message, "type": "invalid_request_error"}},
        {**_headers(), "WWW-Authenticate": 'Basic realm="Stripe"'},
    )


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    return json_response(
        429,
        {
            "error": {
                "code": "rate_limit",
                "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                "message": "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                "type": "invalid_request_error",
            }
        },
        {**_headers(), "Retry-After": str(seconds), "Stripe-Rate-Limited-Reason": "global-rate"},
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(
        500,
        {
            "error": {
                "message": "An unknown error occurred",
                "type": "api_error",
            }
        },
        _headers(),
    )


def not_found(request: SimRequest) -> SimResponse:
    return json_response(
        404,
        {
            "error": {
                "message": f"Unrecognized request URL (GET: {request.path}).",
                "type": "invalid_request_error",
            }
        },
        _headers(),
    )


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/v1/account", account),
        Route("GET", r"/v1/balance", balance),
        Route("GET", r"/v1/customers", lister("customers")),
        Route("GET", r"/v1/charges", lister("charges")),
        Route("GET", r"/v1/invoices", lister("invoices")),
        Route("GET", r"/v1/customers/cus_\w+", customer),
        Route("POST", r"/v1/customers", create_customer),
        Route("POST", r"/v1/refunds", create_refund),
        Route("POST", r"/v1/webhook_endpoints", create_endpoint),
        Route("POST", r"/v1/webhook_endpoints/we_\w+", update_endpoint),
        Route("DELETE", r"/v1/webhook_endpoints/we_\w+", delete_endpoint),
    ),
    credential=lambda request: looks_valid(request.bearer(), _PATTERN),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={"secret_key": SPEC.credential_fields[0].example},
)
