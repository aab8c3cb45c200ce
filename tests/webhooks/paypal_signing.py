"""Sign PayPal deliveries the way PayPal does (it publishes no signing SDK): SHA256withRSA
over "{transmission_id}|{transmission_time}|{webhook_id}|{crc32(body)}" with a local key,
whose self-signed certificate the tests inject as the one at PAYPAL-CERT-URL."""

from __future__ import annotations

import base64
import time
import zlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from .helpers import NOW, rsa_key

WEBHOOK_ID = "1JE4291016473214C"
TRANSMISSION_ID = "69cd13f0-d67a-11e5-baa3-778b53f4ae55"
CERT_URL = "https://api-m.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-5edc0ebc"
KEY = rsa_key("paypal")


def paypal_time(unix: float) -> str:
    """PAYPAL-TRANSMISSION-TIME as PayPal writes it: 2025-06-15T15:06:40Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix))


def paypal_headers(
    body: bytes,
    webhook_id: str = WEBHOOK_ID,
    *,
    transmission_id: str = TRANSMISSION_ID,
    sent_at: float = NOW,
    **overrides: str,
) -> dict[str, str]:
    transmission_time = paypal_time(sent_at)
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}".encode()
    signature = KEY.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
        "PAYPAL-CERT-URL": CERT_URL,
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
        "Content-Type": "application/json",
        **overrides,
    }
