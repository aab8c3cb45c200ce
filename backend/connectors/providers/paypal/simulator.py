"""PayPal's REST API as documented: the client_credentials token, the webhook list, and the
two ways a webhook's signature is checked: the signing certificate at `PAYPAL-CERT-URL` and
POST /v1/notifications/verify-webhook-signature; checkout orders and capture refunds
(kept in ORDERS and REFUNDS, what test mode would have sent), where a repeated
`PayPal-Request-Id` answers with the first answer
(https://developer.paypal.com/api/rest/reference/idempotency/); and the Transaction Search
a sync walks (`reporting.py`).

The simulator signs test-mode deliveries (events.py) with its own RSA key, public by design
(`simulator_key.pem` beside this file), and serves its certificate: the PayPal handler
trusts the simulator only for test-mode integrations (`WebhookSecrets.test_mode`), so the key
opens nothing live.
"""

import base64
import datetime as dt
import functools
import json
import re
import secrets
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from backend.connectors.providers.paypal import reporting
from backend.connectors.providers.paypal.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
    looks_valid,
    remember,
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


#: Where the simulator's signing certificate is served (a PayPal API host, as the handler
#: requires; in test mode the request reaches the simulator, never PayPal).
CERT_URL = "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-switchboard-sim"
_CERT_PATH = r"/v1/notifications/certs/[A-Za-z0-9-]+"
_KEY_FILE = Path(__file__).with_name("simulator_key.pem")


