"""PayPal's REST API as documented: the client_credentials token and the webhook list."""

import secrets

from backend.connectors.providers.paypal.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
)

_ID, _SECRET = (field.pattern for field in SPEC.credential_fields)
_TOKEN_PATH = "/v1/oauth2/token"


def _debug_id() -> str:
    return secrets.token_hex(6)


def token(request: SimRequest) -> SimResponse:
    basic = request.basic()
    if basic is None or not (looks_valid(basic[0], _ID) and looks_valid(basic[1], _SECRET)):
        return unauthorized(request)
    if request.form().get("grant_type") != "client_credentials":
        return json_response(
            400,
            {"error": "unsupported_grant_type", "error_description": "Grant Type is NULL"},
        )
    return json_response(
        200,
        {
            "scope": "https://uri.paypal.com/services/payments/realtimepayment "
            "https://uri.paypal.com/services/applications/webhooks openid",
            "access_token": "A21AAsimulated" + secrets.token_urlsafe(24).replace("-", "x"),
            "token_type": "Bearer",
            "app_id": "APP-80W284485P519543T",
            "expires_in": 32400,
            "nonce": "2024-05-08T12:00:00Z" + secrets.token_hex(8),
        },
        {"Paypal-Debug-Id": _debug_id()},
    )


def webhooks(request: SimRequest) -> SimResponse:
    return json_response(
        200,
        {
            "webhooks": [
                {
                    "id": "40Y916089Y8324740",
                    "url": "https://example.com/example_webhook",
                    "event_types": [
                        {
                            "name": "PAYMENT.CAPTURE.COMPLETED",
                            "description": "A payment capture completes.",
                        }
                    ],
                    "links": [
                        {
                            "href": "https://api-m.paypal.com/v1/notifications/webhooks/40Y916089Y8324740",
                            "rel": "self",
                            "method": "GET",
                        }
                    ],
                }
            ]
        },
        {"Paypal-Debug-Id": _debug_id()},
    )


def unauthorized(request: SimRequest) -> SimResponse:
    body: dict[str, object]
    if request.path == _TOKEN_PATH:
        body = {"error": "invalid_client", "error_description": "Client Authentication failed"}
    else:
        body = {
            "name": "AUTHENTICATION_FAILURE",
            "message": "Authentication failed due to missing authorization header, or invalid "
            "authentication credentials.",
            "debug_id": _debug_id(),
            "details": [],
            "links": [
                {
                    "href": "https://developer.paypal.com/api/rest/reference/orders/v2/errors/#AUTHENTICATION_FAILURE",
                    "rel": "information_link",
                }
            ],
        }
    return json_response(401, body, {"Paypal-Debug-Id": _debug_id()})


def rate_limited(request: SimRequest, seconds: int) -> SimResponse:
    return json_response(
        429,
        {
            "name": "RATE_LIMIT_REACHED",
            "message": "Too many requests. Blocked due to rate limiting.",
            "debug_id": _debug_id(),
            "information_link": "https://developer.paypal.com/api/rest/reference/rate-limiting/",
        },
        {"Retry-After": str(seconds), "Paypal-Debug-Id": _debug_id()},
    )


def server_error(request: SimRequest) -> SimResponse:
    return json_response(
        500,
        {
            "name": "INTERNAL_SERVER_ERROR",
            "message": "An internal server error occurred.",
            "debug_id": _debug_id(),
            "links": [
                {
                    "href": "https://developer.paypal.com/api/rest/reference/orders/v2/errors/#INTERNAL_SERVER_ERROR",
                    "rel": "information_link",
                }
            ],
        },
    )


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("POST", _TOKEN_PATH, token, authenticated=False),
        Route("GET", r"/v1/notifications/webhooks", webhooks),
    ),
    credential=lambda request: looks_valid(request.bearer()),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
