"""PayPal's REST API as documented: the client_credentials token, the webhook list, and the
two ways a webhook's signature is checked: the signing certificate at `PAYPAL-CERT-URL` and
POST /v1/notifications/verify-webhook-signature.

The simulator signs test-mode deliveries (events.py) with its own RSA key, public by design
(`simulator_key.pem` beside this file), and serves its certificate: the PayPal handler
trusts the simulator only for test-mode integrations (`WebhookSecrets.test_mode`), so the key
opens nothing live.
"""

import base64
import datetime as dt
import functools
import secrets
import zlib
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

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
        Route("GET", _CERT_PATH, cert, authenticated=False),
        Route("POST", r"/v1/notifications/verify-webhook-signature", verify_webhook_signature),
    ),
    credential=lambda request: looks_valid(request.bearer()),
    unauthorized=unauthorized,
    rate_limited=rate_limited,
    server_error=server_error,
    sample_credentials={field.name: field.example for field in SPEC.credential_fields},
)