@functools.cache
def signing_key() -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(_KEY_FILE.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{_KEY_FILE.name} must hold an RSA key (PayPal signs SHA256withRSA)")
    return key


@functools.cache
def certificate() -> x509.Certificate:
    """The self-signed certificate of the simulator's key: the same bytes in every process
    (fixed serial and validity, deterministic PKCS#1 v1.5 signature)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "messageverificationcerts")])
    key = signing_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(0x5317C3)
        .not_valid_before(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2124, 1, 1, tzinfo=dt.UTC))
        .sign(key, hashes.SHA256())
    )


def transmission_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """What PayPal signs: "{transmission_id}|{transmission_time}|{webhook_id}|{crc32}"."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()


def sign_transmission(message: bytes) -> str:
    """PAYPAL-TRANSMISSION-SIG: base64 SHA256withRSA under the simulator's key."""
    signature = signing_key().sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def cert(request: SimRequest) -> SimResponse:
    return SimResponse(
        200,
        certificate().public_bytes(serialization.Encoding.PEM),
        {"Content-Type": "application/x-pem-file"},
    )


class _VerifyRequest(msgspec.Struct):
    transmission_id: str
    transmission_time: str
    transmission_sig: str
    cert_url: str
    auth_algo: str
    webhook_id: str
    webhook_event: msgspec.Raw


def verify_webhook_signature(request: SimRequest) -> SimResponse:
    """PayPal's answer: SUCCESS when the simulator's key signed the transmission for this
    webhook id and the event's exact bytes, FAILURE otherwise; a malformed request is 400."""
    try:
        asked = msgspec.json.decode(request.body, type=_VerifyRequest)
        signature = base64.b64decode(asked.transmission_sig, validate=True)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return json_response(
            400,
            {
                "name": "VALIDATION_ERROR",
                "message": "Invalid request - see details",
                "debug_id": _debug_id(),
            },
        )
    message = transmission_message(
        asked.transmission_id, asked.transmission_time, asked.webhook_id, bytes(asked.webhook_event)
    )
    try:
        signing_key().public_key().verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        status = "SUCCESS"
    except InvalidSignature:
        status = "FAILURE"
    return json_response(200, {"verification_status": status}, {"Paypal-Debug-Id": _debug_id()})


#: Orders and refunds created through the simulator, by id.
ORDERS: dict[str, dict[str, Any]] = {}
REFUNDS: dict[str, dict[str, Any]] = {}
#: First answers by access token, path and PayPal-Request-Id.
IDEMPOTENT: dict[str, SimResponse] = {}
_REFUND_PATH = re.compile(r"/v2/payments/captures/([A-Za-z0-9-]+)/refund")
_MONEY = re.compile(r"(?:0|[1-9][0-9]{0,16})(?:\.[0-9]{1,2})?")
_API = "https://api-m.sandbox.paypal.com"


def _paypal_id() -> str:
    return secrets.token_hex(9).upper()[:17]


def _unprocessable(issue: str, field: str, description: str) -> SimResponse:
    return json_response(
        422,
        {
            "name": "UNPROCESSABLE_ENTITY",
            "message": "The requested action could not be performed, semantically incorrect, "
            "or the business validation failed.",
            "debug_id": _debug_id(),
            "details": [
                {"field": field, "location": "body", "issue": issue, "description": description}
            ],
        },
        {"Paypal-Debug-Id": _debug_id()},
    )


def _json(request: SimRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _money_ok(money: Any) -> bool:
    return (
        isinstance(money, dict)
        and isinstance(money.get("currency_code"), str)
        and len(money["currency_code"]) == 3
        and _MONEY.fullmatch(str(money.get("value", ""))) is not None
    )


def idempotent(create: Callable[[SimRequest], SimResponse]) -> Callable[[SimRequest], SimResponse]:
    """A repeated PayPal-Request-Id gets the first answer and creates nothing."""

    def handler(request: SimRequest) -> SimResponse:
        key = request.headers.get("paypal-request-id")
        if not key:
            return create(request)
        slot = "\n".join((request.bearer() or "", request.path, key))
        if slot not in IDEMPOTENT:
            response = create(request)
            if response.status >= 500:
                return response
            remember(IDEMPOTENT, slot, response)
        first = IDEMPOTENT[slot]
        return SimResponse(
            first.status, first.body, {**first.headers, "Paypal-Debug-Id": _debug_id()}
        )

    return handler


@idempotent
def create_order(request: SimRequest) -> SimResponse:
    body = _json(request)
    if body.get("intent") not in ("CAPTURE", "AUTHORIZE"):
        return _unprocessable("INVALID_PARAMETER_VALUE", "/intent", "intent is invalid.")
    units = body.get("purchase_units")
    if (
        not isinstance(units, list)
        or not units
        or not all(isinstance(u, dict) and _money_ok(u.get("amount")) for u in units)
    ):
        return _unprocessable(
            "INVALID_PARAMETER_VALUE", "/purchase_units/0/amount", "amount is invalid."
        )
    order_id = _paypal_id()
    payer_action = "paypal" in (body.get("payment_source") or {})
    status = "PAYER_ACTION_REQUIRED" if payer_action else "CREATED"
    approve = {
        "href": f"https://www.sandbox.paypal.com/checkoutnow?token={order_id}",
        "rel": "payer-action" if payer_action else "approve",
        "method": "GET",
    }
    order: dict[str, Any] = {
        "id": order_id,
        "status": status,
        "links": [
            {"href": f"{_API}/v2/checkout/orders/{order_id}", "rel": "self", "method": "GET"},
            approve,
            {"href": f"{_API}/v2/checkout/orders/{order_id}", "rel": "update", "method": "PATCH"},
            {
                "href": f"{_API}/v2/checkout/orders/{order_id}/{body['intent'].lower()}",
                "rel": body["intent"].lower(),
                "method": "POST",
            },
        ],
    }
    if payer_action:
        order["payment_source"] = {"paypal": {}}
    remember(ORDERS, order_id, {"request": body, "status": status})
    return json_response(201, order, {"Paypal-Debug-Id": _debug_id()})


@idempotent
def refund_capture(request: SimRequest) -> SimResponse:
    match = _REFUND_PATH.fullmatch(request.path)
    capture_id = match.group(1) if match else ""
    if "MISSING" in capture_id.upper():
        return json_response(
            404,
            {
                "name": "RESOURCE_NOT_FOUND",
                "message": "The specified resource does not exist.",
                "debug_id": _debug_id(),
                "details": [
                    {
                        "issue": "INVALID_RESOURCE_ID",
                        "description": "Specified resource ID does not exist.",
                    }
                ],
            },
        )
    body = _json(request)
    if "amount" in body and not _money_ok(body["amount"]):
        return _unprocessable("INVALID_PARAMETER_VALUE", "/amount", "amount is invalid.")
    refund_id = _paypal_id()
    remember(REFUNDS, refund_id, {"capture_id": capture_id, "request": body})
    return json_response(
        201,
        {
            "id": refund_id,
            "status": "COMPLETED",
            "links": [
                {"href": f"{_API}/v2/payments/refunds/{refund_id}", "rel": "self", "method": "GET"},
                {"href": f"{_API}/v2/payments/captures/{capture_id}", "rel": "up", "method": "GET"},
            ],
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
        Route("GET", r"/v1/reporting/transactions", reporting.search),
        Route("GET", _CERT_PATH, cert, authenticated=False),
        Route("POST", r"/v1/notifications/verify-webhook-signature", verify_webhook_signature),
        Route("POST", r"/v2/checkout/orders", create_order),
        Route("POST", _REFUND_PATH.pattern, refund_capture),
    ),
    credential=lambda request: looks_valid(request.bearer()),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
