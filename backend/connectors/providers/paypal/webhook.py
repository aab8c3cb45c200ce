"""PayPal webhooks, verified online by PayPal's API or offline by certificate.

Both check a signature over "{transmission_id}|{transmission_time}|{webhook_id}|{crc32}"
(SHA256withRSA): the body enters only through its CRC32, which anyone can match with four
changed bytes, so one captured signature admits any body. What bounds that:

- The dedupe key is the signed `PAYPAL-TRANSMISSION-ID`, never the body's `id` (which a
  forger picks): a forged body under a captured signature is a duplicate of the delivery
  it was captured from. The body's SHA-256 is the second key (`signed_digest`), so the same
  event sent again in a new transmission (a retry) is a duplicate too.
- The signed `PAYPAL-TRANSMISSION-TIME` must be within `TOLERANCE_SECONDS` (5 minutes, as
  Stripe, Slack and Standard Webhooks use) of our clock, either way: long enough for clock
  skew and PayPal's queueing, short enough that a capture is useless soon after, whatever
  the store still holds. PayPal documents no window of its own.
- The signature headers are not stored, so the events API hands no one a replay kit.

API mode, the default when the integration holds its app's client id and secret:
POST /v1/notifications/verify-webhook-signature with a client-credentials token; PayPal
must answer `verification_status: SUCCESS`. Certificate mode (no client credentials, or
`config.paypal_verification = "certificate"`): the certificate at `PAYPAL-CERT-URL`, which
we only fetch over https from a PayPal API host and cache by URL.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

import httpx
import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from backend.connectors.base import (
    NormalizedEvent,
    VerifiedDelivery,
    WebhookHandler,
    WebhookRequest,
    WebhookSecrets,
    WebhookVerificationError,
)
from backend.connectors.providers.paypal.simulator import SIMULATOR
from backend.connectors.webhook_normalize import dig, from_iso, generic_event, load_json, text
from backend.connectors.webhook_schemes import (
    TOLERANCE_SECONDS,
    check_timestamp,
    decode_json,
    parse_base64,
    require_header,
)
from backend.lib.http import UnsafeURLError, check_public_url, get_client
from backend.settings import get_settings

PAYPAL_HOSTS: Final = frozenset(
    {"api.paypal.com", "api-m.paypal.com", "api.sandbox.paypal.com", "api-m.sandbox.paypal.com"}
)
DEFAULT_API_BASE: Final = "https://api-m.paypal.com"
#: The transmission headers PayPal signs with, in the verify API's field names.
TRANSMISSION_FIELDS: Final = (
    "transmission_id",
    "transmission_time",
    "transmission_sig",
    "cert_url",
    "auth_algo",
)
# PayPal writes RFC 3339 in UTC ("2025-06-15T15:06:40Z"); an offset is accepted, a bare
# date or a time without a zone is not.
_RFC3339: Final = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
)
# Longer than any real transmission header; the id must also fit the dedupe key column.
_MAX_HEADER_CHARS: Final = 2048
_MAX_ID_CHARS: Final = 255


class _Event(msgspec.Struct):
    id: str
    event_type: str


class CertificateSource(Protocol):
    """Where PayPal signing certificates come from (tests inject a local one)."""

    async def certificate(self, url: str) -> x509.Certificate: ...


def check_cert_url(url: str) -> str:
    """Only https URLs on PayPal's API hosts (default port, no credentials) are fetched."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookVerificationError("malformed PAYPAL-CERT-URL header") from exc
    if (
        parts.scheme != "https"
        or parts.hostname not in PAYPAL_HOSTS
        or port not in (None, 443)
        or parts.username is not None
    ):
        raise WebhookVerificationError("PAYPAL-CERT-URL is not a PayPal certificate URL")
    return url


class PayPalCertificateSource:
    """Fetches certificates with the shared client; caches a bounded number by URL."""

    def __init__(self, max_entries: int = 64, http: httpx.AsyncClient | None = None) -> None:
        self.max_entries = max_entries
        self.http = http
        self._cache: OrderedDict[str, x509.Certificate] = OrderedDict()

    async def certificate(self, url: str) -> x509.Certificate:
        cached = self._cache.get(url)
        if cached is not None:
            self._cache.move_to_end(url)
            return cached
        try:
            response = await (self.http or get_client()).get(check_cert_url(url))
            response.raise_for_status()
            cert = x509.load_pem_x509_certificate(response.content)
        except (httpx.HTTPError, ValueError) as exc:
            raise WebhookVerificationError("could not load the PayPal certificate") from exc
        self._cache[url] = cert
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return cert


#: The process-wide certificate source; tests replace it (or pass one to `PayPalWebhook`).
CERTIFICATE_SOURCE: CertificateSource = PayPalCertificateSource()


@dataclass(frozen=True, slots=True)
class Transmission:
    """The signed transmission headers, checked for shape and freshness (not yet signature)."""

    transmission_id: str
    transmission_time: str
    transmission_sig: str
    cert_url: str
    auth_algo: str

    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in TRANSMISSION_FIELDS}


