"""Google Drive's API as documented: about.get (which insists on `fields`), plus revocation."""

from backend.connectors.providers import _google
from backend.connectors.providers.google_drive.spec import SPEC
from backend.connectors.simulator import (
    ProviderSimulator,
    Route,
    SimRequest,
    SimResponse,
    json_response,
)


def about(request: SimRequest) -> SimResponse:
    if not request.query.get("fields"):
        return json_response(
            400,
            {
                "error": {
                    "code": 400,
                    "message": "The 'fields' parameter is required for this method.",
                    "errors": [
                        {
                            "message": "The 'fields' parameter is required for this method.",
                            "domain": "global",
                            "reason": "required",
                            "location": "fields",
                            "locationType": "parameter",
                        }
                    ],
                }
            },
        )
    return json_response(
        200,
        {
            "user": {
                "kind": "drive#user",
                "displayName": "Test User",
                "photoLink": "https://lh3.googleusercontent.com/a/default-user=s64",
                "me": True,
                "permissionId": "07863412345678901234",
                "emailAddress": "test.user@example.com",
            }
        },
    )


SIMULATOR = ProviderSimulator(
    key=SPEC.key,
    api_base_url=SPEC.api_base_url,
    routes=(
        Route("GET", r"/about", about),
        Route("POST", r"/revoke", _google.revoke, authenticated=False),
    ),
    credential=_google.bearer_ok,
    unauthorized=_google.unauthorized,
    rate_limited=lambda request, seconds: _google.rate_limited("drive.googleapis.com", seconds),
    server_error=_google.server_error,
    sample_credentials=_google.SAMPLE_CREDENTIALS,
)
