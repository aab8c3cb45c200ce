"""Stripe's API as documented: GET /v1/balance, and Stripe's {"error": {...}} objects."""

import secrets

from backend.connectors.providers.stripe.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
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
    routes=(Route("GET", r"/v1/balance", balance),),
    credential=lambda request: looks_valid(request.bearer(), _PATTERN),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    not_found=not_found,
    sample_credentials={"secret_key": SPEC.credential_fields[0].example},
)