def _transmission_header(request: WebhookRequest, field: str) -> str:
    name = "PAYPAL-" + field.upper().replace("_", "-")
    value = require_header(request, name)
    limit = _MAX_ID_CHARS if field == "transmission_id" else _MAX_HEADER_CHARS
    # PayPal's values are printable ASCII; anything else cannot be PayPal's.
    if len(value) > limit or not value.isascii() or not value.isprintable():
        raise WebhookVerificationError(f"malformed {name} header")
    return value


def transmission_unix_time(value: str) -> float:
    """Seconds since the epoch of a PAYPAL-TRANSMISSION-TIME value, or reject."""
    parsed = None
    if _RFC3339.fullmatch(value):
        try:
            parsed = from_iso(value)
        except OverflowError:  # a year-1 time with a positive offset
            parsed = None
    if parsed is None:
        raise WebhookVerificationError("malformed PAYPAL-TRANSMISSION-TIME header")
    return parsed.timestamp()


def read_transmission(request: WebhookRequest) -> Transmission:
    """The transmission headers, rejected when malformed or outside the tolerance window."""
    transmission = Transmission(
        **{f: _transmission_header(request, f) for f in TRANSMISSION_FIELDS}
    )
    sent_at = transmission_unix_time(transmission.transmission_time)
    try:
        check_timestamp(int(sent_at), request.received_at, TOLERANCE_SECONDS)
    except WebhookVerificationError:
        raise WebhookVerificationError(
            f"PAYPAL-TRANSMISSION-TIME outside the {TOLERANCE_SECONDS} s tolerance"
        ) from None
    return transmission


def webhook_ids(secrets: WebhookSecrets) -> list[str]:
    """The configured webhook ids (PayPal's are short printable ASCII); none → reject."""
    ids = [s for s in secrets.signing_secrets if s and s.isascii() and s.isprintable()]
    if not ids:
        raise WebhookVerificationError("no PayPal webhook id configured")
    return ids


def expected_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    crc = zlib.crc32(body) & 0xFFFFFFFF
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


