"""Gmail's API as documented: users.getProfile, plus Google's token revocation."""

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


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/gmail/v1/users/me/profile", profile),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited("gmail.googleapis.com", seconds),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
)
