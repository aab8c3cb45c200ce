"""Gmail's API as documented: users.getProfile, plus Google's token revocation; and, for
push, the token-signing keys of a simulated Google (the trust root of test mode only).

The simulator's RSA key is public by design (`simulator_key.json` beside this file): every
api process must sign and verify with the same key, and it proves nothing more than that a
delivery came from someone who knows the integration's audience and push service account.
The Gmail handler trusts it only for test-mode integrations (`WebhookSecrets.test_mode`),
never for live ones, which trust Google's published keys alone.
"""

import functools
import json
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey

from backend.connectors.providers import _google
from backend.connectors.providers.gmail.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
)


def profile(request: SimRequest) -> SimResponse:
    return json_response(
        200,
        {
            "emailAddress": "test.user@example.com",
            "messagesTotal": 1284,
            "threadsTotal": 903,
            "historyId": "4815162342",
        },
    )


#: The push service account a test-mode integration is configured with (Pub/Sub push auth).
PUSH_SERVICE_ACCOUNT = "gmail-push@switchboard-simulator.iam.gserviceaccount.com"
_KEY_FILE = Path(__file__).with_name("simulator_key.json")


@functools.cache
def signing_key() -> RSAKey:
    """The simulated Google's private token-signing key (RS256, with its kid)."""
    return RSAKey.import_key(json.loads(_KEY_FILE.read_text()))


@functools.cache
def public_keys() -> KeySet:
    """The simulated Google's JWKS: what https://www.googleapis.com/oauth2/v3/certs is to
    live push tokens."""
    return KeySet.import_key_set({"keys": [signing_key().as_dict(private=False)]})


def certs(request: SimRequest) -> SimResponse:
    """GET /oauth2/v3/certs, Google's JWKS document, with its Cache-Control."""
    return json_response(
        200, public_keys().as_dict(private=False), {"Cache-Control": "public, max-age=21600"}
    )


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/gmail/v1/users/me/profile", profile),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
        Route("GET", r"/oauth2/v3/certs", certs, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited("gmail.googleapis.com", seconds),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
    sample_config={"service_account_email": PUSH_SERVICE_ACCOUNT},
)