class PayPalApiVerifier:
    """The online check: PayPal verifies its own signature for us.

    `http` is injectable for tests; tokens are cached per (api base, client id) until
    shortly before they expire.
    """

    def __init__(self, http: httpx.AsyncClient | None = None) -> None:
        self.http = http
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    async def verify(
        self, transmission: Transmission, request: WebhookRequest, secrets: WebhookSecrets
    ) -> None:
        """Pass when PayPal confirms the signature for any configured webhook id; the body
        must already be known to be a JSON object (it is spliced in as received)."""
        base = await self._api_base(secrets.config.get("api_base_url") or DEFAULT_API_BASE)
        fields = transmission.fields()
        token = await self._token(base, secrets.credentials)
        for webhook_id in webhook_ids(secrets):
            # The event is spliced in as received: re-serializing it can change the bytes.
            document = (
                msgspec.json.encode({**fields, "webhook_id": webhook_id})[:-1]
                + b',"webhook_event":'
                + request.body
                + b"}"
            )
            answer = await self._post(
                f"{base}/v1/notifications/verify-webhook-signature",
                content=document,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if dig(answer, "verification_status") == "SUCCESS":
                return
        raise WebhookVerificationError("PayPal did not confirm the signature")

    async def _api_base(self, base: Any) -> str:
        if not isinstance(base, str):
            raise WebhookVerificationError("malformed api_base_url")
        base = base.rstrip("/")
        try:
            host = urlsplit(base).hostname
        except ValueError as exc:
            raise WebhookVerificationError("malformed api_base_url") from exc
        if host not in PAYPAL_HOSTS:
            try:  # a tenant-supplied host: the SSRF guard decides
                await check_public_url(base, get_settings().allowed_private_hosts)
            except UnsafeURLError as exc:
                raise WebhookVerificationError("api_base_url is not allowed") from exc
        return base

    async def _token(self, base: str, credentials: dict[str, Any]) -> str:
        if not has_client_credentials(credentials):
            raise WebhookVerificationError("no PayPal client credentials configured")
        client_id, secret = credentials["client_id"], credentials["client_secret"]
        cached = self._tokens.get((base, client_id))
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        answer = await self._post(
            f"{base}/v1/oauth2/token",
            content=b"grant_type=client_credentials",
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        token, expires_in = dig(answer, "access_token"), dig(answer, "expires_in")
        if not isinstance(token, str):
            raise WebhookVerificationError("PayPal refused the client credentials")
        lifetime = expires_in if isinstance(expires_in, int) else 300
        self._tokens[(base, client_id)] = (token, time.monotonic() + max(0, lifetime - 60))
        return token

    async def _post(self, url: str, *, content: bytes, headers: dict[str, str]) -> Any:
        try:
            response = await (self.http or get_client()).post(url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise WebhookVerificationError("could not reach PayPal") from exc
        if response.status_code >= 400:
            raise WebhookVerificationError(f"PayPal answered {response.status_code}")
        try:
            return msgspec.json.decode(response.content)
        except (msgspec.DecodeError, RecursionError) as exc:
            raise WebhookVerificationError("PayPal answered malformed JSON") from exc


#: The process-wide API verifier; tests replace it (or pass one to `PayPalWebhook`).
API_VERIFIER = PayPalApiVerifier()


def has_client_credentials(credentials: dict[str, Any]) -> bool:
    """Whether the integration holds its app's client id and secret (API mode possible)."""
    values = (credentials.get("client_id"), credentials.get("client_secret"))
    return all(isinstance(value, str) and value and value.isascii() for value in values)


def verification_mode(secrets: WebhookSecrets) -> str:
    """`config.paypal_verification` when set, else PayPal's API whenever credentials allow."""
    mode = secrets.config.get("paypal_verification")
    if mode is None:
        return "api" if has_client_credentials(secrets.credentials) else "certificate"
    if mode not in ("api", "certificate"):
        raise WebhookVerificationError("unsupported paypal_verification mode")
    return str(mode)


# A test-mode integration's PayPal is the simulator (in process): its certificate and its
# verify-webhook-signature answer are the trust root there, and nowhere else.
_SIMULATOR_HTTP = httpx.AsyncClient(transport=SIMULATOR.transport(), timeout=5.0)
SIMULATED_CERTIFICATES = PayPalCertificateSource(http=_SIMULATOR_HTTP)
SIMULATED_API = PayPalApiVerifier(http=_SIMULATOR_HTTP)


class PayPalWebhook(WebhookHandler):
    # Never the signature, its certificate URL or algorithm: stored headers are shown by the
    # events API, and with the body they would let anyone replay the delivery.
    stored_headers = ("paypal-transmission-id", "paypal-transmission-time", "content-type")

    def __init__(
        self,
        certificates: CertificateSource | None = None,
        api: PayPalApiVerifier | None = None,
    ) -> None:
        self.certificates = certificates
        self.api = api

    async def verify(self, request: WebhookRequest, secrets: WebhookSecrets) -> VerifiedDelivery:
        webhook_ids(secrets)
        mode = verification_mode(secrets)
        transmission = read_transmission(request)
        # Decoded before any signature work: cheap, and API mode splices the body as JSON.
        event = decode_json(request.body, _Event)
        if mode == "api":
            api = SIMULATED_API if secrets.test_mode else self.api or API_VERIFIER
            await api.verify(transmission, request, secrets)
        else:
            await self._verify_certificate(transmission, request, secrets)
        return VerifiedDelivery(
            transmission.transmission_id,
            event.event_type,
            signed_digest=hashlib.sha256(request.body).digest(),
        )

    async def _verify_certificate(
        self, transmission: Transmission, request: WebhookRequest, secrets: WebhookSecrets
    ) -> None:
        signature = parse_base64(transmission.transmission_sig)
        if signature is None:
            raise WebhookVerificationError("malformed PAYPAL-TRANSMISSION-SIG header")
        if transmission.auth_algo != "SHA256withRSA":
            raise WebhookVerificationError("unsupported PAYPAL-AUTH-ALGO")
        url = check_cert_url(transmission.cert_url)
        source = (
            SIMULATED_CERTIFICATES if secrets.test_mode else self.certificates or CERTIFICATE_SOURCE
        )
        cert = await source.certificate(url)
        now = dt.datetime.fromtimestamp(request.received_at, dt.UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise WebhookVerificationError("the PayPal certificate is not currently valid")
        key = cert.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise WebhookVerificationError("the PayPal certificate is not an RSA key")
        for webhook_id in webhook_ids(secrets):
            message = expected_message(
                transmission.transmission_id,
                transmission.transmission_time,
                webhook_id,
                request.body,
            )
            try:
                key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            except InvalidSignature:
                continue
            return
        raise WebhookVerificationError("signature mismatch")

    def normalize(self, body: bytes, headers: dict[str, str]) -> NormalizedEvent:
        payload = load_json(body)
        event_type = text(dig(payload, "event_type")) or "unknown"
        resource = dig(payload, "resource")
        resource_id = text(dig(resource, "id"))
        if not event_type.startswith(("PAYMENT.", "CHECKOUT.ORDER.")):
            return generic_event(event_type, payload, resource_id)
        amount = dig(resource, "amount")
        if amount is None:  # orders carry the amount per purchase unit
            amount = dig(resource, "purchase_units", 0, "amount")
        data = {
            "event_id": text(dig(payload, "id")),
            "resource_type": text(dig(payload, "resource_type")),
            "resource_id": resource_id,
            "status": text(dig(resource, "status")) or text(dig(resource, "state")),
            "amount": text(dig(amount, "value")) or text(dig(amount, "total")),
            "currency": text(dig(amount, "currency_code")) or text(dig(amount, "currency")),
            "summary": text(dig(payload, "summary")),
            "order_id": text(dig(resource, "supplementary_data", "related_ids", "order_id")),
            "payer_id": text(dig(resource, "payer", "payer_id")),
        }
        time = from_iso(dig(payload, "create_time"))
        return NormalizedEvent(event_type, resource_id, time, data)


HANDLER = PayPalWebhook()
